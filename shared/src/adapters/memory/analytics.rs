//! Analytics facts and rows, in memory.

use super::MemoryStore;
use crate::domain::OrderId;
use crate::domain::analytics::{Counters, OrderFact, RowKey};
use crate::ports::{AnalyticsRepository, FactCommit, MAX_FACT_COMMIT_ITEMS, StoreError};
use chrono::NaiveDate;
use std::collections::BTreeMap;

#[async_trait::async_trait]
impl AnalyticsRepository for MemoryStore {
    async fn order_fact(&self, order: &OrderId) -> Result<Option<OrderFact>, StoreError> {
        self.read(|s| s.facts.get(order).cloned())
    }

    async fn commit_facts(
        &self,
        facts: &[FactCommit<'_>],
        rows: &BTreeMap<RowKey, Counters>,
    ) -> Result<(), StoreError> {
        if facts.len() + rows.len() > MAX_FACT_COMMIT_ITEMS {
            return Err(StoreError::TooLarge(facts.len() + rows.len()));
        }
        let mut s = self.lock()?;
        for c in facts {
            if s.facts.get(&c.next.order_id).map(|f| f.version) != c.previous.map(|f| f.version) {
                return Err(StoreError::StaleVersion);
            }
        }
        for c in facts {
            s.facts.insert(c.next.order_id.clone(), c.next.clone());
        }
        for (k, counters) in rows {
            let row = s.analytics_rows.entry(k.clone()).or_default();
            for (name, v) in counters {
                *row.entry(name.clone()).or_insert(0) += v;
            }
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

    async fn cover_mark(
        &self,
        sku: &crate::domain::Sku,
    ) -> Result<Option<crate::domain::forecast::CoverMark>, StoreError> {
        self.read(|s| s.cover_marks.get(sku).cloned())
    }

    async fn put_cover_mark(
        &self,
        sku: &crate::domain::Sku,
        expected: u64,
        mark: &crate::domain::forecast::CoverMark,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock()?;
        if s.cover_marks.get(sku).map_or(0, |m| m.crossings) != expected {
            return Ok(false);
        }
        s.cover_marks.insert(sku.clone(), mark.clone());
        Ok(true)
    }
}
