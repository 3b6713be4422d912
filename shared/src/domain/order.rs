//! Orders, their lines, reservations and timeline (shipments: `shipment.rs`).

use super::address::Address;
use super::catalog::ProductKind;
use super::email::Email;
use super::ids::{CustomerId, LocationId, OrderId, Sku};
use super::money::Money;
pub use super::shipment::{Shipment, ShipmentLine, ShipmentStatus};
use super::status::{IllegalTransition, OrderEvent, OrderStatus, transition_held};
pub use super::stored::StoredBody;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    App,
    CallCenter,
    Store,
    Marketplace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceLevel {
    Standard,
    Express,
    Overnight,
    Pickup,
}

impl ServiceLevel {
    pub fn as_str(&self) -> &'static str {
        match self {
            ServiceLevel::Standard => "standard",
            ServiceLevel::Express => "express",
            ServiceLevel::Overnight => "overnight",
            ServiceLevel::Pickup => "pickup",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub line_id: String,
    pub sku: Sku,
    pub name: String,
    pub kind: ProductKind,
    pub quantity: u32,
    pub unit_price: Money,
    pub subtotal: Money,
    pub tax: Money,
    pub returnable: bool,
    pub return_window_days: u16,
    /// What promotions and adjustments take off the line (tax is on the rest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Money>,
}

impl OrderLine {
    /// What the customer pays for the line before tax.
    pub fn net(&self) -> Money {
        Money::new(self.subtotal.amount() - self.discount.map_or(0, |d| d.amount()), self.subtotal.currency())
            .unwrap_or(self.subtotal)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub subtotal: Money,
    /// The lines' discounts together (total = subtotal - discount + shipping + tax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Money>,
    pub shipping: Money,
    pub tax: Money,
    pub total: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationState {
    Held,
    Allocated,
    Shipped,
    Released,
}

/// Units of one SKU reserved for this order at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    pub sku: Sku,
    pub location_id: LocationId,
    pub quantity: u32,
    pub state: ReservationState,
    /// The stock shard the units came from (0 for unsharded stock).
    #[serde(default, skip_serializing_if = "super::stock::is_zero")]
    pub shard: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub service_level: ServiceLevel,
    /// Set for store pickup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_location: Option<LocationId>,
    pub promised_by: NaiveDate,
    pub cost: Money,
    /// A store order paid at the till and taken away: collected as soon as it is staged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub take_away: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// Provider token (never card data).
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded: Option<Money>,
    /// Every authorization, capture, refund and void, with its provider reference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ledger: Vec<super::ledger::LedgerEntry>,
    /// After a decline: until when the order waits for another payment method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<super::recovery::PaymentRecovery>,
    #[serde(default, skip_serializing_if = "super::recovery::PaymentMethod::is_token")]
    pub method: super::recovery::PaymentMethod,
    /// A replacement's returned goods refunded from its exchange credit (to the original
    /// order's payment, which holds that money): never more than the credit it used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_refunded: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: OrderId,
    pub customer: CustomerId,
    pub channel: Channel,
    pub email: Email,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub shipping_address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// Shipping addresses an edit replaced (oldest first): what erasure must also remove, and
    /// what an agent sees of the order's history.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_addresses: Vec<Address>,
    pub delivery: Delivery,
    pub totals: Totals,
    pub payment: Payment,
    pub reservations: Vec<Reservation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<super::ids::CartId>,
    pub version: u64,
    /// An agent reviewed and released a hold: fraud scoring no longer holds the order.
    #[serde(default)]
    pub review_cleared: bool,
    /// While on hold: the status the hold interrupted, where a release resumes (`None`: the hold
    /// released everything, the order starts again from `placed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_from: Option<OrderStatus>,
    /// Value already paid elsewhere (the returned goods of an exchange): charged is total - credit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<Money>,
    /// For a replacement order: the return it replaces goods for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_for: Option<super::ids::ReturnId>,
    /// The Idempotency-Key the order was placed with (its stored response is found by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement_key: Option<String>,
    /// A confirmation call the order needs or had (agents see it; the customer never does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<super::confirmation::ConfirmationCall>,
    /// The version of the rules that decided the order (sourcing, confirmation call, fraud and
    /// hold rules); `None` for orders placed before rules were versioned (today's rules apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_version: Option<u32>,
    /// A pickup order waiting at the store: its code and how long it is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup: Option<super::pickup::PickupHold>,
    /// Promotions applied and agents' adjustments.
    #[serde(default, skip_serializing_if = "Discounts::is_empty")]
    pub discounts: Discounts,
    /// Technicians' visits: for service lines, repeats, warranty repairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub visits: Vec<super::service::Visit>,
    /// Warranty claims on the order's goods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warranty_claims: Vec<super::warranty::WarrantyClaim>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the store read of the order's write-once part (see `STATE_FIELDS`): a store that
    /// keeps that part apart rewrites it only when a change touched it. Not serialized, and
    /// never part of an order's equality.
    #[serde(skip)]
    pub stored_body: StoredBody,
}

/// The promotions an order uses (their uses held by its placement) and agents' adjustments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Discounts {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promotions: Vec<super::promotion::AppliedPromotion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<super::adjustment::Adjustment>,
    /// Promotions whose use the order holds (also those an edit made worth nothing until it
    /// is given back): released when the order is cancelled or fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_uses: Vec<String>,
}

impl Discounts {
    pub fn is_empty(&self) -> bool {
        self.promotions.is_empty() && self.adjustments.is_empty() && self.held_uses.is_empty()
    }
}

impl Order {
    /// The pickup hold while the order waits at the store (also while held from there): a
    /// restarted or finished order's old hold is not shown.
    pub fn waiting_pickup(&self) -> Option<&super::pickup::PickupHold> {
        let waiting = self.status == OrderStatus::ReadyForPickup
            || (self.status == OrderStatus::OnHold && self.held_from == Some(OrderStatus::ReadyForPickup));
        self.pickup.as_ref().filter(|_| waiting)
    }

