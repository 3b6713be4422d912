//! Effects recorded by committed changes, waiting for dispatch. Entries are written by
//! `OrderChanges::commit` in the same atomic write as the change; the table's stream hands each
//! new entry to the dispatcher. An entry whose dispatch failed is deferred: it joins the pending
//! list, which the scheduled drain works through until its effects all ran.

use super::StoreError;
use crate::domain::{OrderId, OutboxEntry};

#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    /// Deferred entries not yet completed, oldest first, at most `limit`.
    async fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;
    /// One committed entry (pending or not): what the stream announced.
    async fn get_outbox_entry(&self, order: &OrderId, id: &str) -> Result<Option<OutboxEntry>, StoreError>;
    /// The entries an order's changes recorded, oldest first (pending or not): what an operator
    /// hands the dispatcher again after the stream gave up on a record.
    async fn effects_of_order(&self, order: &OrderId) -> Result<Vec<OutboxEntry>, StoreError>;
    /// A dispatch failed: the entry joins the pending list (deferring twice is not an error;
    /// an entry that does not exist is `NotFound`).
    async fn defer_effects(&self, order: &OrderId, id: &str) -> Result<(), StoreError>;
    /// Marks a pending entry done (it leaves the pending list); completing an entry that is not
    /// pending is not an error.
    async fn complete_effects(&self, order: &OrderId, id: &str) -> Result<(), StoreError>;
}
