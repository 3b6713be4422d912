//! Loyalty offers: what the loyalty programme offers a member ("20% off the console with the
//! TV"), read through the loyalty port while an agent is on the phone, and whether an offer
//! fits an order as it is. An offer the agent applies becomes a price adjustment on the order
//! that names it (pre-approved by the programme: no supervisor), at most once per order. Pure.

use super::ids::Sku;
use super::order::Order;
use super::promotion::Discount;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoyaltyOffer {
    pub offer_id: String,
    pub title: String,
    pub discount: Discount,
    /// The SKU whose line it takes off (none: the whole order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    /// SKUs the order must also have (a bundle: "with the TV").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with_skus: Vec<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<DateTime<Utc>>,
}

/// The reason in an adjustment that applied an offer (how an order shows it used one).
pub fn adjustment_reason(o: &LoyaltyOffer) -> String {
    format!("loyalty offer {}: {}", o.offer_id, o.title)
}

impl LoyaltyOffer {
    /// Why the offer does not fit `order` now (`None`: it does).
    pub fn unfit(&self, order: &Order, now: DateTime<Utc>) -> Option<String> {
        if order.payment.captured.is_some_and(|c| c.amount() > 0) {
            return Some("payment is already taken: give goodwill as a refund".into());
        }
        if order.channel == super::order::Channel::Marketplace {
            return Some("a marketplace order is priced by the marketplace".into());
        }
        if self.valid_until.is_some_and(|u| u < now) {
            return Some("the offer has expired".into());
        }
        let has = |s: &Sku| order.lines.iter().any(|l| &l.sku == s);
        if let Some(s) = &self.sku
            && !has(s)
        {
            return Some(format!("the order has no {s}"));
        }
        if let Some(s) = self.with_skus.iter().find(|s| !has(s)) {
            return Some(format!("the offer needs {s} in the order"));
        }
        if let Discount::Fixed { amount } = self.discount
            && amount.currency() != order.totals.total.currency()
        {
            return Some(format!("the offer is in {}", amount.currency()));
        }
        let prefix = format!("loyalty offer {}:", self.offer_id);
        if order.discounts.adjustments.iter().any(|a| a.reason.starts_with(&prefix)) {
            return Some("the order already has this offer".into());
        }
        None
    }
}
