//! An order change: everything one business action does to an order and what travels with it
//! (stock movements, shipments, returns, cases, documents, timeline entries, and the effects to
//! run after commit), computed by pure code and committed as one unit by
//! `ports::OrderChanges::commit`, or refused whole.

use super::ids::{CustomerId, LocationId, OrderId, ReturnId, ShipmentId, Sku};
use super::money::Money;
use super::order::{Order, ReservationState, Shipment, TimelineEvent};
use super::returns::Rma;
use super::stock::{StockError, StockLevel};
use super::support::Case;
use super::{Cart, CartId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A stock movement, applied with the condition that keeps `on_hand = available + held + allocated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockMove {
    Hold,
    ReleaseHold,
    Allocate,
    ReleaseAllocation,
    Ship,
    Restock,
}

impl StockMove {
    /// The level after the movement, or why it cannot happen.
    pub fn apply(self, level: StockLevel, quantity: u32) -> Result<StockLevel, StockError> {
        let q = i64::from(quantity);
        match self {
            StockMove::Hold => level.hold(q),
            StockMove::ReleaseHold => level.release_hold(q),
            StockMove::Allocate => level.allocate(q),
            StockMove::ReleaseAllocation => level.release_allocation(q),
            StockMove::Ship => level.ship(q),
            StockMove::Restock => level.restock(q),
        }
    }
}

/// One movement of units of a SKU at a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockMovement {
    pub sku: Sku,
    pub location_id: LocationId,
    pub movement: StockMove,
    pub quantity: u32,
}

/// How an entity is written by a change.
#[derive(Debug, Clone, PartialEq)]
pub enum Write<T> {
    /// A new entity: refused if it exists.
    Create(T),
    /// The next version of an entity read at `expected_version`: refused if it moved on.
    Update { value: T, expected_version: u64 },
    /// Rewritten as is (idempotent content, such as a cancelled shipment).
    Replace(T),
}

impl<T> Write<T> {
    pub fn value(&self) -> &T {
        match self {
            Write::Create(v) | Write::Replace(v) | Write::Update { value: v, .. } => v,
        }
    }
}

/// The response stored for an idempotency key, replayed byte for byte on a retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub order_id: OrderId,
    pub status_code: u16,
    pub response: String,
    pub created_at: DateTime<Utc>,
}

/// Idempotency records outlive any client retry window.
pub const IDEMPOTENCY_TTL_HOURS: i64 = 24;

/// A carrier label document, kept with its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelDoc {
    pub order_id: OrderId,
    pub shipment_id: ShipmentId,
    pub label_id: String,
    pub carrier: String,
    pub tracking_number: String,
    /// The PDF, base64.
    pub pdf_base64: String,
    pub created_at: DateTime<Utc>,
}

/// A return label document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnLabelDoc {
    pub pdf_base64: String,
}

/// A provider event (webhook) applied by this change: its dedupe record is written with the
/// change, so a second delivery is refused by the same write (`StoreError::DuplicateEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    pub provider: String,
    pub event_id: String,
}

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
    Notify { notification: Notification },
    VoidAuthorization { authorization_id: String, idempotency_key: String },
    Refund { authorization_id: String, amount: Money, idempotency_key: String },
    VoidLabel { label_id: String },
}

impl Effect {
    pub fn notify(n: Notification) -> Self {
        Effect::Notify { notification: n }
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

/// One business action's writes, refused or committed whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderChange {
    pub order: Option<Write<Order>>,
    pub shipments: Vec<Write<Shipment>>,
    pub returns: Vec<Write<Rma>>,
    pub cases: Vec<Write<Case>>,
    pub stock: Vec<StockMovement>,
    pub timeline: Vec<TimelineEvent>,
    /// A placement's idempotency key, claimed by the same write (`IdempotencyKeyUsed`).
    pub idempotency: Option<(CustomerId, String, IdempotencyRecord)>,
    /// A cart converted by a placement, at the version read (`CartConverted`).
    pub cart: Option<(Cart, u64)>,
    pub labels: Vec<LabelDoc>,
    pub return_labels: Vec<(ReturnId, ReturnLabelDoc)>,
    /// Payment authorizations that point back at this order (disputes name them).
    pub payment_refs: Vec<String>,
    pub provider_event: Option<ProviderEvent>,
    pub effects: Vec<Effect>,
    /// The order whose item collection holds the timeline and outbox entries.
    pub order_id: Option<OrderId>,
}

impl OrderChange {
    pub fn for_order(id: &OrderId) -> Self {
        OrderChange { order_id: Some(id.clone()), ..Default::default() }
    }

