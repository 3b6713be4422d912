//! Webhook subscriptions for any subscriber (`/v1/admin/webhook-subscriptions`): create (the
//! secret is shown once), list, read, delete, rotate the secret (the old one signs for 24 more
//! hours), enable again after a disable, the delivery log, and a replay from a time.

use super::Oms;
use super::access::{Caller, Permission};
use super::error::AppError;
use crate::domain::events::EVENT_TYPES;
use crate::domain::webhooks::{
    DELIVERY_LOG_DAYS, Delivery, MAX_SUBSCRIPTIONS, Subscription, SubscriptionStatus, check_url, new_secret,
};
use crate::domain::{Email, Write};
use crate::ports::{Clock, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionRequest {
    pub url: String,
    pub event_types: Vec<String>,
    pub contact_email: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// A subscription as the API shows it: never the secrets, except the one just made.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub contact_email: String,
    pub status: SubscriptionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    pub consecutive_failures: u32,
    /// When the previous secret stops signing (after a rotation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Only in the answer to a create or a rotation: store it, it is not shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl SubscriptionView {
    fn of(s: &Subscription, secret: Option<String>) -> Self {
        SubscriptionView {
            id: s.id.clone(),
            url: s.url.clone(),
            event_types: s.event_types.clone(),
            description: s.description.clone(),
            contact_email: s.contact_email.to_string(),
            status: s.status,
            disabled_reason: s.disabled_reason.clone(),
            consecutive_failures: s.consecutive_failures,
            previous_secret_expires_at: s.secrets.iter().filter_map(|x| x.expires_at).max(),
            secret,
            created_at: s.created_at,
            updated_at: s.updated_at,
            version: s.version,
        }
    }
}

/// A delivery log entry as the API shows it (the payload is the event as sent).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    #[serde(flatten)]
    pub delivery: Delivery,
}

fn secret() -> String {
    let mut b = [0u8; 24];
    rand::Rng::fill(&mut rand::rng(), &mut b);
    new_secret(&b)
}

impl Oms {
    fn webhooks_allowed(c: &Caller) -> Result<(), AppError> {
        if c.may(Permission::Webhooks) { Ok(()) } else { Err(AppError::Forbidden) }
    }

    async fn subscription(&self, id: &str) -> Result<Subscription, AppError> {
        if id.is_empty() || id.len() > 64 {
            return Err(AppError::NotFound);
        }
        self.store.get_subscription(id).await?.ok_or(AppError::NotFound)
    }

    fn check_request(&self, r: &SubscriptionRequest) -> Result<(Vec<String>, Email), AppError> {
        check_url(&r.url, self.webhooks_private_targets).map_err(|why| AppError::invalid_field("url", why))?;
        if r.event_types.is_empty() || r.event_types.len() > EVENT_TYPES.len() {
            return Err(AppError::invalid_field("eventTypes", "between one and every event type (or \"*\")"));
        }
        let mut types: Vec<String> = Vec::new();
        for t in &r.event_types {
            if t != "*" && !EVENT_TYPES.contains(&t.as_str()) {
                return Err(AppError::invalid_field("eventTypes", format!("{t:?} is not an event type")));
            }
            if !types.contains(t) {
                types.push(t.clone());
            }
        }
        if let Some(d) = r.description.as_deref().filter(|d| !d.trim().is_empty()) {
            super::text::text("description", d, 200)?;
        }
        let email = Email::parse(&r.contact_email).map_err(|e| AppError::invalid_field("contactEmail", e))?;
        Ok((types, email))
    }

    pub async fn create_webhook_subscription(
        &self,
        c: &Caller,
        r: SubscriptionRequest,
    ) -> Result<SubscriptionView, AppError> {
        Self::webhooks_allowed(c)?;
        let (event_types, contact_email) = self.check_request(&r)?;
        if self.store.list_subscriptions().await?.len() >= MAX_SUBSCRIPTIONS {
            return Err(AppError::Unprocessable {
                kind: "too-many-subscriptions",
                detail: format!("at most {MAX_SUBSCRIPTIONS} webhook subscriptions"),
            });
        }
        let now = self.clock.now();
        let current = secret();
        let description = match r.description.as_deref().filter(|d| !d.trim().is_empty()) {
            Some(d) => Some(super::text::text("description", d, 200)?),
            None => None,
        };
        let s = Subscription {
            description,
            ..Subscription::new(ulid::Ulid::new().to_string(), r.url, event_types, contact_email, current.clone(), now)
        };
        self.store.put_subscription(&Write::Create(s.clone())).await?;
        tracing::info!(subscription = %s.id, "webhook subscription created");
        Ok(SubscriptionView::of(&s, Some(current)))
    }

    pub async fn webhook_subscriptions(&self, c: &Caller) -> Result<Vec<SubscriptionView>, AppError> {
        Self::webhooks_allowed(c)?;
        Ok(self.store.list_subscriptions().await?.iter().map(|s| SubscriptionView::of(s, None)).collect())
    }

