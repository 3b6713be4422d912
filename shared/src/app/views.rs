//! The JSON shapes of the public API (camelCase; money as `{amount, currency}`), shared by the
//! HTTP functions and the local runner. Internal fields (payment token, reservations) never
//! appear here.

use crate::domain::sourcing::DeliveryOption;
use crate::domain::*;
use crate::ports::OrderView as StoredOrder;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDto {
    pub order_id: OrderId,
    /// Whose order it is (agents open the customer's window from the order).
    pub customer_id: CustomerId,
    pub status: OrderStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub channel: Channel,
    pub email: Email,
    pub lines: Vec<OrderLine>,
    pub totals: Totals,
    /// Promotions applied and agents' adjustments (with reasons and who gave them).
    #[serde(skip_serializing_if = "crate::domain::order::Discounts::is_empty")]
    pub discounts: crate::domain::order::Discounts,
    /// Technicians' visits, with repeat reasons and technicians' notes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub visits: Vec<crate::domain::service::Visit>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warranty_claims: Vec<crate::domain::warranty::WarrantyClaim>,
    pub shipping_address: Address,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    pub delivery: Delivery,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<CartId>,
    /// Credit from a return this order replaces (an exchange): not charged again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit: Option<Money>,
    /// The return this order replaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_for: Option<ReturnId>,
    /// The version of the rules that decided the order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules_version: Option<u32>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A pickup order at the store: when it was ready and until when it is kept (never the
    /// customer's code: staff ask the customer for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup: Option<StorePickup>,
    /// Agents see the payment: amounts, the authorization and every ledger entry.
    pub payment: PaymentDetails,
    pub shipments: Vec<Shipment>,
    pub timeline: Vec<TimelineEvent>,
}

/// A pickup order's hold as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StorePickup {
    pub ready_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub reminded: bool,
}

/// An order's payment as agents see it (never the provider token).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_id: Option<String>,
    pub authorized: Money,
    pub captured: Money,
    pub refunded: Money,
    pub refundable: Money,
    /// A replacement's returned goods refunded from its exchange credit (to the original
    /// order's payment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_refunded: Option<Money>,
    pub ledger: Vec<LedgerEntry>,
    /// After a decline: the deadline, the provider's decline code and the methods tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<PaymentRecovery>,
    /// How the order is paid when not with a token: `link`, or `{"marketplace": {...}}` with
    /// the marketplace's order number, payment reference and fee.
    #[serde(default, skip_serializing_if = "PaymentMethod::is_token")]
    pub method: PaymentMethod,
}

impl PaymentDetails {
    pub fn of(o: &Order) -> Self {
        let c = o.totals.total.currency();
        let m = |a: i64| Money::new(a, c).unwrap_or(Money::zero(c));
        let (_, captured, refunded, _) = o.payment.ledger_totals();
        let authorized = o.payment.standing_authorized();
        PaymentDetails {
            authorization_id: o.payment.authorization_id.clone(),
            authorized: m(authorized),
            captured: m(captured),
            refunded: m(refunded),
            refundable: m(o.payment.refundable()),
            credit_refunded: o.payment.credit_refunded,
            ledger: o.payment.ledger.clone(),
            recovery: o.payment.recovery.clone(),
            method: o.payment.method.clone(),
        }
    }
}

impl OrderDto {
    pub fn new(o: &Order, shipments: Vec<Shipment>, timeline: Vec<TimelineEvent>) -> Self {
        OrderDto {
            order_id: o.id.clone(),
            customer_id: o.customer.clone(),
            status: o.status,
            status_reason: o.status_reason.clone(),
            channel: o.channel,
            email: o.email.clone(),
            lines: o.lines.clone(),
            totals: o.totals,
            discounts: o.discounts.clone(),
            visits: o.visits.clone(),
            warranty_claims: o.warranty_claims.clone(),
            shipping_address: o.shipping_address.clone(),
            billing_address: o.billing_address.clone(),
            delivery: o.delivery.clone(),
            cart_id: o.cart_id.clone(),
            credit: o.credit,
            exchange_for: o.exchange_for.clone(),
            rules_version: o.rules_version,
            version: o.version,
            created_at: o.created_at,
            updated_at: o.updated_at,
            pickup: o.waiting_pickup().map(|p| StorePickup {
                ready_at: p.ready_at,
                expires_at: p.expires_at,
                reminded: p.reminded,
            }),
            payment: PaymentDetails::of(o),
            shipments,
            timeline,
        }
    }

    pub fn from_stored(v: StoredOrder) -> Self {
        OrderDto::new(&v.order, v.shipments, v.timeline)
    }
}

/// A row of an order listing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummary {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub email: Email,
    pub channel: Channel,
    pub total: Money,
    pub line_count: usize,
    pub created_at: DateTime<Utc>,
}

impl From<&Order> for OrderSummary {
    fn from(o: &Order) -> Self {
        OrderSummary {
            order_id: o.id.clone(),
            status: o.status,
            email: o.email.clone(),
            channel: o.channel,
            total: o.totals.total,
            line_count: o.lines.len(),
            created_at: o.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderList {
    pub orders: Vec<OrderSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartDto {
    pub cart_id: CartId,
    pub items: Vec<CartItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converted_order_id: Option<OrderId>,
    pub created_at: DateTime<Utc>,
    pub last_activity: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub version: u64,
}

impl From<&Cart> for CartDto {
    fn from(c: &Cart) -> Self {
        CartDto {
            cart_id: c.id.clone(),
            items: c.items.clone(),
            email: c.email.clone(),
            converted_order_id: c.converted_order.clone(),
            created_at: c.created_at,
            last_activity: c.last_activity,
            expires_at: c.expires_at(),
            version: c.version,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteDto {
    pub lines: Vec<OrderLine>,
    pub subtotal: Money,
    /// What the promotions take off the lines (tax is on the rest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Money>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promotions: Vec<crate::domain::promotion::AppliedPromotion>,
    pub tax: Money,
    pub options: Vec<DeliveryOption>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockDto {
    pub sku: Sku,
    pub location_id: LocationId,
    pub on_hand: i64,
    pub available: i64,
    pub held: i64,
    pub allocated: i64,
    /// Shard items the stock is split over (1: not sharded).
    pub shards: u16,
    /// Units kept back from orders and storefronts.
    #[serde(default)]
    pub safety_stock: i64,
    /// Units kept back from one channel on top of `safety_stock`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub channel_safety_stock: std::collections::BTreeMap<crate::domain::order::Channel, i64>,
    /// The last WMS sequence number applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_count: Option<crate::domain::inventory::LastCount>,
    /// A count older than the last applied: nothing changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_point: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_quantity: Option<i64>,
}

impl StockDto {
    pub fn of(r: crate::domain::StockRecord, ignored: bool) -> Self {
        let control = r.control.clone().unwrap_or_default();
        StockDto {
            sku: r.sku,
            location_id: r.location_id,
            on_hand: r.level.on_hand,
            available: r.level.available,
            held: r.level.held,
            allocated: r.level.allocated,
            shards: r.shards,
            safety_stock: control.safety_stock,
            channel_safety_stock: control.channel_safety_stock,
            sequence: control.sequence,
            last_count: control.last,
            ignored,
            reorder_point: control.reorder_point,
            reorder_quantity: control.reorder_quantity,
        }
    }
}
