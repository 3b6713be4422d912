//! Demo catalog, locations and stock for local runs (idempotent: re-seeding overwrites).

use oms_shared::app::Oms;
use oms_shared::app::catalog::{LocationInput, ProductInput, StockInput};
use oms_shared::domain::*;

fn usd(a: i64) -> Money {
    Money::new(a, Currency::USD).unwrap_or(Money::zero(Currency::USD))
}

struct P(&'static str, &'static str, i64, ProductKind, u32, bool);
struct L(&'static str, &'static str, LocationKind, i32, i32, &'static str, bool, bool);

const PRODUCTS: &[P] = &[
    P("TSHIRT-BLK-M", "Black T-shirt, M", 1999, ProductKind::Goods, 200, true),
    P("MUG-CLASSIC", "Classic mug", 1250, ProductKind::Goods, 450, true),
    P("HEADPHONES-X1", "X1 noise-cancelling headphones", 14999, ProductKind::Goods, 350, true),
    P("DESK-LAMP", "LED desk lamp", 3999, ProductKind::Goods, 1200, true),
    P("TV-55", "55\" 4K television", 49999, ProductKind::Goods, 18000, true),
    P("INSTALL-TV", "TV wall-mount installation", 7999, ProductKind::Service, 0, false),
    P("SOCKS-3PK", "Socks, 3 pack", 999, ProductKind::Goods, 150, true),
];

const LOCATIONS: &[L] = &[
    L("WH-NJ", "Newark warehouse", LocationKind::Warehouse, 40_735_700, -74_172_400, "07102", true, false),
    L("WH-CA", "Ontario (CA) warehouse", LocationKind::Warehouse, 34_063_300, -117_650_900, "91761", true, false),
    L("WH-TX", "Dallas warehouse", LocationKind::Warehouse, 32_776_700, -96_797_000, "75201", true, false),
    L("STORE-NYC", "New York 5th Ave store", LocationKind::Store, 40_754_000, -73_984_000, "10001", true, true),
    L("STORE-SF", "San Francisco Market St store", LocationKind::Store, 37_782_000, -122_408_000, "94103", false, true),
];

/// Street, city and state of each location above, in order.
const STREETS: [(&str, &str, &str); 5] = [
    ("200 Frelinghuysen Ave", "Newark", "NJ"),
    ("4500 E Airport Dr", "Ontario", "CA"),
    ("1500 Marilla St", "Dallas", "TX"),
    ("350 5th Ave", "New York", "NY"),
    ("900 Market St", "San Francisco", "CA"),
];

/// (sku, location, on hand)
const STOCK: &[(&str, &str, i64)] = &[
    ("TSHIRT-BLK-M", "WH-NJ", 120),
    ("TSHIRT-BLK-M", "WH-CA", 80),
    ("TSHIRT-BLK-M", "STORE-NYC", 10),
    ("MUG-CLASSIC", "WH-NJ", 60),
    ("MUG-CLASSIC", "WH-TX", 40),
    ("HEADPHONES-X1", "WH-CA", 25),
    ("HEADPHONES-X1", "STORE-NYC", 4),
    ("HEADPHONES-X1", "STORE-SF", 3),
    ("DESK-LAMP", "WH-TX", 30),
    ("TV-55", "WH-NJ", 8),
    ("TV-55", "WH-CA", 5),
    ("SOCKS-3PK", "WH-NJ", 200),
    ("SOCKS-3PK", "STORE-SF", 20),
];

/// The storefront category of a seeded product.
fn category(sku: &str) -> &'static str {
    match sku {
        "TSHIRT-BLK-M" | "SOCKS-3PK" => "apparel",
        "MUG-CLASSIC" | "DESK-LAMP" => "home",
        "INSTALL-TV" => "services",
        _ => "electronics",
    }
}

pub async fn seed(oms: &Oms) -> anyhow::Result<()> {
    for p in PRODUCTS {
        oms.upsert_product(
            Sku::parse(p.0)?,
            ProductInput {
                name: p.1.into(),
                price: usd(p.2),
                kind: p.3,
                weight_grams: p.4,
                dimensions: Dimensions { length_mm: 300, width_mm: 200, height_mm: 100 },
                returnable: p.5,
                return_window_days: None,
                active: true,
                category: Some(category(p.0).into()),
                service: (p.3 == ProductKind::Service).then(|| oms_shared::domain::service::ServiceSpec {
                    duration_minutes: 120,
                    skills: vec!["tv-mount".into()],
                    regions: vec!["US".into()],
                }),
                warranty_months: (p.0 == "TV-55" || p.0 == "HEADPHONES-X1").then_some(24),
                backorder_limit: (p.0 == "TV-55").then_some(20),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("seeding product {}: {e}", p.0))?;
    }
    for (l, (line1, city, region)) in LOCATIONS.iter().zip(STREETS) {
        oms.upsert_location(
            LocationId::parse(l.0)?,
            LocationInput {
                name: l.1.into(),
                kind: l.2,
                coordinates: GeoPoint::new(l.3, l.4)?,
                country: CountryCode::parse("US")?,
                postal_code: l.5.into(),
                ships: l.6,
                pickup: l.7,
                active: true,
                address: Some(StreetAddress {
                    line1: (*line1).into(),
                    line2: None,
                    city: (*city).into(),
                    region: Some((*region).into()),
                }),
                // Labels as soon as orders are paid; a location is switched to packing with
                // the OMS by PUT /v1/admin/locations/{id} (`packing: true`).
                packing: false,
                opening_hours: None,
                pickup_lead_minutes: 0,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("seeding location {}: {e}", l.0))?;
    }
    for (s, l, q) in STOCK {
        oms.set_stock(
            Sku::parse(s)?,
            LocationId::parse(l)?,
            StockInput {
                on_hand: Some(*q),
                shards: None,
                sequence: None,
                safety_stock: None,
                channel_safety_stock: None,
                reorder_point: None,
                reorder_quantity: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("seeding stock {s}@{l}: {e}"))?;
    }
    Ok(())
}

/// Two weeks of technicians (two of them, mornings and afternoons) for the installation: the
/// runner's demo data (test stacks set the days they use themselves).
pub async fn technicians(oms: &Oms) -> anyhow::Result<()> {
    // Two weeks of technicians (two of them, mornings and afternoons) for the installation.
    let admin = oms_shared::app::Caller::admin(oms_shared::domain::CustomerId::parse("seed")?);
    let today = chrono::Utc::now().date_naive();
    for d in 1..=14 {
        let date = (today + chrono::Duration::days(d)).format("%Y-%m-%d").to_string();
        let window = |start: &str, end: &str| oms_shared::app::services::WindowInput {
            start: start.into(),
            end: end.into(),
            technician_minutes: 480,
            skills: vec!["tv-mount".into()],
        };
        let day = oms_shared::app::services::CapacityInput {
            windows: vec![window("08:00", "12:00"), window("13:00", "17:00")],
        };
        oms.put_capacity_day(&admin, "US", &date, day)
            .await
            .map_err(|e| anyhow::anyhow!("seeding capacity {date}: {e}"))?;
    }
    Ok(())
}

pub fn summary() -> String {
    format!("{} products, {} locations, {} stock records", PRODUCTS.len(), LOCATIONS.len(), STOCK.len())
}
