//! Stock per SKU × location. Movements that belong to an order travel in its `OrderChange`.

use super::StoreError;
use crate::domain::{LocationId, Sku, StockMovement, StockRecord};

#[async_trait::async_trait]
pub trait StockRepository: Send + Sync {
    async fn get_stock(&self, sku: &Sku, location: &LocationId) -> Result<Option<StockRecord>, StoreError>;
    /// Stock of a SKU across all locations.
    async fn stock_for_sku(&self, sku: &Sku) -> Result<Vec<StockRecord>, StoreError>;
    /// Sets on-hand after a physical count, keeping held and allocated units (creates the
    /// record when absent); `StockPrecondition` when on-hand would fall below what is committed.
    async fn set_on_hand(&self, sku: &Sku, location: &LocationId, on_hand: i64) -> Result<StockRecord, StoreError>;
    /// One movement on its own, under the same guard as inside a change (`OutOfStock` for a
    /// hold, `StockPrecondition` for the others).
    async fn apply_stock_move(&self, m: &StockMovement) -> Result<(), StoreError>;
}
