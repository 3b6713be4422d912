//! Promotions as data and the discounts they give: codes and automatic promotions, percent or
//! fixed, on the order, on some SKUs, or as a bundle ("20% off B with A"); minimum spend,
//! channels, loyalty tiers and a validity window as conditions; exclusive or stackable. Agents'
//! adjustments (`Adjustment`) are discounts too, applied after the promotions. Every discount is
//! allocated to the lines, so tax is computed on what the customer pays and a return refunds
//! exactly the discounted amount.

use super::ids::Sku;
use super::money::{Currency, Money, MoneyError};
use super::order::{Channel, OrderLine};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const MAX_CODES: usize = 20;
pub const MAX_CODES_PER_ORDER: usize = 5;
pub const MAX_TARGET_SKUS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum Discount {
    /// Basis points off (2000: 20%).
    Percent { basis_points: u32 },
    /// An amount off (once for the order or SKUs, per paired unit for a bundle).
    Fixed { amount: Money },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum Target {
    /// A struct variant (no fields) so unknown fields are refused like every other target's.
    Order {},
    Skus {
        skus: Vec<Sku>,
    },
    /// Each unit of `discounted` bought with a unit of `requires`.
    Bundle {
        requires: Sku,
        discounted: Sku,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    pub id: String,
    pub name: String,
    /// Codes customers enter; none: the promotion applies by itself when its conditions hold.
    #[serde(default)]
    pub codes: Vec<String>,
    pub discount: Discount,
    pub target: Target,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_spend: Option<Money>,
    /// Empty: every channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// Loyalty tiers (`standard`, `silver`, `gold`); empty: every customer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    /// Combines with other stackable promotions; an exclusive one applies alone.
    #[serde(default)]
    pub stackable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_customer_limit: Option<u32>,
    pub active: bool,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

/// Who is buying what, as a promotion's conditions see it.
pub struct Basket<'a> {
    pub lines: &'a [OrderLine],
    pub channel: Channel,
    pub customer_group: &'a str,
    pub now: DateTime<Utc>,
}

/// Why a promotion does not apply (named to the customer who entered its code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotApplicable {
    #[error("the promotion is not active")]
    Inactive,
    #[error("the promotion has not started or has ended")]
    OutsideWindow,
    #[error("the promotion is not offered on this channel")]
    Channel,
    #[error("the promotion is not offered to this customer")]
    Group,
    #[error("the order is under the promotion's minimum spend of {0}")]
    MinSpend(Money),
    #[error("no line of the order qualifies")]
    NothingQualifies,
    #[error("the promotion is in {0}, the order is not")]
    Currency(Currency),
}

impl Promotion {
    pub fn is_valid_id(id: &str) -> bool {
        (1..=40).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }

    /// Codes are matched without regard to case.
    pub fn normalize_code(code: &str) -> String {
        code.trim().to_ascii_uppercase()
    }

    pub fn is_automatic(&self) -> bool {
        self.codes.is_empty()
    }

    pub fn has_code(&self, code: &str) -> bool {
        let c = Self::normalize_code(code);
        self.codes.contains(&c)
    }

    fn currency(&self) -> Option<Currency> {
        match (&self.discount, &self.min_spend) {
            (Discount::Fixed { amount }, _) => Some(amount.currency()),
            (_, Some(m)) => Some(m.currency()),
            _ => None,
        }
    }

    /// Whether the conditions hold for the basket (not the usage limits: the commit checks
    /// those).
    pub fn check(&self, b: &Basket) -> Result<(), NotApplicable> {
        if !self.active {
            return Err(NotApplicable::Inactive);
        }
        if self.starts_at.is_some_and(|s| b.now < s) || self.ends_at.is_some_and(|e| b.now >= e) {
            return Err(NotApplicable::OutsideWindow);
        }
        if !self.channels.is_empty() && !self.channels.contains(&b.channel) {
            return Err(NotApplicable::Channel);
        }
        if !self.customer_groups.is_empty() && !self.customer_groups.iter().any(|g| g == b.customer_group) {
            return Err(NotApplicable::Group);
        }
        let Some(first) = b.lines.first() else { return Err(NotApplicable::NothingQualifies) };
        let currency = first.subtotal.currency();
        if let Some(c) = self.currency().filter(|c| *c != currency) {
            return Err(NotApplicable::Currency(c));
        }
        if let Some(min) = self.min_spend {
            let spend: i64 = b.lines.iter().map(|l| l.subtotal.amount()).sum();
            if spend < min.amount() {
                return Err(NotApplicable::MinSpend(min));
            }
        }
        if !b.lines.iter().any(|l| self.units_on(l, b.lines) > 0) {
            return Err(NotApplicable::NothingQualifies);
        }
        Ok(())
    }

    /// Whether a promotion an order already holds still gives something on its edited lines
    /// (the window and limits were checked when the use was taken).
    pub fn still_applies(&self, lines: &[OrderLine]) -> bool {
        let spend: i64 = lines.iter().map(|l| l.subtotal.amount()).sum();
        self.min_spend.is_none_or(|m| spend >= m.amount()) && lines.iter().any(|l| self.units_on(l, lines) > 0)
    }

    /// How many units of a line the promotion discounts.
    fn units_on(&self, line: &OrderLine, lines: &[OrderLine]) -> u32 {
        match &self.target {
            Target::Order {} => line.quantity,
            Target::Skus { skus } if skus.contains(&line.sku) => line.quantity,
            Target::Skus { .. } => 0,
            Target::Bundle { requires, discounted } if *discounted == line.sku => {
                let with: u32 = lines.iter().filter(|l| l.sku == *requires).map(|l| l.quantity).sum();
                line.quantity.min(with)
            }
            Target::Bundle { .. } => 0,
        }
    }
}

/// What is left to pay on a line after the discounts so far.
fn net(line: &OrderLine) -> i64 {
    line.subtotal.amount() - line.discount.map_or(0, |d| d.amount())
}

fn add_discount(line: &mut OrderLine, amount: i64) -> Result<(), MoneyError> {
    let before = line.discount.map_or(0, |d| d.amount());
    line.discount = Some(Money::new(before + amount, line.subtotal.currency())?);
    Ok(())
}

/// The amounts a discount takes off each line (by index), never more than a line's net.
pub fn allocation(discount: &Discount, units: &[(usize, u32)], lines: &[OrderLine]) -> Result<Vec<i64>, MoneyError> {
    let mut out = vec![0i64; lines.len()];
    match discount {
        Discount::Percent { basis_points } => {
            for &(i, u) in units {
                let l = &lines[i];
                let base = Money::new(net(l), l.subtotal.currency())?.share(u, l.quantity.max(1))?;
                out[i] = base.apply_basis_points((*basis_points).min(10_000))?.amount().min(net(l));
            }
        }
        Discount::Fixed { amount } => {
            // Spread over the qualifying value, largest remainders last so the parts add up.
            let base: Vec<(usize, i64)> = units
                .iter()
                .map(|&(i, u)| {
                    let l = &lines[i];
                    Money::new(net(l), l.subtotal.currency())?.share(u, l.quantity.max(1)).map(|m| (i, m.amount()))
                })
                .collect::<Result<_, _>>()?;
            let pool: i64 = base.iter().map(|(_, v)| v).sum();
            let take = amount.amount().min(pool).max(0);
            if take == 0 {
                return Ok(out);
            }
            let mut given = 0i64;
            for (k, (i, v)) in base.iter().enumerate() {
                let part = if k + 1 == base.len() {
                    take - given
                } else {
                    i64::try_from(i128::from(take) * i128::from(*v) / i128::from(pool))
                        .map_err(|_| MoneyError::Overflow)?
                };
                out[*i] = part.min(net(&lines[*i]));
                given += out[*i];
            }
        }
    }
    Ok(out)
}

/// The discount of one promotion on the lines as they are (not applied).
pub fn promotion_amounts(p: &Promotion, lines: &[OrderLine]) -> Result<Vec<i64>, MoneyError> {
    let units: Vec<(usize, u32)> =
        lines.iter().enumerate().map(|(i, l)| (i, p.units_on(l, lines))).filter(|(_, u)| *u > 0).collect();
    match (&p.target, p.discount) {
        // A bundle's fixed amount is per paired unit.
        (Target::Bundle { .. }, Discount::Fixed { amount }) => {
            let mut out = vec![0i64; lines.len()];
            for (i, u) in units {
                let l = &lines[i];
                // Never more than what the paired units cost.
                let paired = Money::new(net(l), l.subtotal.currency())?.share(u, l.quantity.max(1))?;
                out[i] = amount.checked_mul(u)?.amount().min(paired.amount());
            }
            Ok(out)
        }
        (_, d) => allocation(&d, &units, lines),
    }
}

/// A promotion as applied to an order: what it took off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPromotion {
    pub promotion_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub amount: Money,
}

