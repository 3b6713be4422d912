//! Erasure of personal data that sits around an order rather than in its own fields: free text
//! (timeline notes, cases, returns), documents that print the address (labels), and the stored
//! placement response. The order's own fields change through `OrderChanges::commit`.

use super::StoreError;
use crate::domain::{CustomerId, OrderId};

#[async_trait::async_trait]
pub trait PersonalData: Send + Sync {
    /// In every record filed under `order` other than the order itself, replaces each needle
    /// with `[erased]`; deletes the order's shipping and return label documents. Returns how
    /// many records changed. Running it again changes nothing more.
    async fn scrub_order_records(&self, order: &OrderId, needles: &[String]) -> Result<usize, StoreError>;

    /// Replaces the stored response of an idempotency record that exists (its expiry kept);
    /// whether there was one.
    async fn rewrite_idempotency(&self, customer: &CustomerId, key: &str, response: &str) -> Result<bool, StoreError>;
}