    /// The payment recovery while the order waits for another payment method (also while held
    /// from there).
    pub fn waiting_payment(&self) -> Option<&super::recovery::PaymentRecovery> {
        let waiting = self.status == OrderStatus::PaymentRequired
            || (self.status == OrderStatus::OnHold && self.held_from == Some(OrderStatus::PaymentRequired));
        self.payment.recovery.as_ref().filter(|_| waiting)
    }

    /// Applies a status event; the caller persists with the version it read.
    pub fn apply(&mut self, event: OrderEvent, now: DateTime<Utc>) -> Result<OrderStatus, IllegalTransition> {
        let from = self.status;
        self.status = transition_held(from, self.held_from, event)?;
        self.held_from = match event {
            OrderEvent::HoldForReview => Some(from),
            OrderEvent::ReleaseHold | OrderEvent::Resume(_) => None,
            _ => self.held_from,
        };
        self.updated_at = now;
        Ok(from)
    }

    /// Units still reserved (held or allocated), per (sku, location).
    pub fn open_reservations(&self) -> impl Iterator<Item = &Reservation> {
        self.reservations.iter().filter(|r| matches!(r.state, ReservationState::Held | ReservationState::Allocated))
    }

    /// For a replacement: what is left of the exchange credit it used, to refund (to the
    /// original payment) when its goods come back; 0 for any other order.
    pub fn exchange_credit_left(&self) -> i64 {
        if self.exchange_for.is_none() {
            return 0;
        }
        let used = self.credit.map_or(0, |c| c.amount()).min(self.totals.total.amount());
        (used - self.payment.credit_refunded.map_or(0, |c| c.amount())).max(0)
    }

    /// What the customer pays for this order: the total less any credit, never below zero.
    pub fn payable(&self) -> Money {
        let credit = self.credit.map(|c| c.amount()).unwrap_or(0);
        Money::new((self.totals.total.amount() - credit).max(0), self.totals.total.currency())
            .unwrap_or(self.totals.total)
    }

    pub fn goods_lines(&self) -> impl Iterator<Item = &OrderLine> {
        self.lines.iter().filter(|l| l.kind == ProductKind::Goods)
    }
}

/// Who did something to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    Customer(String),
    Agent(String),
    System(String),
}

/// One entry on an order's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEvent {
    pub at: DateTime<Utc>,
    /// Stable name such as `order.placed`, `order.cancelled`, `stock.held`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl TimelineEvent {
    pub fn new(at: DateTime<Utc>, kind: &str, actor: Actor) -> Self {
        TimelineEvent { at, kind: kind.to_owned(), status: None, actor, note: None }
    }
    pub fn with_status(mut self, s: OrderStatus) -> Self {
        self.status = Some(s);
        self
    }
    pub fn with_note(mut self, n: impl Into<String>) -> Self {
        self.note = Some(n.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipment_status_never_regresses() {
        let s = ShipmentStatus::Delivered;
        assert_eq!(s.advance(ShipmentStatus::InTransit), None);
        assert_eq!(ShipmentStatus::LabelCreated.advance(ShipmentStatus::InTransit), Some(ShipmentStatus::InTransit));
        assert_eq!(ShipmentStatus::InTransit.advance(ShipmentStatus::InTransit), None);
        assert_eq!(ShipmentStatus::InTransit.advance(ShipmentStatus::Delivered), Some(ShipmentStatus::Delivered));
    }
}