/// Picks the promotions that apply: every stackable one together, or the best exclusive one
/// alone, whichever takes more off. Returns them in the order they apply.
pub fn choose<'a>(candidates: &[&'a Promotion], lines: &[OrderLine]) -> Result<Vec<&'a Promotion>, MoneyError> {
    let total = |set: &[&Promotion]| -> Result<i64, MoneyError> {
        let mut ls = lines.to_vec();
        let mut sum = 0;
        for p in set {
            let a = promotion_amounts(p, &ls)?;
            for (l, v) in ls.iter_mut().zip(&a) {
                add_discount(l, *v)?;
            }
            sum += a.iter().sum::<i64>();
        }
        Ok(sum)
    };
    let mut stack: Vec<&Promotion> = candidates.iter().copied().filter(|p| p.stackable).collect();
    canonical(&mut stack);
    let mut best: (i64, Vec<&Promotion>) = (total(&stack)?, stack);
    for p in candidates.iter().copied().filter(|p| !p.stackable) {
        let t = total(&[p])?;
        if t > best.0 {
            best = (t, vec![p]);
        }
    }
    let mut chosen: Vec<&Promotion> = best.1.into_iter().filter(|p| total(&[p]).is_ok_and(|t| t > 0)).collect();
    canonical(&mut chosen);
    Ok(chosen)
}