    pub async fn webhook_subscription(&self, c: &Caller, id: &str) -> Result<SubscriptionView, AppError> {
        Self::webhooks_allowed(c)?;
        Ok(SubscriptionView::of(&self.subscription(id).await?, None))
    }

    pub async fn delete_webhook_subscription(&self, c: &Caller, id: &str) -> Result<(), AppError> {
        Self::webhooks_allowed(c)?;
        self.subscription(id).await?;
        Ok(self.store.delete_subscription(id).await?)
    }

    /// Changes a subscription at its latest version (retried when another writer moved it on).
    async fn change_subscription(
        &self,
        id: &str,
        f: impl Fn(&mut Subscription, DateTime<Utc>),
    ) -> Result<Subscription, AppError> {
        self.subscription(id).await?;
        match update_subscription(self.store.as_ref(), self.clock.as_ref(), id, f).await {
            Ok(Some(s)) => Ok(s),
            Ok(None) => Err(AppError::NotFound),
            Err(StoreError::StaleVersion) => {
                Err(AppError::Unavailable("the subscription is being changed by others; retry shortly".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A new secret; the previous one keeps signing for 24 hours (both signatures are sent).
    pub async fn rotate_webhook_secret(&self, c: &Caller, id: &str) -> Result<SubscriptionView, AppError> {
        Self::webhooks_allowed(c)?;
        let new = secret();
        let s = self.change_subscription(id, |s, now| s.rotate(new.clone(), now)).await?;
        Ok(SubscriptionView::of(&s, Some(new)))
    }

    /// Enables a subscription again (after a disable): its failure count starts over.
    pub async fn enable_webhook_subscription(&self, c: &Caller, id: &str) -> Result<SubscriptionView, AppError> {
        Self::webhooks_allowed(c)?;
        let s = self
            .change_subscription(id, |s, _| {
                s.status = SubscriptionStatus::Enabled;
                s.disabled_reason = None;
                s.consecutive_failures = 0;
            })
            .await?;
        Ok(SubscriptionView::of(&s, None))
    }

    /// The delivery log: events that occurred at or after `since` (default: the last day),
    /// oldest first, at most `limit` (default 50, at most 200).
    pub async fn webhook_deliveries(
        &self,
        c: &Caller,
        id: &str,
        since: Option<&str>,
        limit: Option<&str>,
    ) -> Result<Vec<DeliveryView>, AppError> {
        Self::webhooks_allowed(c)?;
        self.subscription(id).await?;
        let since = parse_since(since, self.clock.now() - Duration::days(1))?;
        let limit = match limit {
            None => 50,
            Some(l) => l
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=200).contains(l))
                .ok_or_else(|| AppError::invalid_field("limit", "an integer from 1 to 200"))?,
        };
        Ok(self
            .store
            .deliveries(id, since, limit)
            .await?
            .into_iter()
            .map(|delivery| DeliveryView { delivery })
            .collect())
    }

    /// Asks for every logged delivery since `since` to be sent again (after the request
    /// commits, the dispatcher does it); the log reaches back 30 days.
    pub async fn replay_webhooks(&self, c: &Caller, id: &str, since: &str) -> Result<DateTime<Utc>, AppError> {
        Self::webhooks_allowed(c)?;
        let sub = self.subscription(id).await?;
        if sub.status != SubscriptionStatus::Enabled {
            return Err(AppError::Conflict {
                kind: "subscription-disabled",
                detail: "enable the subscription before replaying to it".into(),
            });
        }
        let now = self.clock.now();
        let since = parse_since(Some(since), now)?;
        if since > now || since < now - Duration::days(DELIVERY_LOG_DAYS) {
            return Err(AppError::invalid_field("since", format!("within the last {DELIVERY_LOG_DAYS} days")));
        }
        self.store.request_replay(id, since).await?;
        Ok(since)
    }
}

/// Applies `f` to a subscription at its latest version, read again (after a short random
/// back-off) when another writer moved it on; `None` when there is no such subscription, the
/// subscription as read when `f` changes nothing (nothing is written), `StaleVersion` when the
/// writers never let up. The API and the webhook dispatcher both change subscriptions so.
pub(crate) async fn update_subscription(
    store: &dyn Store,
    clock: &dyn Clock,
    id: &str,
    f: impl Fn(&mut Subscription, DateTime<Utc>),
) -> Result<Option<Subscription>, StoreError> {
    for attempt in 0..20u64 {
        if attempt > 0 {
            let ms = rand::Rng::random_range(&mut rand::rng(), 5..20 * attempt.min(10));
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        let Some(current) = store.get_subscription(id).await? else { return Ok(None) };
        let mut next = current.clone();
        let now = clock.now();
        f(&mut next, now);
        if next == current {
            return Ok(Some(next));
        }
        next.version = current.version + 1;
        next.updated_at = now;
        match store.put_subscription(&Write::Update { value: next.clone(), expected_version: current.version }).await {
            Ok(()) => return Ok(Some(next)),
            Err(StoreError::StaleVersion) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::StaleVersion)
}

fn parse_since(raw: Option<&str>, default: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
    match raw {
        None => Ok(default),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| AppError::invalid_field("since", "an RFC 3339 date-time")),
    }
}
