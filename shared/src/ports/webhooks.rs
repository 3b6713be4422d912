//! Webhook subscriptions and their delivery log.

use super::StoreError;
use crate::domain::Write;
use crate::domain::webhooks::{Delivery, Subscription};
use chrono::{DateTime, Utc};

#[async_trait::async_trait]
pub trait WebhookRepository: Send + Sync {
    /// Creates (refused if the id exists: `AlreadyExists`) or updates at the version read
    /// (`StaleVersion` if it moved on).
    async fn put_subscription(&self, s: &Write<Subscription>) -> Result<(), StoreError>;
    async fn get_subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError>;
    /// Every subscription, oldest first.
    async fn list_subscriptions(&self) -> Result<Vec<Subscription>, StoreError>;
    /// Removes a subscription (its delivery log expires on its own).
    async fn delete_subscription(&self, id: &str) -> Result<(), StoreError>;
    /// The first record of an event's delivery to a subscription: refused (`AlreadyExists`)
    /// when the event was already taken for it, so a redelivered event is sent once.
    async fn create_delivery(&self, d: &Delivery) -> Result<(), StoreError>;
    /// Records an attempt's outcome (the entry as it is now).
    async fn save_delivery(&self, d: &Delivery) -> Result<(), StoreError>;
    async fn get_delivery(
        &self,
        subscription: &str,
        occurred_at: DateTime<Utc>,
        event_id: &str,
    ) -> Result<Option<Delivery>, StoreError>;
    /// A subscription's deliveries of events that occurred at or after `since`, oldest first,
    /// at most `limit`.
    /// Records a replay request (`app::webhook_delivery::ReplayRequest`); the after-commit
    /// effects hand it to the dispatcher.
    async fn request_replay(&self, subscription: &str, since: DateTime<Utc>) -> Result<(), StoreError>;
    async fn deliveries(
        &self,
        subscription: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;
}

/// Posts a webhook delivery: the receiver's status code, or why there was none (timeout,
/// connection refused). Never follows redirects.
#[async_trait::async_trait]
pub trait WebhookSender: Send + Sync {
    async fn post(&self, url: &str, headers: &[(&str, String)], body: &[u8]) -> Result<u16, String>;
}
