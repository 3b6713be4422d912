//! Golden tests: the exact keys each entity is stored under. Changing one of these is a data
//! migration, not a refactor.

mod common;
use chrono::TimeZone;
use common::*;
use oms_shared::adapters::dynamo::entities::{
    carts::*, cases::*, catalog::*, dedupe::*, orders::*, outbox::*, records::*, returns::*, shipments::*, stock::*,
};
use oms_shared::adapters::dynamo::keys;
use oms_shared::domain::*;

fn attr(item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, k: &str) -> Option<String> {
    item.get(k).and_then(|v| v.as_s().ok()).cloned()
}

#[test]
fn product_keys() {
    let a = product_item(&product("MUG-1", 100)).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("PRODUCT#MUG-1"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("PRODUCT"));
    assert_eq!(attr(&a, "entity").as_deref(), Some("product"));
    assert_eq!(attr(&a, "GSI1PK").as_deref(), Some("PRODUCTS"));
    assert_eq!(attr(&a, "GSI1SK").as_deref(), Some("PRODUCT#MUG-1"));
}

#[test]
fn location_keys() {
    let a = location_item(&warehouse("WH-EAST")).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("LOCATION#WH-EAST"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("LOCATION"));
    assert_eq!(attr(&a, "GSI1PK").as_deref(), Some("LOCATIONS"));
    assert_eq!(attr(&a, "GSI1SK").as_deref(), Some("LOCATION#WH-EAST"));
}

#[test]
fn stock_keys() {
    let mut r = StockRecord::new(sku("MUG-1"), loc_id("WH-EAST"), StockLevel::with_on_hand(5).unwrap());
    let a = stock_item(&r).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("SKU#MUG-1"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("STOCK#WH-EAST"));
    assert_eq!(a.get("available").and_then(|v| v.as_n().ok()).map(String::as_str), Some("5"));
    assert!(!a.contains_key("shard") && !a.contains_key("shards"), "unsharded items keep their shape");
    // A shard of a hot SKU: a partition of its own.
    r.shard = 3;
    let a = stock_item(&r).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("SKU#MUG-1#SHARD#3"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("STOCK#WH-EAST"));
}

#[test]
fn cart_keys() {
    let t = chrono::Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let id = CartId::parse("01JD0000000000000000000000").unwrap();
    let mut c = Cart::new(id.clone(), CustomerId::parse("cust-1").unwrap(), t);
    let a = cart_item(&c).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("CART#01JD0000000000000000000000"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("CART"));
    assert_eq!(attr(&a, "GSI1PK").as_deref(), Some("CUSTOMER#cust-1"));
    assert_eq!(attr(&a, "GSI1SK").as_deref(), Some("CART#01JD0000000000000000000000"));
    assert_eq!(attr(&a, "GSI2PK"), None, "an empty cart is not in the idle-cart index");
    assert_eq!(
        a.get("expiresAt").and_then(|v| v.as_n().ok()).cloned(),
        Some((t + chrono::Duration::days(30)).timestamp().to_string())
    );
    c.set_quantity(sku("MUG-1"), 1, t).unwrap();
    c.email = Some(Email::parse("a@b.co").unwrap());
    let a = cart_item(&c).to_attrs().unwrap();
    assert_eq!(attr(&a, "GSI2PK"), Some(format!("CARTACTIVITY#{}", keys::shard(id.as_str()))));
    assert_eq!(attr(&a, "GSI2SK").as_deref(), Some("2026-11-20T12:00:00.000Z#01JD0000000000000000000000"));
}

