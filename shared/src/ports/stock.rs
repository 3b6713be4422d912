//! Stock per SKU × location. Movements that belong to an order travel in its `OrderChange`.

use super::StoreError;
use crate::domain::inventory::StockCount;
use crate::domain::{LocationId, Sku, StockMovement, StockRecord};

#[async_trait::async_trait]
pub trait StockRepository: Send + Sync {
    /// A SKU's stock at a location, summed over its shards (`shards` says how many).
    async fn get_stock(&self, sku: &Sku, location: &LocationId) -> Result<Option<StockRecord>, StoreError>;
    /// Every stock item of a SKU across all locations, one per shard (sum per location for
    /// what a location has).
    async fn stock_for_sku(&self, sku: &Sku) -> Result<Vec<StockRecord>, StoreError>;
    /// `stock_for_sku` for many SKUs at once, at the given locations (the shop's; stock is only
    /// ever recorded at a known location): reports over a whole catalog.
    async fn stock_for_skus(&self, skus: &[Sku], locations: &[LocationId]) -> Result<Vec<StockRecord>, StoreError> {
        let mut out = Vec::new();
        for sku in skus {
            out.extend(self.stock_for_sku(sku).await?.into_iter().filter(|r| locations.contains(&r.location_id)));
        }
        Ok(out)
    }
    /// Sets on-hand after a physical count, keeping held and allocated units where they are and
    /// spreading available units over the shards (creates the record when absent);
    /// `StockPrecondition` when on-hand would fall below what is committed.
    async fn set_on_hand(&self, sku: &Sku, location: &LocationId, on_hand: i64) -> Result<StockRecord, StoreError>;
    /// Splits a SKU's stock at a location over `shards` items (1..=MAX_STOCK_SHARDS), on-hand
    /// unchanged; `StockPrecondition` when a shard that would go still has committed units.
    async fn set_shards(&self, sku: &Sku, location: &LocationId, shards: u16) -> Result<StockRecord, StoreError>;
    /// A count or adjustment from the WMS (`StockCount`): on hand set (or moved), the
    /// location's control (sequence, last count, safety stock) recorded on the base item in the
    /// same write; a count older than the last applied changes nothing (`applied: false`).
    async fn count_stock(&self, sku: &Sku, location: &LocationId, count: &StockCount) -> Result<Counted, StoreError>;
    /// Marks a location low on a SKU (the `n`th time, `Some(at)`) or recovered (`None`), on the
    /// stock's base item, on condition it is not marked so already: `false` when another writer
    /// did it first (the alert's dedupe is this write's condition).
    async fn mark_low(
        &self,
        sku: &Sku,
        location: &LocationId,
        low: Option<(u64, chrono::DateTime<chrono::Utc>)>,
    ) -> Result<bool, StoreError>;
    /// One movement on its own, under the same guard as inside a change (`OutOfStock` for a
    /// hold, `StockPrecondition` for the others).
    async fn apply_stock_move(&self, m: &StockMovement) -> Result<(), StoreError>;
}

/// What a count did: the stock after it, and whether it was applied (an older count is not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub record: StockRecord,
    pub applied: bool,
}
