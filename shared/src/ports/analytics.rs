//! Analytics: each order's recorded fact, the counter rows the facts add up to, and customers'
//! lifetime figures (`domain::analytics`).

use super::StoreError;
use crate::domain::analytics::{Counters, CustomerFigures, OrderFact, RowKey};
use crate::domain::{CustomerId, OrderId};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// One order's fact moving from what was recorded to what the order is now.
pub struct FactCommit<'a> {
    /// The fact read (`None`: none recorded yet).
    pub previous: Option<&'a OrderFact>,
    pub next: &'a OrderFact,
    /// What each row must add (`domain::analytics::delta`).
    pub rows: &'a BTreeMap<RowKey, Counters>,
    /// The customer's figures after the change, and the version they were read at (`None`:
    /// none yet); `None` when the change leaves them as they are (nothing written).
    pub customer: Option<(&'a CustomerFigures, Option<u64>)>,
}

#[async_trait::async_trait]
pub trait AnalyticsRepository: Send + Sync {
    async fn order_fact(&self, order: &OrderId) -> Result<Option<OrderFact>, StoreError>;
    /// Records `next`, adds the rows and writes the customer's figures, all or nothing, on
    /// condition that the recorded fact and the customer's figures are still the ones read
    /// (`StaleVersion` otherwise: read again).
    async fn commit_fact(&self, c: &FactCommit<'_>) -> Result<(), StoreError>;
    /// Every row of the days `[from, to]`, every shard.
    async fn rows(&self, from: NaiveDate, to: NaiveDate) -> Result<BTreeMap<RowKey, Counters>, StoreError>;
    async fn customer_figures(&self, customer: &CustomerId) -> Result<Option<CustomerFigures>, StoreError>;
    /// Removes every row of the days `[from, to]` (a reset rebuild adds each order's whole
    /// contribution again); returns how many rows were removed.
    async fn clear_rows(&self, from: NaiveDate, to: NaiveDate) -> Result<usize, StoreError>;
    /// Takes the one reset lease for `owner` until `until` (epoch seconds): two resets at once
    /// would each add every order again. `AlreadyExists` while another holds an unexpired one.
    async fn claim_rebuild(&self, owner: &str, until: i64) -> Result<(), StoreError>;
    /// Gives the lease back (only `owner`'s).
    async fn release_rebuild(&self, owner: &str) -> Result<(), StoreError>;
}
