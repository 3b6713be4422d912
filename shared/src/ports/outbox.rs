//! Effects recorded by committed changes, waiting for dispatch. Entries are written by
//! `OrderChanges::commit` in the same atomic write as the change; the dispatcher reads them
//! (from the table's stream, or by listing what is pending after a crash) and completes them.

use super::StoreError;
use crate::domain::{OrderId, OutboxEntry};

#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    /// Entries not yet completed, oldest first, at most `limit`.
    async fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;
    /// One entry, if it is still pending.
    async fn get_outbox_entry(&self, order: &OrderId, id: &str) -> Result<Option<OutboxEntry>, StoreError>;
    /// Marks an entry done (removes it); completing a completed entry is not an error.
    async fn complete_effects(&self, order: &OrderId, id: &str) -> Result<(), StoreError>;
}
