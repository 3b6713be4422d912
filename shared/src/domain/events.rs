//! Integration (domain) events: what a committed change announces to other systems (ERP, CRM,
//! loyalty, WMS, marketplaces). A change's timeline entries name what happened; the event types
//! below are derived from them by pure code, recorded with the change (its change record), and
//! published after the commit from the table's stream, at least once. The envelope is
//! versioned; `docs/events/` holds a JSON Schema per type.

use super::ids::{CustomerId, OrderId};
use super::order::{Actor, TimelineEvent};
use super::status::OrderStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The envelope's version: a breaking change to an event's shape publishes a new version.
pub const EVENT_VERSION: u32 = 1;
/// The `source` every event carries on the bus.
pub const EVENT_SOURCE: &str = "oms";

/// Every event type published in this version, as the schemas in `docs/events/` name them.
pub const EVENT_TYPES: [&str; 30] = [
    "order.placed",
    "order.confirmed",
    "order.edited",
    "order.adjusted",
    "order.cancelled",
    "order.held",
    "order.released",
    "order.ready_to_ship",
    "order.ready_for_pickup",
    "order.collected",
    "order.payment_required",
    "invoice.issued",
    "payment.authorized",
    "payment.captured",
    "payment.refunded",
    "shipment.packed",
    "shipment.shipped",
    "shipment.delivered",
    "return.requested",
    "return.received",
    "return.refunded",
    "case.opened",
    "case.resolved",
    "service.scheduled",
    "service.rescheduled",
    "service.cancelled",
    "service.dispatched",
    "service.completed",
    "service.failed",
    "warranty.claimed",
];

/// The event type one timeline entry announces, if any.
fn of_entry(e: &TimelineEvent) -> Option<&'static str> {
    Some(match e.kind.as_str() {
        "order.placed" => "order.placed",
        "order.confirmed_by_call" | "order.confirmation_timed_out" => "order.confirmed",
        "order.edited" => "order.edited",
        "order.adjusted" => "order.adjusted",
        "order.cancelled" | "order.failed" => "order.cancelled",
        "order.held" => "order.held",
        "order.payment_declined" | "order.payment_requested" => "order.payment_required",
        "invoice.issued" | "credit_note.issued" => "invoice.issued",
        "order.hold_released" => "order.released",
        "payment.authorized" => "payment.authorized",
        "payment.captured" => "payment.captured",
        "payment.refunded" | "payment.goodwill_refund" => "payment.refunded",
        "shipment.packed" => "shipment.packed",
        "order.shipped" => "shipment.shipped",
        "order.delivered" => "shipment.delivered",
        "order.ready_for_pickup" => "order.ready_for_pickup",
        "order.collected" => "order.collected",
        "return.requested" => "return.requested",
        "return.received" => "return.received",
        "case.opened" => "case.opened",
        "case.resolved" => "case.resolved",
        "service.scheduled" => "service.scheduled",
        "service.rescheduled" => "service.rescheduled",
        "service.cancelled" => "service.cancelled",
        "service.dispatched" => "service.dispatched",
        "service.completed" => "service.completed",
        "service.failed" => "service.failed",
        "warranty.claimed" => "warranty.claimed",
        _ => return None,
    })
}

/// The event types a change's timeline entries announce, in entry order, each once. A refund
/// recorded with a return's receipt (or an exchange's settlement) is also `return.refunded`.
pub fn event_types(entries: &[TimelineEvent]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    let mut push = |t: &'static str| {
        if !out.contains(&t) {
            out.push(t);
        }
    };
    let from_return = entries.iter().any(|e| {
        matches!(e.kind.as_str(), "return.received" | "return.exchange_placed")
            || matches!(&e.actor, Actor::System(s) if s == "returns")
    });
    for e in entries {
        if let Some(t) = of_entry(e) {
            push(t);
        }
        // Labels bought (or a release resuming there): what a warehouse and analytics wait for.
        if e.status == Some(OrderStatus::ReadyToShip) {
            push("order.ready_to_ship");
        }
        if e.kind == "payment.refunded" && from_return {
            push("return.refunded");
        }
    }
    out
}

