//! Warranty claims: after a delivered unit's return window closed and within its product's
//! warranty period, a broken unit is replaced (a replacement order at no charge, shipped
//! through the normal workflow) or repaired (a free repair visit). A unit is claimed once.

use super::order::{Order, Shipment};
use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    Replacement,
    Repair,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WarrantyClaim {
    pub claim_id: String,
    pub line_id: String,
    pub sku: super::ids::Sku,
    pub quantity: u32,
    pub remedy: Remedy,
    /// What the customer reported (staff only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement_order_id: Option<super::ids::OrderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit_id: Option<String>,
    /// The Idempotency-Key the claim was made with: a retry with it finds this claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl WarrantyClaim {
    /// Without the reason given (it may be an agent's words).
    pub fn public(&self) -> WarrantyClaim {
        WarrantyClaim { reason: String::new(), ..self.clone() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarrantyError {
    #[error("lineId: the order has no goods line {0}")]
    UnknownLine(String),
    #[error("lineId: line {0} has no delivered units")]
    NotDelivered(String),
    #[error("lineId: line {0} is still within its return window: open a return")]
    ReturnWindowOpen(String),
    #[error("lineId: the product of line {0} has no warranty")]
    NoWarranty(String),
    #[error("lineId: the warranty of line {0} ended on {1}")]
    Expired(String, chrono::NaiveDate),
    #[error("quantity: at most {allowed} units of line {line} can still be claimed")]
    TooMany { line: String, allowed: u32 },
}

/// The claim's id: the order's claims are numbered in order, so a retried claim that did not
/// commit gets the same id (and its replacement order the same idempotency key).
pub fn next_claim_id(order: &Order) -> String {
    format!("WC-{}-{}", order.id, order.warranty_claims.len() + 1)
}

/// Checks `quantity` units of `line_id` can be claimed now under `warranty_months`.
pub fn check_claim(
    order: &Order,
    shipments: &[Shipment],
    line_id: &str,
    quantity: u32,
    warranty_months: Option<u16>,
    now: DateTime<Utc>,
) -> Result<(), WarrantyError> {
    let line = order
        .goods_lines()
        .find(|l| l.line_id == line_id)
        .ok_or_else(|| WarrantyError::UnknownLine(line_id.to_owned()))?;
    let (units, at) = super::returns::delivered(line_id, shipments);
    let Some(at) = at.filter(|_| units > 0) else { return Err(WarrantyError::NotDelivered(line_id.to_owned())) };
    if now <= at + Duration::days(i64::from(line.return_window_days)) {
        return Err(WarrantyError::ReturnWindowOpen(line_id.to_owned()));
    }
    let months = warranty_months.filter(|m| *m > 0).ok_or_else(|| WarrantyError::NoWarranty(line_id.to_owned()))?;
    let ends = at.checked_add_months(Months::new(u32::from(months))).unwrap_or(at);
    if now > ends {
        return Err(WarrantyError::Expired(line_id.to_owned(), ends.date_naive()));
    }
    let claimed: u32 = order.warranty_claims.iter().filter(|c| c.line_id == line_id).map(|c| c.quantity).sum();
    let allowed = units.saturating_sub(claimed);
    if quantity == 0 || quantity > allowed {
        return Err(WarrantyError::TooMany { line: line_id.to_owned(), allowed });
    }
    Ok(())
}