#[test]
fn order_keys() {
    let mut o = order("cust-1", "Ann@Example.com");
    o.id = OrderId::parse("01JD0000000000000000000001").unwrap();
    o.created_at = chrono::Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let a = order_item(&o).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("ORDER#01JD0000000000000000000001"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("ORDER"));
    assert_eq!(attr(&a, "GSI1PK").as_deref(), Some("CUSTOMER#cust-1"));
    assert_eq!(attr(&a, "GSI1SK").as_deref(), Some("ORDER#01JD0000000000000000000001"));
    assert_eq!(attr(&a, "GSI2PK"), Some(format!("ORDERS#open#{}", keys::shard("01JD0000000000000000000001"))));
    assert_eq!(attr(&a, "GSI2SK").as_deref(), Some("2026-11-20T12:00:00.000Z#01JD0000000000000000000001"));
    assert_eq!(attr(&a, "GSI3PK").as_deref(), Some("EMAIL#ann@example.com"));
    // Stored as two items: the state (with the customer and phase indexes' keys) and the
    // write-once body (with the e-mail index's keys).
    let (state, body) = oms_shared::adapters::dynamo::entities::orders::order_items(&o).unwrap();
    assert_eq!(attr(&state, "SK").as_deref(), Some("ORDER"));
    assert_eq!(attr(&state, "entity").as_deref(), Some("order"));
    assert!(state.contains_key("status") && state.contains_key("version") && state.contains_key("payment"));
    assert!(state.contains_key("GSI1PK") && state.contains_key("GSI2PK") && !state.contains_key("GSI3PK"));
    assert!(!state.contains_key("lines") && !state.contains_key("shippingAddress"));
    assert_eq!(attr(&body, "PK").as_deref(), Some("ORDER#01JD0000000000000000000001"));
    assert_eq!(attr(&body, "SK").as_deref(), Some("ORDER#BODY"));
    assert_eq!(attr(&body, "entity").as_deref(), Some("order_body"));
    assert!(body.contains_key("lines") && body.contains_key("shippingAddress") && body.contains_key("totals"));
    assert_eq!(attr(&body, "GSI3PK").as_deref(), Some("EMAIL#ann@example.com"));
    assert!(!body.contains_key("GSI1PK") && !body.contains_key("GSI2PK") && !body.contains_key("status"));
    assert_eq!(attr(&state, "id"), attr(&body, "id"));
}

#[test]
fn shipment_keys() {
    let now = chrono::Utc::now();
    let order = OrderId::parse("01JD0000000000000000000001").unwrap();
    let sh = Shipment {
        id: ShipmentId::parse("01JD0000000000000000000002").unwrap(),
        status: ShipmentStatus::LabelCreated,
        carrier: Some("sandbox".into()),
        tracking_number: Some("SBX123".into()),
        ..Shipment::pending(&order, loc_id("WH-EAST"), vec![], ServiceLevel::Standard, now)
    };
    let a = shipment_item(&sh).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("ORDER#01JD0000000000000000000001"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("SHIPMENT#01JD0000000000000000000002"));
    assert_eq!(attr(&a, "GSI3PK").as_deref(), Some("TRACKING#sandbox#SBX123"));
    assert_eq!(attr(&a, "GSI3SK").as_deref(), Some("SHIPMENT"));
}

#[test]
fn timeline_idempotency_and_webhook_keys() {
    let t = chrono::Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let id = OrderId::parse("01JD0000000000000000000001").unwrap();
    let e = TimelineEvent::new(t, "order.placed", Actor::System("placement".into()));
    let events = oms_shared::domain::events::event_types(std::slice::from_ref(&e)).join(" ");
    let record =
        ChangeRecord { entries: vec![e], effects: vec![], events, sequence: Some(1), dispatch: None, created_at: t };
    let a = change_record_item(&id, &record, &change_record_id(&t, "01JD0000000000000000000009")).to_attrs().unwrap();
    assert_eq!(attr(&a, "SK").as_deref(), Some("EVENT#2026-11-20T12:00:00.000Z#01JD0000000000000000000009"));
    // The effects function's stream filter passes change records with a string `events`.
    assert_eq!(attr(&a, "events").as_deref(), Some("order.placed"));
    assert_eq!(a.get("sequence").and_then(|v| v.as_n().ok()).map(String::as_str), Some("1"));
    let r = IdempotencyRecord {
        request_hash: "h".into(),
        order_id: id,
        status_code: 201,
        response: "{}".into(),
        created_at: t,
    };
    let a = idempotency_item(&CustomerId::parse("cust-1").unwrap(), "key-1", &r).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("IDEMPOTENCY#cust-1#key-1"));
    assert_eq!(
        a.get("expiresAt").and_then(|v| v.as_n().ok()).cloned(),
        Some((t + chrono::Duration::hours(24)).timestamp().to_string())
    );
    assert_eq!(keys::webhook_event("easypost", "evt_1").pk, "WEBHOOK#easypost#evt_1");
}

#[test]
fn index_names_and_ttl_match_the_template() {
    assert_eq!(oms_harness::template_index_names().unwrap(), keys::INDEXES.to_vec());
    assert_eq!(oms_harness::template_ttl_attribute().unwrap().as_deref(), Some(keys::TTL));
}

fn t0() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

fn oid() -> OrderId {
    OrderId::parse("01JD0000000000000000000001").unwrap()
}

