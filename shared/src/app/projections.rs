//! Audience projections: one function per audience turns an order, its shipments and its
//! timeline into what that audience may see. The customer's is an allow-list: a timeline kind
//! not named here never reaches a customer, and no note, reason, agent id, fraud signal or
//! provider error ever does. Agents see everything; integrations see the order and its
//! milestones without notes or reasons.

use super::access::Audience;
use super::views::OrderDto;
use crate::domain::service::Visit;
use crate::domain::warranty::WarrantyClaim;
use crate::domain::*;
use crate::ports::OrderView;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// An order as one audience sees it.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum OrderProjection {
    Customer(Box<CustomerOrder>),
    Agent(Box<OrderDto>),
    Integration(Box<IntegrationOrder>),
}

impl OrderProjection {
    pub fn of(audience: Audience, v: OrderView) -> Self {
        match audience {
            Audience::Customer => {
                OrderProjection::Customer(Box::new(customer_order(&v.order, &v.shipments, &v.timeline)))
            }
            Audience::Agent => OrderProjection::Agent(Box::new(OrderDto::from_stored(v))),
            Audience::Integration => OrderProjection::Integration(Box::new(integration_order(v))),
        }
    }

    pub fn version(&self) -> u64 {
        match self {
            OrderProjection::Customer(o) => o.version,
            OrderProjection::Agent(o) => o.version,
            OrderProjection::Integration(o) => o.order.version,
        }
    }
}

/// The buyer's view of their order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerOrder {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub channel: Channel,
    pub email: Email,
    pub lines: Vec<OrderLine>,
    pub totals: Totals,
    /// The promotions the order got (agents' adjustments show only in the lines' discounts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub promotions: Vec<crate::domain::promotion::AppliedPromotion>,
    /// Technicians' visits (no reasons or technicians' notes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub visits: Vec<Visit>,
    /// Warranty claims (no reasons).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warranty_claims: Vec<WarrantyClaim>,
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
    /// A pickup order waiting at the store: the code to show at the counter and until when the
    /// store keeps it (only the buyer sees the code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickup: Option<PickupHold>,
    /// A declined order: until when it waits for another payment method
    /// (`POST /v1/orders/{orderId}/payment`) before it is cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_due_by: Option<DateTime<Utc>>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub shipments: Vec<CustomerShipment>,
    pub timeline: Vec<CustomerEntry>,
}

/// A parcel as the buyer follows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerShipment {
    pub shipment_id: ShipmentId,
    pub status: ShipmentStatus,
    pub service_level: ServiceLevel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_delivery: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    pub lines: Vec<ShipmentLine>,
}

/// A timeline entry a buyer may read: a fixed message per kind, never the entry's note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerEntry {
    pub at: DateTime<Utc>,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    pub message: String,
}

/// A machine client's view: the order as agents see it, with milestones instead of notes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationOrder {
    #[serde(flatten)]
    pub order: IntegrationFields,
    pub timeline: Vec<Milestone>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationFields {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub channel: Channel,
    pub customer_id: CustomerId,
    pub email: Email,
    pub lines: Vec<OrderLine>,
    pub totals: Totals,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub visits: Vec<Visit>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warranty_claims: Vec<WarrantyClaim>,
    pub shipping_address: Address,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    pub delivery: Delivery,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub shipments: Vec<CustomerShipment>,
}

/// A timeline entry for machine clients: what happened and when, not who wrote what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Milestone {
    pub at: DateTime<Utc>,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
}

/// The status a buyer sees: an internal hold shows as the status the order was held from.
pub fn customer_status(status: OrderStatus, held_from: Option<OrderStatus>) -> OrderStatus {
    match status {
        OrderStatus::OnHold => held_from.filter(|s| *s != OrderStatus::OnHold).unwrap_or(OrderStatus::Placed),
        // The call is the shop's business: the buyer's order is placed.
        OrderStatus::AwaitingConfirmation => OrderStatus::Placed,
        s => s,
    }
}

