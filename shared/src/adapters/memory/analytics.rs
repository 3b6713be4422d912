//! Analytics facts, rows and customer figures, in memory.

use super::MemoryStore;
use crate::domain::analytics::{Counters, CustomerFigures, OrderFact, RowKey};
use crate::domain::{CustomerId, OrderId};
use crate::ports::{AnalyticsRepository, FactCommit, StoreError};
use chrono::NaiveDate;
use std::collections::BTreeMap;

#[async_trait::async_trait]
impl AnalyticsRepository for MemoryStore {
    async fn order_fact(&self, order: &OrderId) -> Result<Option<OrderFact>, StoreError> {
        self.read(|s| s.facts.get(order).cloned())
    }

    async fn commit_fact(&self, c: &FactCommit<'_>) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        let recorded = s.facts.get(&c.next.order_id).map(|f| f.version);
        let customer = s.customer_figures.get(&c.next.customer_id).map(|f| f.version);
        if recorded != c.previous.map(|f| f.version) || c.customer.is_some_and(|(_, read)| customer != read) {
            return Err(StoreError::StaleVersion);
        }
        s.facts.insert(c.next.order_id.clone(), c.next.clone());
        for (k, counters) in c.rows {
            let row = s.analytics_rows.entry(k.clone()).or_default();
            for (name, v) in counters {
                *row.entry(name.clone()).or_insert(0) += v;
            }
        }
        if let Some((figures, _)) = c.customer {
            s.customer_figures.insert(c.next.customer_id.clone(), figures.clone());
        }
        Ok(())
    }

    async fn rows(&self, from: NaiveDate, to: NaiveDate) -> Result<BTreeMap<RowKey, Counters>, StoreError> {
        // As the table reads them: a counter back at zero is not a figure.
        self.read(|s| {
            s.analytics_rows
                .iter()
                .filter(|(k, _)| k.day >= from && k.day <= to)
                .map(|(k, v)| (k.clone(), v.iter().filter(|(_, n)| **n != 0).map(|(n, x)| (n.clone(), *x)).collect()))
                .collect()
        })
    }

    async fn customer_figures(&self, customer: &CustomerId) -> Result<Option<CustomerFigures>, StoreError> {
        self.read(|s| s.customer_figures.get(customer).cloned())
    }

    async fn clear_rows(&self, from: NaiveDate, to: NaiveDate) -> Result<usize, StoreError> {
        let mut s = self.lock()?;
        let before = s.analytics_rows.len();
        s.analytics_rows.retain(|k, _| k.day < from || k.day > to);
        Ok(before - s.analytics_rows.len())
    }

    async fn claim_rebuild(&self, owner: &str, until: i64) -> Result<(), StoreError> {
        let now = self.now().timestamp();
        let mut s = self.lock()?;
        if s.rebuild_lease.as_ref().is_some_and(|(_, u)| *u >= now) {
            return Err(StoreError::AlreadyExists);
        }
        s.rebuild_lease = Some((owner.to_owned(), until));
        Ok(())
    }

    async fn release_rebuild(&self, owner: &str) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        if s.rebuild_lease.as_ref().is_some_and(|(o, _)| o == owner) {
            s.rebuild_lease = None;
        }
        Ok(())
    }
}