    /// A new order (version 1).
    pub fn create(order: Order) -> Self {
        let mut c = Self::for_order(&order.id);
        c.order = Some(Write::Create(order));
        c
    }

    /// The next version of an order read at `expected_version`; the version is bumped here.
    pub fn update(mut next: Order, expected_version: u64, now: DateTime<Utc>) -> Self {
        next.version = expected_version + 1;
        next.updated_at = now;
        let mut c = Self::for_order(&next.id);
        c.order = Some(Write::Update { value: next, expected_version });
        c
    }

    pub fn with_event(mut self, e: TimelineEvent) -> Self {
        self.timeline.push(e);
        self
    }

    pub fn with_effect(mut self, e: Effect) -> Self {
        self.effects.push(e);
        self
    }

    pub fn with_stock(mut self, sku: &Sku, location: &LocationId, movement: StockMove, quantity: u32) -> Self {
        self.stock.push(StockMovement { sku: sku.clone(), location_id: location.clone(), movement, quantity });
        self
    }

    /// The order as it will be after the commit, when the change writes one.
    pub fn next_order(&self) -> Option<&Order> {
        self.order.as_ref().map(Write::value)
    }

    /// Stock movements merged per SKU × location × movement (a store writes each stock item once
    /// per commit).
    pub fn merged_stock(&self) -> Vec<StockMovement> {
        let mut m: BTreeMap<(Sku, LocationId, StockMove), u32> = BTreeMap::new();
        for s in &self.stock {
            *m.entry((s.sku.clone(), s.location_id.clone(), s.movement)).or_insert(0) += s.quantity;
        }
        m.into_iter()
            .filter(|(_, q)| *q > 0)
            .map(|((sku, location_id, movement), quantity)| StockMovement { sku, location_id, movement, quantity })
            .collect()
    }
}

/// Releases every open reservation of an order (cancel, compensation): the movements, with the
/// reservations marked released.
pub fn release_reservations(order: &mut Order) -> Vec<StockMovement> {
    let mut out = Vec::new();
    for r in order.reservations.iter_mut() {
        let movement = match r.state {
            ReservationState::Held => StockMove::ReleaseHold,
            ReservationState::Allocated => StockMove::ReleaseAllocation,
            _ => continue,
        };
        out.push(StockMovement {
            sku: r.sku.clone(),
            location_id: r.location_id.clone(),
            movement,
            quantity: r.quantity,
        });
        r.state = ReservationState::Released;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movements_on_the_same_item_merge_and_each_keeps_its_kind() {
        let (s, l) = (Sku::parse("A").unwrap(), LocationId::parse("WH").unwrap());
        let c = OrderChange::default()
            .with_stock(&s, &l, StockMove::Hold, 1)
            .with_stock(&s, &l, StockMove::Hold, 2)
            .with_stock(&s, &l, StockMove::ReleaseHold, 1);
        let m = c.merged_stock();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].quantity, 3);
        assert_eq!(m[1].movement, StockMove::ReleaseHold);
    }

    #[test]
    fn stock_moves_follow_the_level_rules() {
        let l = StockLevel::with_on_hand(2).unwrap();
        let held = StockMove::Hold.apply(l, 2).unwrap();
        assert!(StockMove::Hold.apply(held, 1).is_err());
        let shipped = StockMove::Ship.apply(StockMove::Allocate.apply(held, 1).unwrap(), 1).unwrap();
        assert_eq!(shipped, StockLevel { on_hand: 1, available: 0, held: 1, allocated: 0 });
    }
}
