//! Agents' price adjustments ("20% off the console with the TV"): a discount on the order or
//! one line with a reason, applied after the promotions. Up to the agent limit it applies at
//! once; above it an `Approval` waits for a supervisor, and approving applies it through the
//! order's own write.

use super::ids::OrderId;
use super::money::Money;
use super::order::OrderLine;
use super::promotion::{Discount, allocation};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an agent may take off on their own: 10% of the goods' price after promotions.
pub const AGENT_LIMIT_BP: i64 = 1_000;
pub const MAX_ADJUSTMENTS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Adjustment {
    pub id: String,
    pub discount: Discount,
    /// One line (by its SKU: edits renumber lines), or the whole order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<super::ids::Sku>,
    pub reason: String,
    pub requested_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// What it took off when last applied.
    pub amount: Money,
    /// What its lines cost (after promotions and earlier adjustments) when it was first
    /// applied: a fixed amount re-applied after an edit is scaled to the lines as they are
    /// then, so it never takes a larger share than the one agreed (or approved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Money>,
    /// SKUs the order must have for it to take anything off (a loyalty bundle offer: "with
    /// the TV"); an edit that removes one leaves it at nothing until the SKU is back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<super::ids::Sku>,
    pub at: DateTime<Utc>,
}

/// The adjustments applied to lines already discounted by promotions, each recomputed on the
/// lines as they are (an edit keeps a percentage a percentage).
pub fn apply_adjustments(lines: &mut [OrderLine], adjustments: &mut [Adjustment]) -> Result<(), super::MoneyError> {
    for a in adjustments.iter_mut() {
        if a.requires.iter().any(|s| !lines.iter().any(|l| &l.sku == s)) {
            a.amount = Money::zero(a.amount.currency());
            continue;
        }
        let units: Vec<(usize, u32)> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| a.sku.as_ref().is_none_or(|s| *s == l.sku))
            .map(|(i, l)| (i, l.quantity))
            .collect();
        let net: i64 = units.iter().map(|&(i, _)| lines[i].net().amount()).sum();
        let discount = match (a.discount, a.base) {
            // Scaled to the lines as they are now: never a larger share than when agreed.
            (Discount::Fixed { amount }, Some(base)) if base.amount() > 0 && net < base.amount() => {
                let scaled = i128::from(amount.amount()) * i128::from(net) / i128::from(base.amount());
                Discount::Fixed { amount: Money::new(i64::try_from(scaled).unwrap_or(0), amount.currency())? }
            }
            (d, _) => d,
        };
        if a.base.is_none() {
            a.base = Some(Money::new(net, a.amount.currency())?);
        }
        let amounts = allocation(&discount, &units, lines)?;
        for (l, v) in lines.iter_mut().zip(&amounts) {
            if *v > 0 {
                let before = l.discount.map_or(0, |d| d.amount());
                l.discount = Some(Money::new(before + v, l.subtotal.currency())?);
            }
        }
        a.amount = Money::new(amounts.iter().sum(), a.amount.currency())?;
    }
    Ok(())
}

/// The most an agent takes off without approval on these lines (after promotions).
pub fn agent_limit(lines: &[OrderLine]) -> i64 {
    let net: i64 = lines.iter().map(|l| l.subtotal.amount() - l.discount.map_or(0, |d| d.amount())).sum();
    net * AGENT_LIMIT_BP / 10_000
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
}

/// An adjustment over the agent limit, waiting for a supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    pub id: String,
    pub order_id: OrderId,
    pub adjustment: Adjustment,
    pub status: ApprovalStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

impl Approval {
    pub fn is_valid_id(id: &str) -> bool {
        id.len() == 30 && id.starts_with("APR-") && id[4..].bytes().all(|b| b.is_ascii_alphanumeric())
    }
}
