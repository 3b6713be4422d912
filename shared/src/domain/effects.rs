//! What a committed change asks to happen after it: customer notifications and provider calls,
//! recorded in the change's outbox entry and dispatched once the commit stands.

use super::ids::{CartId, OrderId, ShipmentId};
use super::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A customer notification message on the notifications queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<ShipmentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<CartId>,
    /// Consumers send at most one mail per key.
    pub dedupe_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Only this channel (an SMS or push held back by quiet hours); none: mail, and SMS and
    /// push as the customer chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<super::messaging::MessageChannel>,
    /// The order version the change that sent it committed (stamped at dispatch): a reader may
    /// take an eventually consistent read at least this new instead of a consistent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_version: Option<u64>,
}

impl Notification {
    /// An order-level notification: at most one mail per (type, order).
    pub fn new(kind: &str, order: &OrderId, detail: Option<String>) -> Self {
        Notification {
            kind: kind.to_owned(),
            order_id: Some(order.clone()),
            shipment_id: None,
            cart_id: None,
            dedupe_key: format!("{kind}#{order}"),
            detail,
            channel: None,
            order_version: None,
        }
    }

    /// A shipment-level notification: at most one mail per (type, shipment).
    pub fn for_shipment(kind: &str, order: &OrderId, shipment: &ShipmentId, detail: Option<String>) -> Self {
        Notification {
            shipment_id: Some(shipment.clone()),
            dedupe_key: format!("{kind}#{order}#{shipment}"),
            ..Self::new(kind, order, detail)
        }
    }

    /// A cart reminder: at most one mail per (cart, stage, period of inactivity).
    pub fn cart_reminder(cart: &CartId, stage: &str, idle_since: &DateTime<Utc>) -> Self {
        Notification {
            kind: "cart.reminder".to_owned(),
            order_id: None,
            shipment_id: None,
            cart_id: Some(cart.clone()),
            dedupe_key: format!("cart.reminder#{cart}#{stage}#{}", idle_since.timestamp()),
            detail: Some(stage.to_owned()),
            channel: None,
            order_version: None,
        }
    }

    /// The same notification with another dedupe key (a deliberate re-send).
    pub fn with_dedupe_key(mut self, key: String) -> Self {
        self.dedupe_key = key;
        self
    }
}

/// Something to do once a change has committed, never before. Each carries the key that makes
/// running it twice harmless (the notifier's dedupe key, the provider's idempotency key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    Notify {
        notification: Notification,
    },
    VoidAuthorization {
        authorization_id: String,
        idempotency_key: String,
    },
    Refund {
        authorization_id: String,
        amount: Money,
        idempotency_key: String,
    },
    VoidLabel {
        label_id: String,
    },
    /// Takes the authorized money (a pickup order at collection: the ledger recorded the
    /// capture with the commit; the provider is asked after it, with the same key).
    Capture {
        authorization_id: String,
        amount: Money,
        idempotency_key: String,
    },
    /// Documents a payment ledger entry the change recorded (a capture: an invoice; a refund:
    /// a credit note), numbered when it is issued; `reference` is the entry's key.
    IssueDocument {
        order_id: OrderId,
        kind: super::invoice::DocumentKind,
        reference: String,
    },
    /// An exchange's replacement was cancelled or failed before it shipped: the credit it
    /// used (the returned goods' value, recorded as given on the original order) goes back to
    /// the original payment (`returns::credit_back`).
    ReturnExchangeCredit {
        return_id: super::ids::ReturnId,
    },
}

impl Effect {
    pub fn notify(n: Notification) -> Self {
        Effect::Notify { notification: n }
    }

    /// The invoice for a capture recorded under `reference`.
    pub fn invoice(order: &OrderId, reference: &str) -> Self {
        Effect::IssueDocument {
            order_id: order.clone(),
            kind: super::invoice::DocumentKind::Invoice,
            reference: reference.to_owned(),
        }
    }

