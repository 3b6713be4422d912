//! Golden tests: the exact keys each entity is stored under. Changing one of these is a data
//! migration, not a refactor.

mod common;
use chrono::TimeZone;
use common::*;
use oms_shared::adapters::dynamo::keys;
use oms_shared::adapters::dynamo::store::*;
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
    let r = StockRecord {
        sku: sku("MUG-1"),
        location_id: loc_id("WH-EAST"),
        level: StockLevel::with_on_hand(5).unwrap(),
        version: 1,
    };
    let a = stock_item(&r).to_attrs().unwrap();
    assert_eq!(attr(&a, "PK").as_deref(), Some("SKU#MUG-1"));
    assert_eq!(attr(&a, "SK").as_deref(), Some("STOCK#WH-EAST"));
    assert_eq!(a.get("available").and_then(|v| v.as_n().ok()).map(String::as_str), Some("5"));
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
    assert_eq!(attr(&a, "GSI2PK"), Some(format!("STATUS#placed#{}", keys::shard("01JD0000000000000000000001"))));
    assert_eq!(attr(&a, "GSI2SK").as_deref(), Some("2026-11-20T12:00:00.000Z#01JD0000000000000000000001"));
    assert_eq!(attr(&a, "GSI3PK").as_deref(), Some("EMAIL#ann@example.com"));
}

#[test]
fn shipment_keys() {
    let now = chrono::Utc::now();
    let sh = Shipment {
        id: ShipmentId::parse("01JD0000000000000000000002").unwrap(),
        order_id: OrderId::parse("01JD0000000000000000000001").unwrap(),
        location_id: loc_id("WH-EAST"),
        lines: vec![],
        status: ShipmentStatus::LabelCreated,
        service_level: ServiceLevel::Standard,
        carrier: Some("sandbox".into()),
        tracking_number: Some("SBX123".into()),
        label_id: None,
        estimated_delivery: None,
        shipped_at: None,
        delivered_at: None,
        captured: None,
        version: 0,
        created_at: now,
        updated_at: now,
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
    let a = timeline_item(&id, &e).to_attrs().unwrap();
    assert!(attr(&a, "SK").unwrap().starts_with("EVENT#2026-11-20T12:00:00.000Z#"));
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
