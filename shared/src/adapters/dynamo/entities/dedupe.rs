//! Idempotency records, provider (webhook) event ids, mail claims and preferences: small
//! items with a TTL where they are transient.

use super::super::item::{Item, n, s};
use super::super::keys;
use super::super::table::{Condition, DynamoStore};
use super::{ENTITY_ATTEMPTS, ENTITY_IDEMPOTENCY, ENTITY_MAIL, ENTITY_PREFERENCES, ENTITY_WEBHOOK};
use crate::adapters::dynamo::errors::mapping;
use crate::domain::support::Preferences;
use crate::domain::{CustomerId, IDEMPOTENCY_TTL_HOURS, IdempotencyRecord};
use crate::ports::{
    AttemptCounter, IdempotencyRepository, MailClaim, MailDedupe, PreferenceRepository, ProviderEventDedupe, StoreError,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRecord {
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailRecord {
    pub state: String,
    pub lease_until: i64,
}

/// Provider event ids are remembered this long (providers retry for days).
pub const WEBHOOK_TTL_DAYS: i64 = 30;
/// Mail claims are remembered this long.
pub const MAIL_TTL_DAYS: i64 = 90;

pub fn idempotency_item<'a>(customer: &CustomerId, key: &str, r: &'a IdempotencyRecord) -> Item<&'a IdempotencyRecord> {
    Item::new(keys::idempotency(customer, key), ENTITY_IDEMPOTENCY, r)
        .ttl((r.created_at + chrono::Duration::hours(IDEMPOTENCY_TTL_HOURS)).timestamp())
}

pub fn webhook_item(provider: &str, event_id: &str, at: DateTime<Utc>, ttl_days: i64) -> Item<WebhookRecord> {
    Item::new(keys::webhook_event(provider, event_id), ENTITY_WEBHOOK, WebhookRecord { received_at: at })
        .ttl((at + chrono::Duration::days(ttl_days)).timestamp())
}

pub fn mail_item(dedupe_key: &str, state: &str, lease_until: i64, now: DateTime<Utc>) -> Item<MailRecord> {
    Item::new(keys::mail(dedupe_key), ENTITY_MAIL, MailRecord { state: state.into(), lease_until })
        .ttl((now + chrono::Duration::days(MAIL_TTL_DAYS)).timestamp())
}

pub fn preferences_item<'a>(customer: &CustomerId, p: &'a Preferences) -> Item<&'a Preferences> {
    Item::new(keys::preferences(customer), ENTITY_PREFERENCES, p)
}

#[async_trait::async_trait]
impl IdempotencyRepository for DynamoStore {
    async fn get_idempotency(&self, customer: &CustomerId, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let item = self.get::<IdempotencyRecord>(&keys::idempotency(customer, key), true).await?;
        let now = self.clock.now().timestamp();
        // TTL deletion lags; an expired record no longer counts.
        Ok(item.filter(|i| i.expires_at.is_none_or(|t| t > now)).map(|i| i.data))
    }
}

#[async_trait::async_trait]
impl ProviderEventDedupe for DynamoStore {
    async fn webhook_seen(&self, provider: &str, event_id: &str) -> Result<bool, StoreError> {
        Ok(self.get::<WebhookRecord>(&keys::webhook_event(provider, event_id), true).await?.is_some())
    }

    async fn record_webhook_event(&self, provider: &str, event_id: &str, ttl_days: i64) -> Result<bool, StoreError> {
        let item = webhook_item(provider, event_id, self.clock.now(), ttl_days);
        match self.put(item.to_attrs().map_err(mapping)?, Condition::new("attribute_not_exists(PK)")).await {
            Ok(()) => Ok(true),
            Err(StoreError::StaleVersion) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[async_trait::async_trait]
impl MailDedupe for DynamoStore {
    async fn claim_mail(&self, dedupe_key: &str, lease_secs: i64) -> Result<MailClaim, StoreError> {
        let now = self.clock.now();
        let item = mail_item(dedupe_key, "sending", now.timestamp() + lease_secs, now);
        let condition = Condition::new("attribute_not_exists(PK) OR (#state = :sending AND leaseUntil < :now)")
            .value(":sending", s("sending"))
            .value(":now", n(now.timestamp()))
            .name("#state", "state");
        match self.put(item.to_attrs().map_err(mapping)?, condition).await {
            Ok(()) => Ok(MailClaim::Claimed),
            Err(StoreError::StaleVersion) => {
                let current = self.get::<MailRecord>(&keys::mail(dedupe_key), true).await?;
                Ok(match current.map(|i| i.data.state) {
                    Some(st) if st == "sent" => MailClaim::AlreadySent,
                    _ => MailClaim::InFlight,
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn mark_mail_sent(&self, dedupe_key: &str) -> Result<(), StoreError> {
        self.put_item(&mail_item(dedupe_key, "sent", 0, self.clock.now())).await
    }
}

/// Failures in the window that ends at `until` (epoch seconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempts {
    pub count: u32,
    pub until: i64,
}

#[async_trait::async_trait]
impl AttemptCounter for DynamoStore {
    async fn failures(&self, subject: &str) -> Result<u32, StoreError> {
        let now = self.clock.now().timestamp();
        let current = self.get::<Attempts>(&keys::attempts(subject), true).await?;
        Ok(current.map(|i| i.data).filter(|a| a.until > now).map(|a| a.count).unwrap_or(0))
    }

    async fn record_failure(&self, subject: &str, window_secs: i64) -> Result<u32, StoreError> {
        for _ in 0..8 {
            let now = self.clock.now().timestamp();
            let current = self.get::<Attempts>(&keys::attempts(subject), true).await?.map(|i| i.data);
            // A new window when there is none or it ended; else one more in it, on condition
            // the count is still the one read (concurrent failures each count).
            let (next, condition) = match current.filter(|a| a.until > now) {
                None => (
                    Attempts { count: 1, until: now + window_secs },
                    Condition::new("attribute_not_exists(PK) OR #until <= :now")
                        .name("#until", "until")
                        .value(":now", n(now)),
                ),
                Some(a) => (
                    Attempts { count: a.count + 1, until: a.until },
                    Condition::new("#count = :count").name("#count", "count").value(":count", n(a.count)),
                ),
            };
            let item = Item::new(keys::attempts(subject), ENTITY_ATTEMPTS, &next).ttl(next.until + 3600);
            match self.put(item.to_attrs().map_err(mapping)?, condition).await {
                Ok(()) => return Ok(next.count),
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }
}

#[async_trait::async_trait]
impl PreferenceRepository for DynamoStore {
    async fn get_preferences(&self, customer: &CustomerId) -> Result<Preferences, StoreError> {
        Ok(self.get::<Preferences>(&keys::preferences(customer), false).await?.map(|i| i.data).unwrap_or_default())
    }

    async fn put_preferences(&self, customer: &CustomerId, p: &Preferences) -> Result<(), StoreError> {
        self.put_item(&preferences_item(customer, p)).await
    }
}
