//! Golden files: what each audience sees of each timeline entry kind, and of an order an agent
//! annotated, held for fraud and opened a case on. `UPDATE_GOLDEN=1 cargo test -p oms-shared
//! --test projections` rewrites them; a diff in review is a change to what customers see.

mod common;
use chrono::TimeZone;
use common::*;
use oms_shared::app::Audience;
use oms_shared::app::projections::OrderProjection;
use oms_shared::domain::*;
use oms_shared::ports::OrderView;
use std::path::PathBuf;

/// Every kind the OMS writes on a timeline, with the note it writes (notes hold what must not
/// reach a customer: agent text, fraud reasons, provider errors, case subjects).
const KINDS: &[(&str, &str, Option<OrderStatus>)] = &[
    ("order.placed", "channel Web, 1 lines, total 27.97 USD", Some(OrderStatus::Placed)),
    ("order.validated", "score 10", Some(OrderStatus::Validated)),
    ("order.held", "fraud: billing_shipping_country_mismatch, score 60", Some(OrderStatus::OnHold)),
    ("order.hold_released", "cleared after call with cardholder", Some(OrderStatus::Placed)),
    ("order.allocated", "WH-EAST: MUG-1 x1", Some(OrderStatus::Allocated)),
    ("payment.authorized", "pi_3Abc authorized 27.97 USD", Some(OrderStatus::PaymentAuthorized)),
    ("labels.created", "1 label, EasyPost shp_123", Some(OrderStatus::ReadyToShip)),
    ("order.payment_declined", "payment_declined: card_declined (do_not_honor, risk 87)", Some(OrderStatus::OnHold)),
    ("order.failed", "CarrierRejected: EasyPost 500 upstream timeout", Some(OrderStatus::Failed)),
    ("order.edited", "agent edit: MUG-1 x1 -> x2", None),
    ("order.cancelled", "suspected reseller, agent decision", Some(OrderStatus::Cancelled)),
    ("note.added", "Customer Jane Doe called, sounded angry; VIP flag", None),
    ("case.opened", "complaint: chargeback threatened by customer", None),
    ("case.resolved", "resolved: goodwill 5.00 offered", None),
    ("notification.resent", "order.confirmed", None),
    ("payment.goodwill_refund", "5.00 USD: late delivery (agent-7)", None),
    ("shipment.in_transit", "1Z999 scanned at EWR hub", None),
    ("shipment.out_for_delivery", "1Z999", None),
    ("shipment.delivered", "1Z999 left at back door", None),
    ("shipment.failure", "address not found; carrier code 44", None),
    ("payment.captured", "ch_3Abc captured 27.97 USD", None),
    ("order.shipped", "all shipments with carrier", Some(OrderStatus::Shipped)),
    ("order.delivered", "all shipments delivered", Some(OrderStatus::Delivered)),
    ("return.requested", "RMA-1: MUG-1 x1, reason damaged: handle cracked", Some(OrderStatus::ReturnRequested)),
    ("return.in_transit", "RMA-1 1Z777", None),
    ("return.arrived", "RMA-1 1Z777", None),
    ("return.received", "RMA-1: 1 resellable, inspector agent-9", None),
    ("payment.refunded", "13.99 USD for RMA-1 re_3Abc", None),
    ("return.exchange_placed", "exchange order 01J... for RMA-1", None),
];

fn at(min: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 30, 12, min, 0).unwrap()
}

fn event(i: usize, kind: &str, note: &str, status: Option<OrderStatus>) -> TimelineEvent {
    let actor = if kind.starts_with("note") || kind.starts_with("case") || kind == "order.cancelled" {
        Actor::Agent("agent-7".into())
    } else {
        Actor::System("workflow".into())
    };
    let mut e = TimelineEvent::new(at(u32::try_from(i).unwrap()), kind, actor).with_note(note);
    e.status = status;
    e
}

fn golden(name: &str, value: &serde_json::Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} missing: UPDATE_GOLDEN=1", path.display()));
    assert_eq!(text, want, "{name} changed: review the diff, then UPDATE_GOLDEN=1");
}

fn view(timeline: Vec<TimelineEvent>) -> OrderView {
    let mut o = order("cust-1", "jane@example.com");
    o.id = OrderId::parse("01M8PPDZYTYZC1XKGKVHCM1M8D").unwrap();
    o.status = OrderStatus::OnHold;
    o.held_from = Some(OrderStatus::Allocated);
    o.status_reason = Some("fraud: billing_shipping_country_mismatch, score 60".into());
    o.created_at = at(0);
    o.updated_at = at(59);
    // Pinned: the golden files must not depend on the day the test runs.
    o.delivery.promised_by = at(0).date_naive();
    OrderView { order: o, shipments: vec![], timeline }
}

fn project(a: Audience, v: OrderView) -> serde_json::Value {
    serde_json::to_value(OrderProjection::of(a, v)).unwrap()
}

#[test]
fn each_timeline_kind_per_audience() {
    for (name, a) in
        [("customer", Audience::Customer), ("agent", Audience::Agent), ("integration", Audience::Integration)]
    {
        let mut table = serde_json::Map::new();
        for (i, (kind, note, status)) in KINDS.iter().enumerate() {
            let p = project(a, view(vec![event(i, kind, note, *status)]));
            let entry = p["timeline"].get(0).cloned().unwrap_or(serde_json::Value::Null);
            table.insert((*kind).to_owned(), entry);
        }
        golden(&format!("timeline-{name}"), &serde_json::Value::Object(table));
    }
}

#[test]
fn a_customer_sees_none_of_the_notes_holds_cases_or_provider_errors() {
    let timeline: Vec<_> = KINDS.iter().enumerate().map(|(i, (k, n, s))| event(i, k, n, *s)).collect();
    let customer = project(Audience::Customer, view(timeline.clone()));
    golden("order-customer", &customer);
    let text = customer.to_string();
    for (_, note, _) in KINDS {
        assert!(!text.contains(note), "a note reached the customer: {note}");
    }
    for word in ["fraud", "agent-7", "on_hold", "statusReason", "case.", "note.added", "risk", "EasyPost", "labelId"] {
        assert!(!text.contains(word), "{word:?} reached the customer: {text}");
    }
    assert_eq!(customer["status"], "allocated", "a hold shows as the status it was held from");
    let agent = project(Audience::Agent, view(timeline.clone()));
    assert_eq!(agent["status"], "on_hold");
    assert!(agent.to_string().contains("sounded angry"));
    let integration = project(Audience::Integration, view(timeline)).to_string();
    assert!(!integration.contains("sounded angry") && !integration.contains("fraud") && !integration.contains("case."));
}