#[test]
fn webhook_mail_and_preferences_keys() {
    let a = webhook_item("easypost", "evt_1", t0(), 30).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("WEBHOOK#easypost#evt_1"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("WEBHOOK"));
    assert_eq!(
        a.get("expiresAt").and_then(|v| v.as_n().ok()).cloned(),
        Some((t0() + chrono::Duration::days(30)).timestamp().to_string())
    );
    let a = mail_item("order.confirmed#01JD", "sending", 5, t0()).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("MAIL#order.confirmed#01JD"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("MAIL"));
    assert!(a.contains_key("expiresAt"));
    let p = oms_shared::domain::support::Preferences { marketing_emails: false, ..Default::default() };
    let a = preferences_item(&CustomerId::parse("cust-1").unwrap(), &p).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("CUSTOMER#cust-1"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("PREFERENCES"));
}

#[test]
fn label_and_payment_reference_keys() {
    let l = LabelDoc {
        order_id: oid(),
        shipment_id: ShipmentId::parse("01JD0000000000000000000002").unwrap(),
        label_id: "lbl".into(),
        carrier: "sandbox".into(),
        tracking_number: "SBX1".into(),
        pdf_base64: String::new(),
        created_at: t0(),
    };
    let a = label_item(&l).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("ORDER#01JD0000000000000000000001"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("LABEL#01JD0000000000000000000002"));
    let a = payment_ref_item("pi_1", &PaymentRef { order_id: oid() }).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("PAYMENT#pi_1"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("PAYMENT"));
}

#[test]
fn return_and_return_label_keys() {
    use oms_shared::domain::returns::*;
    let id = ReturnId::parse("01JD0000000000000000000003").unwrap();
    let r = Rma {
        id: id.clone(),
        order_id: oid(),
        customer: CustomerId::parse("cust-1").unwrap(),
        lines: vec![],
        resolution: Resolution::Refund,
        exchange_lines: vec![],
        status: ReturnStatus::Issued,
        location_id: loc_id("WH-EAST"),
        label: Some(ReturnLabel {
            carrier: "sandbox".into(),
            tracking_number: "SBXR".into(),
            label_id: "l".into(),
            service: None,
            document_url: None,
        }),
        exchange_order_id: None,
        credit_returned_at: None,
        receipt_keys: Vec::new(),
        version: 1,
        created_at: t0(),
        updated_at: t0(),
    };
    let a = rma_item(&r).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("ORDER#01JD0000000000000000000001"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("RETURN#01JD0000000000000000000003"));
    assert_eq!(attr(&a, "GSI1PK").as_deref(), Some("RMA#01JD0000000000000000000003"));
    assert_eq!(attr(&a, "GSI1SK").as_deref(), Some("RETURN"));
    assert_eq!(attr(&a, "GSI3PK").as_deref(), Some("TRACKING#sandbox#SBXR"));
    assert_eq!(attr(&a, "GSI3SK").as_deref(), Some("RETURN"));
    let doc = ReturnLabelDoc { pdf_base64: String::new() };
    let a = return_label_item(&oid(), &id, &doc).to_attrs().unwrap();
    assert_eq!(attr(&a, "SK").as_deref(), Some("RETURNLABEL#01JD0000000000000000000003"));
}

#[test]
fn case_keys() {
    use oms_shared::domain::support::*;
    let c = Case {
        id: CaseId::parse("01JD0000000000000000000004").unwrap(),
        order_id: oid(),
        kind: CaseKind::Dispute,
        status: CaseStatus::Open,
        subject: "s".into(),
        description: None,
        resolution: None,
        external_ref: None,
        opened_by: "agent-1".into(),
        due_by: None,
        messages: vec![],
        version: 1,
        created_at: t0(),
        updated_at: t0(),
    };
    let a = case_item(&c).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("ORDER#01JD0000000000000000000001"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("CASE#01JD0000000000000000000004"));
    assert_eq!(attr(&a, "GSI1PK").as_deref(), Some("CASE#01JD0000000000000000000004"));
    assert_eq!(attr(&a, "GSI1SK").as_deref(), Some("CASE"));
    assert_eq!(attr(&a, "GSI2PK").as_deref(), Some("CASES#open"));
    assert_eq!(attr(&a, "GSI2SK").as_deref(), Some("2026-11-20T12:00:00.000Z#01JD0000000000000000000004"));
}

