//! Admin catalog: products, locations, stock counts.

use super::{AppError, Oms};
use crate::app::views::StockDto;
use crate::domain::inventory::{CountReason, StockCount, Target};
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
    pub on_hand: i64,
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

    pub async fn set_stock(&self, sku: Sku, location: LocationId, input: StockInput) -> Result<StockDto, AppError> {
        if !(0..=10_000_000).contains(&input.on_hand) {
            return Err(AppError::invalid_field("onHand", "must be between 0 and 10000000"));
        }
        check_sequence(input.sequence)?;
        let max = crate::domain::stock::MAX_STOCK_SHARDS;
        if input.shards.is_some_and(|n| !(1..=max).contains(&n)) {
            return Err(AppError::invalid_field("shards", format!("must be between 1 and {max}")));
        }
        if self.store.get_product(&sku).await?.is_none() {
            return Err(AppError::UnprocessableField {
                kind: "unknown-sku",
                detail: format!("sku: no product {sku}"),
                field: "sku",
            });
        }
        if self.store.get_location(&location).await?.is_none() {
            return Err(AppError::Unprocessable {
                kind: "unknown-location",
                detail: format!("no location {location}"),
            });
        }
        for (field, v) in [
            ("safetyStock", input.safety_stock),
            ("reorderPoint", input.reorder_point),
            ("reorderQuantity", input.reorder_quantity),
        ] {
            if v.is_some_and(|s| !(0..=10_000_000).contains(&s)) {
                return Err(AppError::invalid_field(field, "must be between 0 and 10000000"));
            }
        }
        if input.channel_safety_stock.iter().flatten().any(|(_, v)| !(0..=10_000_000).contains(v)) {
            return Err(AppError::invalid_field("channelSafetyStock", "each must be between 0 and 10000000"));
        }
        let count = StockCount {
            target: Target::Set(input.on_hand),
            sequence: input.sequence,
            reason: CountReason::Count,
            safety_stock: input.safety_stock,
            channel_safety_stock: input.channel_safety_stock.clone(),
            reorder_point: input.reorder_point,
            reorder_quantity: input.reorder_quantity,
            at: self.clock.now(),
        };
        let counted = self.store.count_stock(&sku, &location, &count).await.map_err(|e| match e {
            crate::ports::StoreError::StockPrecondition(_) => AppError::Unprocessable {
                kind: "stock-below-committed",
                detail: "on hand cannot go below units already held or allocated for orders".into(),
            },
            other => other.into(),
        })?;
        if !counted.applied {
            return Ok(StockDto::of(counted.record, true));
        }
        let mut r = counted.record;
        if let Some(n) = input.shards.filter(|n| *n != r.shards) {
            r = self.store.set_shards(&sku, &location, n).await.map_err(|e| match e {
                crate::ports::StoreError::StockPrecondition(_) => AppError::Unprocessable {
                    kind: "stock-shard-committed",
                    detail: "a shard that would go still has units held or allocated for orders; retry later".into(),
                },
                other => other.into(),
            })?;
        }
        self.stock_came(&sku).await;
        Ok(StockDto::of(r, false))
    }

    /// Stock of a SKU changed: its backorders waiting get their chance, oldest first (best
    /// effort: a failure leaves them waiting for the next count or the allocate route).
    async fn stock_came(&self, sku: &Sku) {
        let has = self.store.get_products(std::slice::from_ref(sku)).await.ok().and_then(|mut m| m.remove(sku));
        if has.is_some_and(|p| p.backorder_limit.is_some())
            && let Err(e) = self.allocate_backorders(sku).await
        {
            tracing::warn!(sku = %sku, error = %e, "backorder allocation deferred");
        }
    }

    /// Units found, received, damaged or stolen at a location (never below what orders hold).
    pub async fn adjust_stock(
        &self,
        sku: Sku,
        location: LocationId,
        input: StockAdjustmentInput,
    ) -> Result<StockDto, AppError> {
        if input.delta == 0 || input.delta.abs() > 10_000_000 {
            return Err(AppError::invalid_field("delta", "between -10000000 and 10000000, not 0"));
        }
        check_sequence(input.sequence)?;
        if input.reason == CountReason::Count {
            return Err(AppError::invalid_field("reason", "a full count is PUT /v1/admin/stock/{sku}/{locationId}"));
        }
        let current = self.store.get_stock(&sku, &location).await?.ok_or(AppError::NotFound)?;
        let after = current.level.on_hand + input.delta;
        if after < current.level.held + current.level.allocated || after > crate::domain::inventory::MAX_ON_HAND {
            return Err(AppError::UnprocessableField {
                kind: "stock-below-committed",
                detail: format!(
                    "delta: on hand would be {after}; it cannot go below the {} units held or allocated for orders",
                    current.level.held + current.level.allocated
                ),
                field: "delta",
            });
        }
        let count = StockCount {
            target: Target::Delta(input.delta),
            sequence: input.sequence,
            reason: input.reason,
            safety_stock: None,
            channel_safety_stock: None,
            reorder_point: None,
            reorder_quantity: None,
            at: self.clock.now(),
        };
        let counted = self.store.count_stock(&sku, &location, &count).await.map_err(|e| match e {
            crate::ports::StoreError::StockPrecondition(_) => AppError::UnprocessableField {
                kind: "stock-below-committed",
                detail: "delta: on hand cannot go below units held or allocated for orders".into(),
                field: "delta",
            },
            other => other.into(),
        })?;
        tracing::info!(sku = %sku, location = %location, delta = input.delta, "stock adjusted");
        if input.delta > 0 {
            self.stock_came(&sku).await;
        }
        Ok(StockDto::of(counted.record, !counted.applied))
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

fn check_sequence(sequence: Option<u64>) -> Result<(), AppError> {
    use crate::domain::inventory::MAX_SEQUENCE;
    if sequence.is_some_and(|q| q > MAX_SEQUENCE) {
        return Err(AppError::invalid_field("sequence", format!("between 0 and {MAX_SEQUENCE}")));
    }
    Ok(())
}