/// The buyer's message for a timeline kind; `None` keeps the entry from the buyer.
pub fn customer_message(e: &TimelineEvent) -> Option<String> {
    let fixed = match e.kind.as_str() {
        "order.placed" => "We received your order.",
        "order.edited" => "Your order was changed.",
        "order.adjusted" => "The price of your order was lowered.",
        "service.scheduled" => "Your technician visit is booked.",
        "service.rescheduled" => "Your technician visit was moved.",
        "service.cancelled" => "Your technician visit was cancelled.",
        "service.dispatched" => "Your technician is on the way.",
        "service.completed" => "Your technician visit is done.",
        "service.failed" => "Your technician visit could not be completed. We will contact you.",
        "warranty.claimed" => "We received your warranty claim.",
        "warranty.replacement_placed" => "Your replacement was ordered at no charge.",
        "labels.created" => "Your order is confirmed and being packed.",
        "order.ready_for_pickup" => "Your order is ready for pickup at the store.",
        "order.collected" => "You collected your order.",
        "order.cancelled" => {
            // The buyer's own words come back to them; an agent's reason stays internal.
            return Some(match (&e.actor, &e.note) {
                (Actor::Customer(_), Some(reason)) => format!("Your order was cancelled: {reason}"),
                _ => "Your order was cancelled.".to_owned(),
            });
        }
        "order.payment_declined" => "Your payment was declined. Please use another payment method.",
        "order.payment_requested" => "We sent you a link to pay for this order.",
        "payment.method_updated" => "We received your new payment method.",
        "shipment.packed" => "A parcel of your order is packed.",
        "feedback.received" => "Thank you for your feedback.",
        "order.failed" => "We could not complete your order. Any payment hold has been released.",
        "order.shipped" => "Your order has shipped.",
        "order.delivered" => "Your order was delivered.",
        "shipment.in_transit" => "A parcel is on its way.",
        "shipment.out_for_delivery" => "A parcel is out for delivery.",
        "shipment.delivered" => "A parcel was delivered.",
        "shipment.failure" => "The carrier reported a delivery problem. We are on it.",
        "shipment.return_to_sender" => "A parcel is on its way back to us.",
        "payment.captured" => "Your payment was taken for shipped items.",
        "payment.refunded" | "payment.goodwill_refund" => "A refund was issued to your payment method.",
        "return.requested" => "Your return was approved.",
        "return.in_transit" => "Your return is on its way to us.",
        "return.arrived" => "Your return arrived at our warehouse.",
        "return.received" => "We inspected your return.",
        "return.exchange_placed" => "Your exchange order was placed.",
        _ => return None,
    };
    Some(fixed.to_owned())
}

/// The buyer's timeline.
pub fn customer_timeline(events: &[TimelineEvent], held_from: Option<OrderStatus>) -> Vec<CustomerEntry> {
    events
        .iter()
        .filter_map(|e| {
            customer_message(e).map(|message| CustomerEntry {
                at: e.at,
                kind: e.kind.clone(),
                status: e.status.map(|s| customer_status(s, held_from)),
                message,
            })
        })
        .collect()
}

pub fn customer_shipment(s: &Shipment) -> CustomerShipment {
    CustomerShipment {
        shipment_id: s.id.clone(),
        status: s.status,
        service_level: s.service_level,
        carrier: s.carrier.clone(),
        tracking_number: s.tracking_number.clone(),
        estimated_delivery: s.estimated_delivery,
        shipped_at: s.shipped_at,
        delivered_at: s.delivered_at,
        lines: s.lines.clone(),
    }
}