#[test]
fn outbox_keys() {
    let effects = vec![Effect::VoidLabel { label_id: "lbl_1".into() }];
    let r = ChangeRecord {
        entries: vec![],
        effects: effects.clone(),
        events: String::new(),
        sequence: None,
        dispatch: Some("effects".into()),
        created_at: t0(),
    };
    let id = change_record_id(&t0(), "01JD0000000000000000000005");
    let a = change_record_item(&oid(), &r, &id).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("ORDER#01JD0000000000000000000001"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("EVENT#2026-11-20T12:00:00.000Z#01JD0000000000000000000005"));
    // The stream filter's cue; the outbox index only once a dispatch failed (`defer_effects`
    // sets OUTBOX#<shard> / the record id).
    assert_eq!(attr(&a, "dispatch").as_deref(), Some("effects"));
    assert_eq!(attr(&a, "GSI2PK"), None);
    assert_eq!(keys::outbox_gsi2pk(&oid()), format!("OUTBOX#{}", keys::shard("01JD0000000000000000000001")));
    let sk = attr(&a, "SK").unwrap();
    assert_eq!(keys::parse_outbox("ORDER#01JD0000000000000000000001", &sk), Some((oid(), id.clone())));
    assert_eq!(keys::outbox(&oid(), &id).sk, sk);
    // The entry read back from the record's stream image (DynamoDB JSON), as the effects
    // function dispatches it without a read.
    let image = serde_json::to_value(serde_dynamo::Item::from(a)).unwrap();
    let entry = oms_shared::adapters::dynamo::entities::outbox::entry_from_image(&image).unwrap();
    assert_eq!((entry.order_id, entry.id, entry.effects), (oid(), id.clone(), effects));
    // A record without effects has no cue and no entry.
    let quiet = ChangeRecord {
        entries: vec![],
        effects: vec![],
        events: String::new(),
        sequence: None,
        dispatch: None,
        created_at: t0(),
    };
    let a = change_record_item(&oid(), &quiet, &id).to_attrs().unwrap();
    assert_eq!((attr(&a, "GSI2PK"), attr(&a, "dispatch")), (None, None));
    let image = serde_json::to_value(serde_dynamo::Item::from(a)).unwrap();
    assert_eq!(oms_shared::adapters::dynamo::entities::outbox::entry_from_image(&image), None);
    // Outbox items written before change records keep their keys.
    let e = OutboxEntry {
        order_id: oid(),
        id: "01JD0000000000000000000005".into(),
        effects: vec![],
        created_at: t0(),
        events: vec![],
        sequence: None,
        deferral: None,
    };
    let a = outbox_item(&e).to_attrs().unwrap();
    assert_eq!(attr(&a, "SK").as_deref(), Some("OUTBOX#01JD0000000000000000000005"));
    assert_eq!(keys::parse_outbox("ORDER#01JD0000000000000000000001", "OUTBOX#x"), Some((oid(), "x".into())));
    assert_eq!(keys::parse_outbox("ORDER#01JD0000000000000000000001", "ORDER"), None);
}

#[test]
fn customer_profile_lookup_and_settings_keys() {
    use oms_shared::domain::customer::SearchKey;
    let c = CustomerId::parse("cust-1").unwrap();
    assert_eq!(
        (keys::customer_profile(&c).pk, keys::customer_profile(&c).sk),
        ("CUSTOMER#cust-1".into(), "PROFILE".into())
    );
    let e = keys::customer_lookup(&SearchKey::Email("ann@example.com".into()), &c);
    assert_eq!((e.pk.as_str(), e.sk.as_str()), ("LOOKUP#E#ann@example.com", "CUSTOMER#cust-1"));
    let p = keys::customer_lookup(&SearchKey::Phone("125550100".into()), &c);
    assert_eq!((p.pk.as_str(), p.sk.as_str()), ("LOOKUP#P#125550100", "CUSTOMER#cust-1"));
    let n = keys::customer_lookup(&SearchKey::NameToken("annabel".into()), &c);
    assert_eq!((n.pk.as_str(), n.sk.as_str()), ("LOOKUP#N#an", "annabel#cust-1"));
    assert_eq!(keys::customer_lookup_query(&SearchKey::NameToken("ann".into())), ("LOOKUP#N#an".into(), "ann".into()));
    assert_eq!(
        (keys::settings("CONFIRMATION_CALLS").pk, keys::settings("CONFIRMATION_CALLS").sk),
        ("SETTINGS".into(), "CONFIRMATION_CALLS".into())
    );
}
