//! An order change: everything one business action does to an order and what travels with it
//! (stock movements, shipments, returns, cases, documents, timeline entries, and the effects to
//! run after commit), computed by pure code and committed as one unit by
//! `ports::OrderChanges::commit`, or refused whole.

use super::Cart;
pub use super::effects::{Deferral, Effect, Notification, OutboxEntry};
use super::ids::{CustomerId, LocationId, OrderId, ReturnId, ShipmentId, Sku};
use super::order::{Order, Reservation, ReservationState, Shipment, TimelineEvent};
use super::returns::Rma;
use super::stock::StockLevel;
use super::support::Case;
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
    /// What the movement does to (on hand, available, held, allocated), per unit.
    fn unit(self) -> [i64; 4] {
        match self {
            StockMove::Hold => [0, -1, 1, 0],
            StockMove::ReleaseHold => [0, 1, -1, 0],
            StockMove::Allocate => [0, 0, -1, 1],
            StockMove::ReleaseAllocation => [0, 1, 0, -1],
            StockMove::Ship => [-1, 0, 0, -1],
            StockMove::Restock => [1, 1, 0, 0],
        }
    }
}

/// The net effect of a change's movements on one stock item: written as one conditional
/// update (a stock item is written at most once per commit), refused when any counter would
/// go below zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockDelta {
    pub sku: Sku,
    pub location_id: LocationId,
    pub shard: u16,
    /// What is added to each counter (negative: taken).
    pub delta: StockLevel,
    /// Some movement takes available units (a hold): refusing it means out of stock.
    pub takes_available: bool,
    /// Available units a hold must leave on the item (the safety stock kept back from the
    /// order's channel, on the base item): the condition of the hold's own write.
    #[serde(default, skip_serializing_if = "super::stock::is_zero_i64")]
    pub keep: i64,
}

impl StockDelta {
    pub fn of(m: &StockMovement) -> Self {
        let mut d = StockDelta {
            sku: m.sku.clone(),
            location_id: m.location_id.clone(),
            shard: m.shard,
            delta: StockLevel::default(),
            takes_available: false,
            keep: 0,
        };
        d.add(m);
        d
    }

    fn add(&mut self, m: &StockMovement) {
        let q = i64::from(m.quantity);
        let [o, a, h, l] = m.movement.unit();
        self.delta.on_hand += o * q;
        self.delta.available += a * q;
        self.delta.held += h * q;
        self.delta.allocated += l * q;
        self.takes_available |= m.movement == StockMove::Hold;
        if m.movement == StockMove::Hold {
            self.keep = self.keep.max(m.keep);
        }
    }

    /// The least the item's available units may be before the delta: what it takes plus what
    /// a hold must leave (0 when it does not lower them).
    pub fn available_needed(&self) -> i64 {
        if self.delta.available < 0 { -self.delta.available + self.keep } else { 0 }
    }

    pub fn is_zero(&self) -> bool {
        self.delta == StockLevel::default()
    }

    /// Whether the delta adds available or on-hand units (a release, a restock): units others
    /// may take at once, so it cannot be undone safely.
    pub fn gives(&self) -> bool {
        self.delta.available > 0 || self.delta.on_hand > 0
    }

    /// A delta that only gives back (adds nothing held or allocated): safe to apply after its
    /// change has committed.
    pub fn only_gives(&self) -> bool {
        self.gives() && self.delta.held <= 0 && self.delta.allocated <= 0
    }

    /// The delta that undoes this one (for a delta that does not give, always possible).
    pub fn reversed(&self) -> StockDelta {
        let d = self.delta;
        StockDelta {
            delta: StockLevel { on_hand: -d.on_hand, available: -d.available, held: -d.held, allocated: -d.allocated },
            takes_available: false,
            keep: 0,
            ..self.clone()
        }
    }

    /// The level after the change, or `None` when a counter would go below zero.
    pub fn apply(&self, l: StockLevel) -> Option<StockLevel> {
        let d = self.delta;
        let next = StockLevel {
            on_hand: l.on_hand + d.on_hand,
            available: l.available + d.available,
            held: l.held + d.held,
            allocated: l.allocated + d.allocated,
        };
        let kept = l.available >= self.available_needed();
        (kept && next.on_hand >= 0 && next.available >= 0 && next.held >= 0 && next.allocated >= 0).then_some(next)
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
    /// The stock shard moved (0 for unsharded stock).
    #[serde(default, skip_serializing_if = "super::stock::is_zero")]
    pub shard: u16,
    /// A hold's available units to leave on the item (safety stock; see `StockDelta::keep`).
    #[serde(default, skip_serializing_if = "super::stock::is_zero_i64")]
    pub keep: i64,
}

impl StockMovement {
    pub fn new(sku: &Sku, location_id: &LocationId, movement: StockMove, quantity: u32) -> Self {
        StockMovement { sku: sku.clone(), location_id: location_id.clone(), movement, quantity, shard: 0, keep: 0 }
    }