pub fn customer_order(o: &Order, shipments: &[Shipment], timeline: &[TimelineEvent]) -> CustomerOrder {
    CustomerOrder {
        order_id: o.id.clone(),
        status: customer_status(o.status, o.held_from),
        channel: o.channel,
        email: o.email.clone(),
        lines: o.lines.clone(),
        totals: o.totals,
        promotions: o.discounts.promotions.clone(),
        visits: o.visits.iter().map(Visit::public).collect(),
        warranty_claims: o.warranty_claims.iter().map(WarrantyClaim::public).collect(),
        shipping_address: o.shipping_address.clone(),
        billing_address: o.billing_address.clone(),
        delivery: o.delivery.clone(),
        cart_id: o.cart_id.clone(),
        credit: o.credit,
        exchange_for: o.exchange_for.clone(),
        pickup: o.waiting_pickup().cloned(),
        payment_due_by: o.waiting_payment().map(|r| r.due_by),
        version: o.version,
        created_at: o.created_at,
        updated_at: o.updated_at,
        shipments: shipments.iter().map(customer_shipment).collect(),
        timeline: customer_timeline(timeline, o.held_from),
    }
}

pub fn milestones(events: &[TimelineEvent]) -> Vec<Milestone> {
    events
        .iter()
        .filter(|e| !matches!(e.kind.as_str(), "note.added" | "notification.resent") && !e.kind.starts_with("case."))
        .map(|e| Milestone { at: e.at, kind: e.kind.clone(), status: e.status })
        .collect()
}

pub fn integration_order(v: OrderView) -> IntegrationOrder {
    let o = v.order;
    IntegrationOrder {
        order: IntegrationFields {
            order_id: o.id.clone(),
            status: o.status,
            channel: o.channel,
            customer_id: o.customer.clone(),
            email: o.email.clone(),
            lines: o.lines.clone(),
            totals: o.totals,
            visits: o.visits.iter().map(Visit::public).collect(),
            warranty_claims: o.warranty_claims.iter().map(WarrantyClaim::public).collect(),
            shipping_address: o.shipping_address.clone(),
            billing_address: o.billing_address.clone(),
            delivery: o.delivery.clone(),
            version: o.version,
            created_at: o.created_at,
            updated_at: o.updated_at,
            shipments: v.shipments.iter().map(customer_shipment).collect(),
        },
        timeline: milestones(&v.timeline),
    }
}

/// A return as its customer follows it: no label document id, location split or receipt
/// counters.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerReturn {
    pub id: ReturnId,
    pub order_id: OrderId,
    pub lines: Vec<CustomerReturnLine>,
    pub resolution: returns::Resolution,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exchange_lines: Vec<pricing::LineRequest>,
    pub status: returns::ReturnStatus,
    pub location_id: LocationId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<CustomerReturnLabel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_order_id: Option<OrderId>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerReturnLine {
    pub line_id: String,
    pub sku: Sku,
    pub quantity: u32,
    pub reason: returns::ReturnReason,
    pub received_resellable: u32,
    pub received_damaged: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refunded: Option<Money>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerReturnLabel {
    pub carrier: String,
    pub tracking_number: String,
}

pub fn customer_return(r: &returns::Rma) -> CustomerReturn {
    CustomerReturn {
        id: r.id.clone(),
        order_id: r.order_id.clone(),
        lines: r
            .lines
            .iter()
            .map(|l| CustomerReturnLine {
                line_id: l.line_id.clone(),
                sku: l.sku.clone(),
                quantity: l.quantity,
                reason: l.reason,
                received_resellable: l.received_resellable,
                received_damaged: l.received_damaged,
                refunded: l.refunded,
            })
            .collect(),
        resolution: r.resolution,
        exchange_lines: r.exchange_lines.clone(),
        status: r.status,
        location_id: r.location_id.clone(),
        label: r
            .label
            .as_ref()
            .map(|l| CustomerReturnLabel { carrier: l.carrier.clone(), tracking_number: l.tracking_number.clone() }),
        exchange_order_id: r.exchange_order_id.clone(),
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// A return as `caller` may see it: its customer gets `CustomerReturn`, staff everything.
pub fn return_for(caller: &super::Caller, r: &returns::Rma) -> serde_json::Value {
    if caller.customer == r.customer {
        serde_json::to_value(customer_return(r)).unwrap_or_default()
    } else {
        serde_json::to_value(r).unwrap_or_default()
    }
}
