#![allow(dead_code)]
use oms_harness::TestTable;
use oms_shared::adapters::dynamo::DynamoStore;
use oms_shared::domain::*;

pub async fn store() -> anyhow::Result<DynamoStore> {
    let t = TestTable::new().await?;
    Ok(DynamoStore::new(t.client, t.name))
}

pub fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

pub fn loc_id(s: &str) -> LocationId {
    LocationId::parse(s).unwrap()
}

pub fn usd(a: i64) -> Money {
    Money::new(a, Currency::USD).unwrap()
}

pub fn product(s: &str, price: i64) -> Product {
    Product {
        sku: sku(s),
        name: format!("Product {s}"),
        price: usd(price),
        kind: ProductKind::Goods,
        weight_grams: 400,
        dimensions: Dimensions { length_mm: 200, width_mm: 100, height_mm: 50 },
        returnable: true,
        return_window_days: 30,
        active: true,
        category: None,
        service: None,
        warranty_months: None,
        backorder_limit: None,
    }
}

pub fn warehouse(id: &str) -> Location {
    Location {
        id: loc_id(id),
        name: format!("Warehouse {id}"),
        kind: LocationKind::Warehouse,
        coordinates: GeoPoint::new(40_700_000, -74_200_000).unwrap(),
        country: CountryCode::parse("US").unwrap(),
        postal_code: "07102".into(),
        ships: true,
        pickup: false,
        active: true,
        address: None,
        packing: false,
        opening_hours: None,
        pickup_lead_minutes: 0,
    }
}

pub fn address() -> Address {
    Address::parse(&AddressInput {
        name: "Ann Lee".into(),
        line1: "1 Main St".into(),
        line2: None,
        city: "New York".into(),
        region: Some("NY".into()),
        postal_code: "10001".into(),
        country: "US".into(),
        phone: None,
    })
    .unwrap()
}

pub fn order(customer: &str, email: &str) -> Order {
    let now = chrono::Utc::now();
    Order {
        id: OrderId::generate(),
        customer: CustomerId::parse(customer).unwrap(),
        channel: Channel::Web,
        email: Email::parse(email).unwrap(),
        status: OrderStatus::Placed,
        lines: vec![],
        shipping_address: address(),
        billing_address: None,
        former_addresses: Vec::new(),
        delivery: Delivery {
            take_away: false,
            service_level: ServiceLevel::Standard,
            pickup_location: None,
            promised_by: now.date_naive(),
            cost: usd(599),
        },
        totals: Totals { subtotal: usd(0), discount: None, shipping: usd(599), tax: usd(0), total: usd(599) },
        payment: Payment {
            token: "tok_visa".into(),
            authorization_id: None,
            captured: None,
            refunded: None,
            ledger: vec![],
            recovery: None,
            method: Default::default(),
            credit_refunded: None,
        },
        reservations: vec![],
        status_reason: None,
        cart_id: None,
        version: 1,
        review_cleared: false,
        held_from: None,
        credit: None,
        exchange_for: None,
        placement_key: None,
        confirmation: None,
        pickup: None,
        visits: Vec::new(),
        warranty_claims: Vec::new(),
        rules_version: None,
        discounts: Default::default(),
        created_at: now,
        updated_at: now,
        stored_body: Default::default(),
    }
}