/// The order promotions apply in, whatever order their codes were entered in: percentages
/// first, then fixed amounts, each by id (the same codes always give the same price).
pub fn canonical(ps: &mut [&Promotion]) {
    ps.sort_by(|a, b| {
        let fixed = |p: &Promotion| matches!(p.discount, Discount::Fixed { .. });
        (fixed(a), &a.id).cmp(&(fixed(b), &b.id))
    });
}

/// Applies promotions (with the code each was entered with) to the lines, after clearing
/// earlier discounts; returns what each took off.
pub fn apply_promotions(
    lines: &mut [OrderLine],
    chosen: &[(&Promotion, Option<String>)],
) -> Result<Vec<AppliedPromotion>, MoneyError> {
    for l in lines.iter_mut() {
        l.discount = None;
    }
    let mut out = Vec::new();
    for (p, code) in chosen {
        let a = promotion_amounts(p, lines)?;
        for (l, v) in lines.iter_mut().zip(&a) {
            if *v > 0 {
                add_discount(l, *v)?;
            }
        }
        let Some(first) = lines.first() else { break };
        let amount = Money::new(a.iter().sum(), first.subtotal.currency())?;
        if amount.amount() > 0 {
            out.push(AppliedPromotion { promotion_id: p.id.clone(), name: p.name.clone(), code: code.clone(), amount });
        }
    }
    Ok(out)
}

/// Tax on each line from what is paid for it (after discounts).
pub fn retax(lines: &mut [OrderLine], rate_bp: u32) -> Result<(), MoneyError> {
    for l in lines.iter_mut() {
        l.tax = Money::new(net(l), l.subtotal.currency())?.apply_basis_points(rate_bp)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "promotion_tests.rs"]
mod tests;

/// A promotion's use held (+1) with an order or given back (-1), on the promotion's counter and
/// the customer's; holding it past a limit refuses the whole change (`PromotionExhausted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionUse {
    pub promotion_id: String,
    pub customer: super::ids::CustomerId,
    pub delta: i32,
    pub limit: Option<u32>,
    pub per_customer_limit: Option<u32>,
}

impl PromotionUse {
    pub fn hold(p: &Promotion, customer: &super::ids::CustomerId) -> Self {
        PromotionUse {
            promotion_id: p.id.clone(),
            customer: customer.clone(),
            delta: 1,
            limit: p.usage_limit,
            per_customer_limit: p.per_customer_limit,
        }
    }

    pub fn release(promotion_id: &str, customer: &super::ids::CustomerId) -> Self {
        PromotionUse {
            promotion_id: promotion_id.to_owned(),
            customer: customer.clone(),
            delta: -1,
            limit: None,
            per_customer_limit: None,
        }
    }
}

/// The uses given back when an order is cancelled or fails; its held uses are cleared.
pub fn release_uses(order: &mut super::order::Order) -> Vec<PromotionUse> {
    let customer = order.customer.clone();
    std::mem::take(&mut order.discounts.held_uses).iter().map(|id| PromotionUse::release(id, &customer)).collect()
}
