//! Stock per SKU × location. Movements that belong to an order travel in its `OrderChange`.

use super::StoreError;
use crate::domain::{LocationId, Sku, StockMovement, StockRecord};

#[async_trait::async_trait]
pub trait StockRepository: Send + Sync {
    /// A SKU's stock at a location, summed over its shards (`shards` says how many).
    async fn get_stock(&self, sku: &Sku, location: &LocationId) -> Result<Option<StockRecord>, StoreError>;
    /// Every stock item of a SKU across all locations, one per shard (sum per location for
    /// what a location has).
    async fn stock_for_sku(&self, sku: &Sku) -> Result<Vec<StockRecord>, StoreError>;
    /// Sets on-hand after a physical count, keeping held and allocated units where they are and
    /// spreading available units over the shards (creates the record when absent);
    /// `StockPrecondition` when on-hand would fall below what is committed.
    async fn set_on_hand(&self, sku: &Sku, location: &LocationId, on_hand: i64) -> Result<StockRecord, StoreError>;
    /// Splits a SKU's stock at a location over `shards` items (1..=MAX_STOCK_SHARDS), on-hand
    /// unchanged; `StockPrecondition` when a shard that would go still has committed units.
    async fn set_shards(&self, sku: &Sku, location: &LocationId, shards: u16) -> Result<StockRecord, StoreError>;
    /// One movement on its own, under the same guard as inside a change (`OutOfStock` for a
    /// hold, `StockPrecondition` for the others).
    async fn apply_stock_move(&self, m: &StockMovement) -> Result<(), StoreError>;
}
