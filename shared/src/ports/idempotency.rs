//! Idempotency records of placements (claimed inside the placement's `OrderChange`).

use super::StoreError;
use crate::domain::{CustomerId, IdempotencyRecord};

#[async_trait::async_trait]
pub trait IdempotencyRepository: Send + Sync {
    /// The live record for a customer's key (an expired one no longer counts).
    async fn get_idempotency(&self, customer: &CustomerId, key: &str) -> Result<Option<IdempotencyRecord>, StoreError>;
}
