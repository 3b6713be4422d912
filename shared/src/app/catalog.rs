//! Admin catalog: products, locations, stock counts.

use super::{AppError, Oms};
use crate::app::views::StockDto;
use crate::domain::limits::{self, LIMITS};
use crate::domain::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductInput {
    pub name: String,
    pub price: Money,
    #[serde(default = "goods")]
    pub kind: ProductKind,
    #[serde(default)]
    pub weight_grams: u32,
    #[serde(default = "no_dimensions")]
    pub dimensions: Dimensions,
    #[serde(default = "yes")]
    pub returnable: bool,
    #[serde(default)]
    pub return_window_days: Option<u16>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub category: Option<String>,
    /// Service products (1.13.0): the visit's duration, skills and regions.
    #[serde(default)]
    pub service: Option<crate::domain::service::ServiceSpec>,
    /// Goods (1.13.0): months of warranty from delivery.
    #[serde(default)]
    pub warranty_months: Option<u16>,
    /// Goods (1.13.0): units accepted as backorders while out of stock.
    #[serde(default)]
    pub backorder_limit: Option<u32>,
}

fn goods() -> ProductKind {
    ProductKind::Goods
}
fn yes() -> bool {
    true
}
fn no_dimensions() -> Dimensions {
    Dimensions { length_mm: 0, width_mm: 0, height_mm: 0 }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocationInput {
    pub name: String,
    pub kind: LocationKind,
    pub coordinates: GeoPoint,
    pub country: CountryCode,
    pub postal_code: String,
    pub ships: bool,
    #[serde(default)]
    pub pickup: bool,
    #[serde(default = "yes")]
    pub active: bool,
    /// Street address (additive in contract 1.4.0; labels show it as ship-from and return-to).
    #[serde(default)]
    pub address: Option<StreetAddress>,
    /// Staff pick and pack here with the OMS (1.11.0): labels are bought after packing.
    #[serde(default)]
    pub packing: bool,
    /// Stores (1.11.0): opening hours and preparation minutes for pickup promises.
    #[serde(default)]
    pub opening_hours: Option<crate::domain::hours::OpeningHours>,
    #[serde(default)]
    pub pickup_lead_minutes: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StockInput {
    /// On hand as counted; may be left out only when the request changes `shards` alone.
    #[serde(default)]
    pub on_hand: Option<i64>,
    /// How many shard items the stock is split over (a hot SKU); unchanged when absent.
    #[serde(default)]
    pub shards: Option<u16>,
    /// The WMS's sequence number for this count: one at or below the last applied is ignored.
    #[serde(default)]
    pub sequence: Option<u64>,
    /// Units kept back from orders and storefronts; unchanged when absent.
    #[serde(default)]
    pub safety_stock: Option<i64>,
    /// Units kept back from one channel's orders on top of `safetyStock` (each channel given
    /// is set, 0 removes it; others unchanged).
    #[serde(default)]
    pub channel_safety_stock: Option<std::collections::BTreeMap<crate::domain::order::Channel, i64>>,
    /// Below this many promisable units the location is low (`inventory.low`, once per
    /// crossing); unchanged when absent.
    #[serde(default)]
    pub reorder_point: Option<i64>,
    /// The least worth ordering when low; unchanged when absent.
    #[serde(default)]
    pub reorder_quantity: Option<i64>,
}

/// An adjustment with a reason code: units found or received, damaged or stolen.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StockAdjustmentInput {
    pub delta: i64,
    pub reason: crate::domain::inventory::CountReason,
    #[serde(default)]
    pub sequence: Option<u64>,
}

impl Oms {
    pub async fn upsert_product(&self, sku: Sku, input: ProductInput) -> Result<Product, AppError> {
        let p = Product {
            sku,
            name: input.name.trim().to_owned(),
            price: input.price,
            kind: input.kind,
            weight_grams: input.weight_grams,
            dimensions: input.dimensions,
            // Services (installation and the like) cannot be sent back once used.
            returnable: input.returnable && input.kind == ProductKind::Goods,
            return_window_days: input.return_window_days.unwrap_or(Product::DEFAULT_RETURN_WINDOW_DAYS),
            active: input.active,
            category: input.category,
            service: input.service,
            warranty_months: input.warranty_months,
            backorder_limit: input.backorder_limit,
        };
        p.validate().map_err(|e| match e {
            crate::domain::catalog::CatalogError::Field(field, why) => AppError::invalid_field(field, why),
            crate::domain::catalog::CatalogError::Mismatch(field, why) => {
                AppError::UnprocessableField { kind: "invalid-product", detail: format!("{field}: {why}"), field }
            }
            other => AppError::invalid(other.to_string()),
        })?;
        let currency = p.price.currency();
        if !limits::sold_in(currency) {
            return Err(AppError::invalid_field(
                "price",
                format!("the shop sells in {}, not {currency}", limits::shop_currencies()),
            ));
        }
        let cap = limits::threshold_money(LIMITS.max_unit_price, currency);
        if p.price.amount() > cap.amount() {
            return Err(AppError::invalid_field("price", format!("a unit price is at most {cap}")));
        }
        self.store.put_product(&p).await?;
        Ok(p)
    }

    pub async fn upsert_location(&self, id: LocationId, input: LocationInput) -> Result<Location, AppError> {
        let postal_code = address::normalize_postal_code(input.country, &input.postal_code)
            .map_err(|e| AppError::invalid_field("postalCode", e))?;
        let l = Location {
            id,
            name: input.name.trim().to_owned(),
            kind: input.kind,
            coordinates: input.coordinates,
            country: input.country,
            postal_code,
            ships: input.ships,
            pickup: input.pickup,
            active: input.active,
            address: input.address.map(|a| StreetAddress {
                line1: a.line1.trim().to_owned(),
                line2: a.line2.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
                city: a.city.trim().to_owned(),
                region: a.region.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
            }),
            packing: input.packing,
            opening_hours: input.opening_hours,
            pickup_lead_minutes: input.pickup_lead_minutes,
        };
        if let Some(h) = &l.opening_hours {
            h.validate().map_err(|(field, why)| AppError::invalid_field(field, why))?;
        }
        if l.pickup_lead_minutes > crate::domain::hours::MAX_LEAD_MINUTES {
            return Err(AppError::invalid_field(
                "pickupLeadMinutes",
                format!("at most {} minutes", crate::domain::hours::MAX_LEAD_MINUTES),
            ));
        }
        l.validate().map_err(|e| match e {
            CatalogError::Field(field, why) => AppError::invalid_field(field, why),
            e => AppError::invalid(e.to_string()),
        })?;
        self.store.put_location(&l).await?;
        Ok(l)
    }

    /// Every SKU × location below its reorder point, with what to order.
    pub async fn low_stock(&self) -> Result<Vec<LowStock>, AppError> {
        use crate::domain::inventory::{promisable, suggested_quantity};
        let mut out = Vec::new();
        for t in self.stock_totals().await? {
            let Some(point) = t.control.as_ref().and_then(|c| c.reorder_point) else { continue };
            if promisable(&t) < point {
                out.push(LowStock {
                    promisable: promisable(&t),
                    reorder_point: point,
                    suggested_quantity: suggested_quantity(&t),
                    low_since: t.control.as_ref().and_then(|c| c.low_since),
                    stock: StockDto::of(t, false),
                });
            }
        }
        Ok(out)
    }

    /// Every SKU × location's stock, summed over its shards.
    async fn stock_totals(&self) -> Result<Vec<crate::domain::StockRecord>, AppError> {
        let products = self.store.list_products().await?;
        let all = futures::future::try_join_all(products.iter().map(|p| self.store.stock_for_sku(&p.sku))).await?;
        Ok(all.into_iter().flat_map(crate::domain::stock::per_location).collect())
    }

    /// Every SKU × location whose last WMS count differed from what the OMS had on hand.
    pub async fn inventory_drift(&self) -> Result<Vec<StockDto>, AppError> {
        Ok(self
            .stock_totals()
            .await?
            .into_iter()
            .filter(|t| t.control.as_ref().and_then(|c| c.last.as_ref()).is_some_and(|l| l.drift != 0))
            .map(|t| StockDto::of(t, false))
            .collect())
    }
}

/// A location low on a SKU: what it can promise, its reorder point and what to order.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LowStock {
    #[serde(flatten)]
    pub stock: StockDto,
    pub promisable: i64,
    pub reorder_point: i64,
    pub suggested_quantity: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_since: Option<chrono::DateTime<chrono::Utc>>,
}