    /// What cancelling or failing `order` owes the customer beyond its own payment: the
    /// exchange credit it was placed with, when it is a replacement that used some.
    pub fn credit_back(order: &super::Order) -> Option<Self> {
        let rma = order.exchange_for.clone()?;
        order.credit.filter(|c| c.amount() > 0).map(|_| Effect::ReturnExchangeCredit { return_id: rma })
    }

    /// The credit note for a refund recorded under `reference`.
    pub fn credit_note(order: &OrderId, reference: &str) -> Self {
        Effect::IssueDocument {
            order_id: order.clone(),
            kind: super::invoice::DocumentKind::CreditNote,
            reference: reference.to_owned(),
        }
    }
}

/// Effects recorded by one committed change, waiting for dispatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    pub order_id: OrderId,
    /// Unique per change (a ULID): the entry's key.
    pub id: String,
    pub effects: Vec<Effect>,
    pub created_at: DateTime<Utc>,
    /// The integration event types the change announced: published from the stream, or by the
    /// drain when the bus refused them there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// The order version the change committed (the events' sequence), when it wrote the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// What is left to do when the entry is deferred; `None` when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferral: Option<Deferral>,
}

/// What a deferred entry still has to do, and how its retries went. Effects run in order and
/// stop at the first that fails, so what is left of them is a suffix: the drain never runs an
/// effect again once it ran (a refund is not repeated after its idempotency key expired).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deferral {
    /// The first effect not known to have run (0: all of them).
    pub effects_from: usize,
    /// Whether the change's integration events still wait to be published.
    pub events: bool,
    /// Drain runs that failed so far.
    pub attempts: u32,
    /// Not tried again before this time.
    pub retry_at: Option<DateTime<Utc>>,
    /// Bumped by every deferral: the drain records its progress on condition it did not move.
    pub rev: u64,
    /// Given up after `MAX_DRAIN_ATTEMPTS`, a permanent failure, or past `RETRY_WINDOW_HOURS`:
    /// out of the drain's way, listed for an operator, who retries it (`redriven_at`).
    pub parked: bool,
    /// When an operator last retried it: the retry window counts from here, not from the commit.
    pub redriven_at: Option<DateTime<Utc>>,
}

/// Drain runs a deferred entry gets before it is parked (with the backoff below, the tenth is
/// about 17 hours after the first failure).
pub const MAX_DRAIN_ATTEMPTS: u32 = 10;

/// How long after its change (or an operator's retry) the drain may still run an entry's
/// effects: the providers keep an idempotency key 24 hours, and a retry after that could pay
/// a refund twice. An entry with effects left past it is parked, not run; events carry no such
/// risk and are published whenever the bus takes them.
pub const RETRY_WINDOW_HOURS: i64 = 20;

impl Deferral {
    /// Whether the drain may still run the entry's effects at `now`.
    pub fn within_window(&self, created_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now - self.redriven_at.unwrap_or(created_at) < chrono::Duration::hours(RETRY_WINDOW_HOURS)
    }
}

/// How long the drain waits before trying an entry again after its `attempts`th failure:
/// 5 minutes, doubling, at most 4 hours.
pub fn drain_backoff(attempts: u32) -> chrono::Duration {
    let minutes = 5i64 << attempts.saturating_sub(1).min(6);
    chrono::Duration::minutes(minutes.min(240))
}

impl OutboxEntry {
    /// A deferred entry's remaining work: what its deferral says, or (deferred by a release
    /// that recorded none) every effect and no events.
    pub fn left(&self) -> Deferral {
        self.deferral.clone().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drain_backs_off_doubling_to_four_hours_and_its_last_try_stays_within_a_day() {
        let minutes: Vec<i64> = (1..=8).map(|n| drain_backoff(n).num_minutes()).collect();
        assert_eq!(minutes, vec![5, 10, 20, 40, 80, 160, 240, 240]);
        assert_eq!(drain_backoff(u32::MAX).num_minutes(), 240);
        // The waits before attempts 2..=MAX: the last try is this long after the first failure.
        let span: i64 = (1..MAX_DRAIN_ATTEMPTS).map(|n| drain_backoff(n).num_minutes()).sum();
        assert!(span < 20 * 60, "{span} minutes");
    }
}