    /// A movement of a reservation's units, on the shard it took them from.
    pub fn of_reservation(r: &Reservation, movement: StockMove) -> Self {
        StockMovement { shard: r.shard, ..Self::new(&r.sku, &r.location_id, movement, r.quantity) }
    }
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

/// What an idempotency key did: the request it was used for (hash) and the order it placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub order_id: OrderId,
    pub status_code: u16,
    /// The response to replay; empty when a replay renders the current state instead.
    #[serde(default, skip_serializing_if = "String::is_empty")]
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
    /// Invoices and credit notes issued by the change, each taking the next number of its
    /// series on condition the series is still where it was read.
    pub documents: Vec<super::invoice::DocumentIssue>,
    /// The order's after-delivery survey (due at delivery, requested, answered).
    pub feedback: Option<Write<super::feedback::Feedback>>,
    /// A business account's credit drawn or given back with the order (versioned).
    pub company: Option<Write<super::company::Company>>,
    /// Promotion uses held or given back with the order (counters, limits as conditions).
    pub promotion_uses: Vec<super::promotion::PromotionUse>,
    /// Technician minutes held or given back with the order's visits (free minutes as the
    /// condition: `SlotFull`).
    pub slot_bookings: Vec<super::service::SlotBooking>,
    /// An adjustment's approval created or decided with the change (versioned).
    pub approval: Option<Write<super::adjustment::Approval>>,
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
        self.stock.push(StockMovement::new(sku, location, movement, quantity));
        self
    }

    /// Moves a reservation's units on the shard it took them from.
    pub fn with_reservation(mut self, r: &Reservation, movement: StockMove) -> Self {
        self.stock.push(StockMovement::of_reservation(r, movement));
        self
    }

    /// Holds on a base stock item leave what `keep` says for its SKU × location (the safety
    /// stock kept back from the order's channel): enforced by the hold's own write.
    pub fn keeping(mut self, keep: &BTreeMap<(Sku, LocationId), i64>) -> Self {
        for m in self.stock.iter_mut().filter(|m| m.movement == StockMove::Hold && m.shard == 0) {
            m.keep = keep.get(&(m.sku.clone(), m.location_id.clone())).copied().unwrap_or(0).max(0);
        }
        self
    }

    /// The order as it will be after the commit, when the change writes one.
    pub fn next_order(&self) -> Option<&Order> {
        self.order.as_ref().map(Write::value)
    }

    /// The net delta per stock item (a store writes each stock item once per commit);
    /// movements that cancel out write nothing.
    pub fn stock_deltas(&self) -> Vec<StockDelta> {
        let mut m: BTreeMap<(Sku, LocationId, u16), StockDelta> = BTreeMap::new();
        for s in self.stock.iter().filter(|s| s.quantity > 0) {
            match m.get_mut(&(s.sku.clone(), s.location_id.clone(), s.shard)) {
                Some(d) => d.add(s),
                None => {
                    m.insert((s.sku.clone(), s.location_id.clone(), s.shard), StockDelta::of(s));
                }
            }
        }
        m.into_values().filter(|d| !d.is_zero()).collect()
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
        out.push(StockMovement::of_reservation(r, movement));
        r.state = ReservationState::Released;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movements_on_the_same_item_net_out_into_one_delta() {
        let (s, l) = (Sku::parse("A").unwrap(), LocationId::parse("WH").unwrap());
        // An edit of an allocated order: its 2 allocated units go back, 3 are held anew.
        let c = OrderChange::default().with_stock(&s, &l, StockMove::ReleaseAllocation, 2).with_stock(
            &s,
            &l,
            StockMove::Hold,
            3,
        );
        let d = c.stock_deltas();
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].delta.available, d[0].delta.held, d[0].delta.allocated), (-1, 3, -2));
        assert!(d[0].takes_available);
        let level = StockLevel { on_hand: 2, available: 0, held: 0, allocated: 2 };
        assert_eq!(d[0].apply(level), None, "one unit short");
        let level = StockLevel { on_hand: 3, available: 1, held: 0, allocated: 2 };
        assert_eq!(d[0].apply(level), Some(StockLevel { on_hand: 3, available: 0, held: 3, allocated: 0 }));
        let back =
            OrderChange::default().with_stock(&s, &l, StockMove::Hold, 2).with_stock(&s, &l, StockMove::ReleaseHold, 2);
        assert!(back.stock_deltas().is_empty(), "movements that cancel out write nothing");
        // A hold keeps the safety stock on the base item: 5 available, 3 kept, 2 may go.
        let keep = [((s.clone(), l.clone()), 3)].into_iter().collect();
        let hold = |q| OrderChange::default().with_stock(&s, &l, StockMove::Hold, q).keeping(&keep).stock_deltas();
        let five = StockLevel::with_on_hand(5).unwrap();
        assert!(hold(2)[0].apply(five).is_some());
        assert_eq!(hold(3)[0].apply(five), None, "it would take a kept unit");
    }

    #[test]
    fn stock_moves_follow_the_level_rules() {
        let (s, l) = (Sku::parse("A").unwrap(), LocationId::parse("WH").unwrap());
        let mv =
            |m: StockMove, q: u32, level: StockLevel| StockDelta::of(&StockMovement::new(&s, &l, m, q)).apply(level);
        let start = StockLevel::with_on_hand(2).unwrap();
        let held = mv(StockMove::Hold, 2, start).unwrap();
        assert!(mv(StockMove::Hold, 1, held).is_none());
        let shipped = mv(StockMove::Ship, 1, mv(StockMove::Allocate, 1, held).unwrap()).unwrap();
        assert_eq!(shipped, StockLevel { on_hand: 1, available: 0, held: 1, allocated: 0 });
    }
}
