//! Webhook subscriptions and deliveries, in memory.

use super::MemoryStore;
use crate::domain::Write;
use crate::domain::webhooks::{Delivery, Subscription};
use crate::ports::{StoreError, WebhookRepository};
use chrono::{DateTime, Utc};

#[async_trait::async_trait]
impl WebhookRepository for MemoryStore {
    async fn put_subscription(&self, w: &Write<Subscription>) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        let v = w.value();
        let current = s.webhook_subscriptions.get(&v.id).map(|c| c.version);
        match (w, current) {
            (Write::Create(_), Some(_)) => return Err(StoreError::AlreadyExists),
            (Write::Update { expected_version, .. }, c) if c != Some(*expected_version) => {
                return Err(StoreError::StaleVersion);
            }
            _ => {}
        }
        s.webhook_subscriptions.insert(v.id.clone(), v.clone());
        Ok(())
    }

    async fn get_subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        self.read(|s| s.webhook_subscriptions.get(id).cloned())
    }

    async fn list_subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        self.read(|s| s.webhook_subscriptions.values().cloned().collect())
    }

    async fn delete_subscription(&self, id: &str) -> Result<(), StoreError> {
        self.lock()?.webhook_subscriptions.remove(id);
        Ok(())
    }

    async fn create_delivery(&self, d: &Delivery) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        let k = (d.subscription_id.clone(), d.occurred_at, d.event_id.clone());
        if s.webhook_deliveries.contains_key(&k) {
            return Err(StoreError::AlreadyExists);
        }
        s.webhook_deliveries.insert(k, d.clone());
        Ok(())
    }

    async fn save_delivery(&self, d: &Delivery) -> Result<(), StoreError> {
        let k = (d.subscription_id.clone(), d.occurred_at, d.event_id.clone());
        self.lock()?.webhook_deliveries.insert(k, d.clone());
        Ok(())
    }

    async fn get_delivery(&self, sub: &str, at: DateTime<Utc>, event: &str) -> Result<Option<Delivery>, StoreError> {
        self.read(|s| s.webhook_deliveries.get(&(sub.to_owned(), at, event.to_owned())).cloned())
    }

    async fn request_replay(&self, sub: &str, since: DateTime<Utc>) -> Result<(), StoreError> {
        self.lock()?.webhook_replays.push((sub.to_owned(), since));
        Ok(())
    }

    async fn deliveries(&self, sub: &str, since: DateTime<Utc>, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        self.read(|s| {
            s.webhook_deliveries
                .range((sub.to_owned(), since, String::new())..)
                .take_while(|((id, _, _), _)| id == sub)
                .map(|(_, d)| d.clone())
                .take(limit)
                .collect()
        })
    }
}
