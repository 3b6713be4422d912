//! Analytics: each order's recorded fact and the counter rows the facts add up to
//! (`domain::analytics`). Customers' lifetime figures are computed from their orders.

use super::StoreError;
use crate::domain::analytics::{Counters, OrderFact, RowKey};
use crate::domain::forecast::CoverMark;
use crate::domain::{OrderId, Sku};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// One order's fact moving from what was recorded to what the order is now.
#[derive(Debug, Clone, Copy)]
pub struct FactCommit<'a> {
    /// The fact read (`None`: none recorded yet).
    pub previous: Option<&'a OrderFact>,
    pub next: &'a OrderFact,
}

/// The most items (facts plus rows) one `commit_facts` writes: one transaction's.
pub const MAX_FACT_COMMIT_ITEMS: usize = 100;

#[async_trait::async_trait]
pub trait AnalyticsRepository: Send + Sync {
    async fn order_fact(&self, order: &OrderId) -> Result<Option<OrderFact>, StoreError>;
    /// Records every `next` fact and adds `rows` (what the facts' deltas add together), all or
    /// nothing, on condition that each recorded fact is still the one read (`StaleVersion`
    /// otherwise: read again). Several orders' facts commit together so the rows they share
    /// are written once (`TooLarge` beyond `MAX_FACT_COMMIT_ITEMS` items).
    async fn commit_facts(&self, facts: &[FactCommit<'_>], rows: &BTreeMap<RowKey, Counters>)
    -> Result<(), StoreError>;
    /// Every row of the days `[from, to]`, every shard.
    async fn rows(&self, from: NaiveDate, to: NaiveDate) -> Result<BTreeMap<RowKey, Counters>, StoreError>;
    /// Removes every row of the days `[from, to]` (a reset rebuild adds each order's whole
    /// contribution again); returns how many rows were removed.
    async fn clear_rows(&self, from: NaiveDate, to: NaiveDate) -> Result<usize, StoreError>;
    /// Takes the one reset lease for `owner` until `until` (epoch seconds): two resets at once
    /// would each add every order again. `AlreadyExists` while another holds an unexpired one.
    async fn claim_rebuild(&self, owner: &str, until: i64) -> Result<(), StoreError>;
    /// Gives the lease back (only `owner`'s).
    async fn release_rebuild(&self, owner: &str) -> Result<(), StoreError>;
    /// A SKU's days-of-cover mark (`domain::forecast::CoverMark`), if ever set.
    async fn cover_mark(&self, sku: &Sku) -> Result<Option<CoverMark>, StoreError>;
    /// The marks of many SKUs at once (a SKU without one is left out): the replenishment
    /// report reads a whole catalog's.
    async fn cover_marks(&self, skus: &[Sku]) -> Result<std::collections::HashMap<Sku, CoverMark>, StoreError> {
        let mut out = std::collections::HashMap::new();
        for sku in skus {
            if let Some(m) = self.cover_mark(sku).await? {
                out.insert(sku.clone(), m);
            }
        }
        Ok(out)
    }
    /// Sets the mark on condition its crossings are still `expected` (0: no mark yet);
    /// `false` when another run set it first.
    async fn put_cover_mark(&self, sku: &Sku, expected: u64, mark: &CoverMark) -> Result<bool, StoreError>;
}