/// An integration event: the envelope every type shares. `sequence` is the order's version the
/// change committed (one change's events share it; a later change has a higher one), so a
/// consumer that holds a higher sequence for the order may drop the event: EventBridge does
/// not keep order. `id` is the same on every delivery of the same event (consumers
/// deduplicate on it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    pub occurred_at: DateTime<Utc>,
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub sequence: u64,
    /// The order in the integration projection (`data.order`, as read when published: its
    /// `version` is at least `sequence`), for return events the order's returns, for payment
    /// events (and `return.refunded`) the payment totals and ledger.
    pub data: serde_json::Value,
}

/// The type of the stock event.
pub const INVENTORY_CHANGED: &str = "inventory.changed";
/// A location went below its reorder point (once per crossing); its `sequence` is the crossing.
pub const INVENTORY_LOW: &str = "inventory.low";
/// A SKU's stock across every location covers fewer days of forecast sales than the rules' `coverDays` (location `ALL`), once per crossing.
pub const INVENTORY_COVER_LOW: &str = "inventory.cover_low";

/// What a SKU at a location can promise now, for marketplaces and other channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryLevel {
    /// Available to promise: on hand less held and allocated units.
    pub available: i64,
    pub on_hand: i64,
    pub held: i64,
    pub allocated: i64,
    /// `inventory.low`: the location's reorder point and what to order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_point: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_quantity: Option<i64>,
    /// `inventory.cover_low`: days the stock lasts at forecast sales, and the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_of_cover: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover_days: Option<u32>,
}

/// `inventory.changed`: a SKU's available-to-promise at a location moved. Its envelope names
/// the SKU and the location where order events name the order and the customer. `sequence`
/// is the sum of the location's stock item versions as read (it grows with every change), so
/// a consumer keeps the highest; the id is derived from it, so the same level is the same
/// event. Published from the table stream, at most once per SKU and location per stream batch
/// (the stream's batching window debounces a burst of holds into one event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    pub occurred_at: DateTime<Utc>,
    pub sku: super::ids::Sku,
    pub location_id: super::ids::LocationId,
    pub sequence: u64,
    pub data: InventoryLevel,
}

impl InventoryEvent {
    pub fn new(
        sku: super::ids::Sku,
        location_id: super::ids::LocationId,
        sequence: u64,
        data: InventoryLevel,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        InventoryEvent {
            id: format!("inventory.{sku}.{location_id}.{sequence}"),
            kind: INVENTORY_CHANGED.to_owned(),
            version: EVENT_VERSION,
            occurred_at,
            sku,
            location_id,
            sequence,
            data,
        }
    }
}

/// The deterministic id of the `n`th event of a change (`change_id`: the change record's id,
/// unique per change): the same on every redelivery.
pub fn event_id(order: &OrderId, change_id: &str, kind: &str) -> String {
    let change = change_id.rsplit('#').next().unwrap_or(change_id);
    format!("{order}.{change}.{kind}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, actor: Actor) -> TimelineEvent {
        TimelineEvent::new(Utc::now(), kind, actor)
    }

    #[test]
    fn entries_map_to_event_types_once_each_in_order() {
        let sys = || Actor::System("tracking".into());
        let es = [entry("payment.captured", sys()), entry("order.shipped", sys()), entry("labels.created", sys())];
        assert_eq!(event_types(&es), ["payment.captured", "shipment.shipped"]);
        let agent = || Actor::Agent("a".into());
        let receipt =
            [entry("return.received", agent()), entry("return.received", agent()), entry("payment.refunded", agent())];
        assert_eq!(event_types(&receipt), ["return.received", "payment.refunded", "return.refunded"]);
        let goodwill = [entry("payment.goodwill_refund", agent())];
        assert_eq!(event_types(&goodwill), ["payment.refunded"], "a goodwill refund is not a return's");
        assert!(event_types(&[entry("note.added", agent()), entry("case.replied", agent())]).is_empty());
        assert!(EVENT_TYPES.iter().all(|t| t.split_once('.').is_some()));
    }

    #[test]
    fn event_ids_are_the_same_for_the_same_change() {
        let o = OrderId::parse("01JDQ0000000000000000000AA").unwrap();
        let a = event_id(&o, "2026-12-01T10:00:00.000000Z#01JDQ0000000000000000000ZZ", "order.placed");
        assert_eq!(a, "01JDQ0000000000000000000AA.01JDQ0000000000000000000ZZ.order.placed");
        assert_ne!(a, event_id(&o, "2026-12-01T10:00:00.000000Z#01JDQ0000000000000000000ZY", "order.placed"));
    }
}
