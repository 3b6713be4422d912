//! Server-side pricing: line prices come from the catalog, tax from the destination.

use super::address::CountryCode;
use super::catalog::{Product, ProductKind};
use super::ids::{Quantity, Sku};
use super::money::{Currency, Money, MoneyError};
use super::order::{OrderLine, Totals};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

pub const MAX_LINES: usize = super::limits::LIMITS.max_lines;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineRequest {
    pub sku: Sku,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("an order needs at least one line")]
    NoLines,
    #[error("at most {MAX_LINES} lines")]
    TooManyLines,
    #[error("sku {0} appears on more than one line")]
    DuplicateSku(Sku),
    #[error("unknown or unavailable skus: {}", .0.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))]
    UnknownSkus(Vec<Sku>),
    #[error("products are priced in different currencies")]
    MixedCurrency,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Sales tax / VAT in basis points by destination. A flat demo table: real deployments plug in
/// a tax service; what matters here is that tax is computed per line, in integers, and stored,
/// so refunds can return exactly what was charged.
pub fn tax_rate_bp(country: CountryCode) -> u32 {
    match country.as_str() {
        "US" => 800,
        "CA" => 1300,
        "GB" | "FR" => 2000,
        "DE" => 1900,
        _ => 0,
    }
}

pub fn price_lines(
    catalog: &HashMap<Sku, Product>,
    requests: &[LineRequest],
    destination: CountryCode,
) -> Result<Vec<OrderLine>, PricingError> {
    if requests.is_empty() {
        return Err(PricingError::NoLines);
    }
    if requests.len() > MAX_LINES {
        return Err(PricingError::TooManyLines);
    }
    let mut seen = BTreeSet::new();
    for r in requests {
        if !seen.insert(&r.sku) {
            return Err(PricingError::DuplicateSku(r.sku.clone()));
        }
    }
    let unknown: Vec<Sku> =
        requests.iter().filter(|r| !catalog.get(&r.sku).is_some_and(|p| p.active)).map(|r| r.sku.clone()).collect();
    if !unknown.is_empty() {
        return Err(PricingError::UnknownSkus(unknown));
    }
    let rate = tax_rate_bp(destination);
    let mut currency: Option<Currency> = None;
    let mut lines = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        let p = &catalog[&r.sku];
        match currency {
            None => currency = Some(p.price.currency()),
            Some(c) if c != p.price.currency() => return Err(PricingError::MixedCurrency),
            Some(_) => {}
        }
        let subtotal = p.price.checked_mul(r.quantity.get())?;
        lines.push(OrderLine {
            line_id: format!("L{}", i + 1),
            sku: r.sku.clone(),
            name: p.name.clone(),
            kind: p.kind,
            quantity: r.quantity.get(),
            unit_price: p.price,
            subtotal,
            tax: subtotal.apply_basis_points(rate)?,
            returnable: p.returnable,
            return_window_days: p.return_window_days,
            discount: None,
        });
    }
    Ok(lines)
}

pub fn totals(lines: &[OrderLine], shipping: Money) -> Result<Totals, PricingError> {
    let currency = shipping.currency();
    let subtotal = Money::sum(currency, lines.iter().map(|l| l.subtotal))?;
    let tax = Money::sum(currency, lines.iter().map(|l| l.tax))?;
    let discount = Money::sum(currency, lines.iter().filter_map(|l| l.discount))?;
    let total = subtotal.checked_sub(discount)?.checked_add(shipping)?.checked_add(tax)?;
    let discount = Some(discount).filter(|d| d.amount() > 0);
    Ok(Totals { subtotal, discount, shipping, tax, total })
}

/// Total weight of the goods on the lines, in grams.
pub fn goods_weight(catalog: &HashMap<Sku, Product>, lines: &[OrderLine]) -> u64 {
    lines
        .iter()
        .filter(|l| l.kind == ProductKind::Goods)
        .filter_map(|l| catalog.get(&l.sku).map(|p| u64::from(p.weight_grams) * u64::from(l.quantity)))
        .sum()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::catalog::Dimensions;
    use proptest::prelude::*;

    pub fn product(sku: &str, price: i64) -> Product {
        Product {
            sku: Sku::parse(sku).unwrap(),
            name: format!("Product {sku}"),
            price: Money::new(price, Currency::USD).unwrap(),
            kind: ProductKind::Goods,
            weight_grams: 500,
            dimensions: Dimensions { length_mm: 100, width_mm: 100, height_mm: 100 },
            returnable: true,
            return_window_days: 30,
            active: true,
            category: None,
            service: None,
            warranty_months: None,
            backorder_limit: None,
        }
    }

    fn catalog() -> HashMap<Sku, Product> {
        [product("A", 1999), product("B", 250)].into_iter().map(|p| (p.sku.clone(), p)).collect()
    }

    fn req(sku: &str, q: u32) -> LineRequest {
        LineRequest { sku: Sku::parse(sku).unwrap(), quantity: Quantity::new(q).unwrap() }
    }

    #[test]
    fn prices_come_from_the_catalog_with_tax_per_line() {
        let us = CountryCode::parse("US").unwrap();
        let lines = price_lines(&catalog(), &[req("A", 2), req("B", 1)], us).unwrap();
        assert_eq!(lines[0].subtotal.amount(), 3998);
        assert_eq!(lines[0].tax.amount(), 320); // 8% of 39.98 = 3.1984, half up
        let t = totals(&lines, Money::new(599, Currency::USD).unwrap()).unwrap();
        assert_eq!(t.total.amount(), 3998 + 250 + 599 + 320 + 20);
    }

    #[test]
    fn unknown_and_duplicate_skus_are_rejected() {
        let us = CountryCode::parse("US").unwrap();
        assert!(matches!(price_lines(&catalog(), &[req("Z", 1)], us), Err(PricingError::UnknownSkus(_))));
        assert!(matches!(price_lines(&catalog(), &[req("A", 1), req("A", 2)], us), Err(PricingError::DuplicateSku(_))));
        assert_eq!(price_lines(&catalog(), &[], us), Err(PricingError::NoLines));
    }

    proptest! {
        #[test]
        fn total_is_the_sum_of_its_parts(qa in 1u32..99, qb in 1u32..99, ship in 0i64..5000) {
            let gb = CountryCode::parse("GB").unwrap();
            let lines = price_lines(&catalog(), &[req("A", qa), req("B", qb)], gb).unwrap();
            let t = totals(&lines, Money::new(ship, Currency::USD).unwrap()).unwrap();
            prop_assert_eq!(t.total.amount(), t.subtotal.amount() + t.shipping.amount() + t.tax.amount());
            prop_assert_eq!(t.subtotal.amount(), 1999 * i64::from(qa) + 250 * i64::from(qb));
        }
    }
}
