//! The integration event bus (EventBridge): events published after their change committed.

use crate::domain::events::{DomainEvent, InventoryEvent};

/// Where integration events go: at-least-once; consumers deduplicate on the event id. An
/// error means some event may not have been accepted: the caller publishes them all again
/// (same ids).
#[async_trait::async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), String>;
    /// Stock events (`inventory.changed`), the same way.
    async fn publish_inventory(&self, events: &[InventoryEvent]) -> Result<(), String>;
}
