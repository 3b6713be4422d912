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
}
