use super::StoreError;
use crate::domain::Sku;
use crate::domain::backorder::Backorder;

/// Backorder requests per SKU, in arrival order, and the units waiting against the SKU's limit.
#[async_trait::async_trait]
pub trait BackorderRepository: Send + Sync {
    /// A new waiting request, on condition the units waiting stay within `limit`
    /// (`BackorderFull` otherwise, nothing written).
    async fn add_backorder(&self, b: &Backorder, limit: u32) -> Result<(), StoreError>;
    /// Every request of the SKU, oldest first.
    async fn backorders(&self, sku: &Sku) -> Result<Vec<Backorder>, StoreError>;
    async fn get_backorder(&self, sku: &Sku, id: &str) -> Result<Option<Backorder>, StoreError>;
    /// A request's status moved without settling it (`next` at `expected + 1`; its units still
    /// count): claimed for placing, or back to waiting.
    async fn update_backorder(&self, next: &Backorder, expected: u64) -> Result<(), StoreError>;
    /// A waiting request settled (`next` at `expected + 1`): its units stop counting.
    async fn settle_backorder(&self, next: &Backorder, expected: u64) -> Result<(), StoreError>;
    /// Units waiting for the SKU.
    async fn backordered_units(&self, sku: &Sku) -> Result<u32, StoreError>;
}
