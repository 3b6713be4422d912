//! Catalog reads for storefronts, without sign-in: products by category and text, one
//! product, its available-to-promise per location, and the delivery options (cost, date,
//! stores that have it) for a postal code, without a cart or a full address.

use super::orders::QuoteRequest;
use super::{AppError, Caller, Oms};
use crate::domain::catalog::valid_category;
use crate::domain::pricing::LineRequest;
use crate::domain::sourcing::DeliveryOption;
use crate::domain::*;
use serde::Serialize;

/// A product as shoppers see it (no weights, dimensions or inactive products).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PublicProduct {
    pub sku: Sku,
    pub name: String,
    pub price: Money,
    pub kind: ProductKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub returnable: bool,
    pub return_window_days: u16,
}

impl From<&Product> for PublicProduct {
    fn from(p: &Product) -> Self {
        PublicProduct {
            sku: p.sku.clone(),
            name: p.name.clone(),
            price: p.price,
            kind: p.kind,
            category: p.category.clone(),
            returnable: p.returnable,
            return_window_days: if p.returnable { p.return_window_days } else { 0 },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductList {
    pub products: Vec<PublicProduct>,
}

/// Units a location can promise now (sum of its stock shards' available units).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LocationAvailability {
    pub location_id: LocationId,
    pub name: String,
    pub kind: LocationKind,
    pub available: i64,
    /// A store where the customer can collect the item.
    pub pickup: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub sku: Sku,
    /// Every active location that stocks the SKU.
    pub locations: Vec<LocationAvailability>,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryEstimate {
    pub sku: Sku,
    pub quantity: u32,
    pub postal_code: String,
    pub country: String,
    /// Delivery by service level and store pickup nearby: cost, promised date, locations.
    pub options: Vec<DeliveryOption>,
}

/// A search: at most this many products per answer.
const MAX_PRODUCTS: usize = 200;

fn active_product(p: Option<Product>) -> Result<Product, AppError> {
    p.filter(|p| p.active).ok_or(AppError::NotFound)
}

fn sku_of(s: &str) -> Result<Sku, AppError> {
    Sku::parse(s).map_err(|_| AppError::invalid_field("sku", "a SKU: letters, digits and dashes"))
}

impl Oms {
    /// Active products, by category and words of their name (case-insensitive), by SKU.
    pub async fn public_products(&self, category: Option<&str>, q: Option<&str>) -> Result<ProductList, AppError> {
        if let Some(c) = category
            && !valid_category(c)
        {
            return Err(AppError::invalid_field("category", "1-40 lower-case letters, digits or dashes"));
        }
        let words: Vec<String> = match q {
            Some(q) if q.chars().count() > 100 || q.chars().any(char::is_control) => {
                return Err(AppError::invalid_field("q", "at most 100 characters, no control characters"));
            }
            Some(q) => q.split_whitespace().map(str::to_lowercase).collect(),
            None => Vec::new(),
        };
        let mut products: Vec<PublicProduct> = self
            .store
            .list_products()
            .await?
            .iter()
            .filter(|p| p.active && category.is_none_or(|c| p.category.as_deref() == Some(c)))
            .filter(|p| {
                let name = p.name.to_lowercase();
                let sku = p.sku.as_str().to_lowercase();
                words.iter().all(|w| name.contains(w.as_str()) || sku.contains(w.as_str()))
            })
            .map(PublicProduct::from)
            .collect();
        products.sort_by(|a, b| a.sku.as_str().cmp(b.sku.as_str()));
        products.truncate(MAX_PRODUCTS);
        Ok(ProductList { products })
    }

    pub async fn public_product(&self, sku: &str) -> Result<PublicProduct, AppError> {
        let sku = sku_of(sku)?;
        Ok(PublicProduct::from(&active_product(self.store.get_product(&sku).await?)?))
    }

    /// What each active location can promise of a SKU now.
    pub async fn availability(
        &self,
        sku: &str,
        channel: Option<crate::domain::order::Channel>,
    ) -> Result<Availability, AppError> {
        let sku = sku_of(sku)?;
        active_product(self.store.get_product(&sku).await?)?;
        let records = self.store.stock_for_sku(&sku).await?;
        let locations = self.store.list_locations().await?;
        let mut out = Vec::new();
        for l in locations.iter().filter(|l| l.active) {
            let shards: Vec<StockRecord> = records.iter().filter(|r| r.location_id == l.id).cloned().collect();
            let Some(sum) = crate::domain::stock::total(&shards) else { continue };
            out.push(LocationAvailability {
                location_id: l.id.clone(),
                name: l.name.clone(),
                kind: l.kind,
                // Available to promise: after the location's safety stock (and the channel's).
                available: crate::domain::inventory::promisable_for(&sum, channel),
                pickup: l.pickup,
            });
        }
        let total = out.iter().map(|l| l.available).sum();
        Ok(Availability { sku, locations: out, total })
    }

    /// Delivery cost and date per service level, and nearby stores that have the item, for a
    /// postal code: a quote of one line to an address known only by its postal code.
    pub async fn delivery_estimate(
        &self,
        sku: &str,
        postal_code: Option<&str>,
        country: Option<&str>,
        quantity: Option<u32>,
    ) -> Result<DeliveryEstimate, AppError> {
        let sku = sku_of(sku)?;
        let postal_code = postal_code
            .filter(|p| {
                (1..=16).contains(&p.len())
                    && p.trim() == *p
                    && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
            })
            .ok_or_else(|| {
                AppError::invalid_field("postalCode", "a postal code: 1-16 letters, digits, spaces or dashes")
            })?;
        let country = country.unwrap_or("US");
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(AppError::invalid_field("country", "an ISO 3166-1 alpha-2 code such as US"));
        }
        let quantity = quantity.unwrap_or(1);
        let q = Quantity::new(quantity).map_err(|e| AppError::invalid_field("quantity", e))?;
        active_product(self.store.get_product(&sku).await?)?;
        let req = QuoteRequest {
            promotion_codes: None,
            channel: None,
            cart_id: None,
            lines: Some(vec![LineRequest { sku: sku.clone(), quantity: q }]),
            shipping_address: AddressInput {
                name: "Shopper".into(),
                line1: "Estimate".into(),
                line2: None,
                city: "Estimate".into(),
                region: Some("NA".into()),
                postal_code: postal_code.to_owned(),
                country: country.to_owned(),
                phone: None,
            },
            order_id: None,
        };
        let anonymous =
            Caller::customer(CustomerId::parse("anonymous").map_err(|e| AppError::Internal(e.to_string()))?);
        let quote = self.quote(&anonymous, req).await.map_err(|e| match e {
            // The address is the postal code and country given: a well-formed value the country
            // does not have is refused naming that field.
            AppError::Invalid { detail, field: Some(f) } if f.starts_with("shippingAddress.") => {
                let field = if f.ends_with("country") { "country" } else { "postalCode" };
                AppError::UnprocessableField {
                    kind: if field == "country" { "unknown-country" } else { "invalid-postal-code" },
                    detail: detail.replacen(&f, field, 1),
                    field,
                }
            }
            other => other,
        })?;
        Ok(DeliveryEstimate {
            sku,
            quantity,
            postal_code: postal_code.to_owned(),
            country: country.to_owned(),
            options: quote.options,
        })
    }
}
