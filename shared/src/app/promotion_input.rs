//! A promotion as staff write it, and its checks (400 or 422 naming the field).

use super::AppError;
use crate::domain::order::Channel;
use crate::domain::promotion::{Discount, MAX_CODES, MAX_TARGET_SKUS, Promotion, Target};
use crate::domain::{Money, limits};
use chrono::{DateTime, Utc};
use serde::Deserialize;

const MAX_MONEY: i64 = 1_000_000_000_000;
const MAX_USES: u32 = 1_000_000_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromotionInput {
    pub name: String,
    #[serde(default)]
    pub codes: Vec<String>,
    pub discount: Discount,
    pub target: Target,
    #[serde(default)]
    pub min_spend: Option<Money>,
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub customer_groups: Vec<String>,
    /// RFC 3339; parsed by `check_input` (a date the contract's format allows but the calendar
    /// does not is a 422 naming the field).
    #[serde(default)]
    pub starts_at: Option<String>,
    #[serde(default)]
    pub ends_at: Option<String>,
    #[serde(default)]
    pub stackable: bool,
    #[serde(default)]
    pub usage_limit: Option<u32>,
    #[serde(default)]
    pub per_customer_limit: Option<u32>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

const GROUPS: [&str; 3] = ["standard", "silver", "gold"];

fn money_field(field: &'static str, m: &Money) -> Result<(), AppError> {
    if !(1..=MAX_MONEY).contains(&m.amount()) || !limits::sold_in(m.currency()) {
        return Err(AppError::UnprocessableField {
            kind: "invalid-amount",
            detail: format!("{field}: 1 to {MAX_MONEY} minor units in a currency the shop sells in"),
            field,
        });
    }
    Ok(())
}

fn instant(field: &'static str, v: &Option<String>) -> Result<Option<DateTime<Utc>>, AppError> {
    v.as_deref()
        .map(|t| {
            DateTime::parse_from_rfc3339(t).map(|d| d.with_timezone(&Utc)).map_err(|_| AppError::UnprocessableField {
                kind: "invalid-date",
                detail: format!("{field}: an RFC 3339 date-time"),
                field,
            })
        })
        .transpose()
}

/// The checked codes and window of a promotion.
type Checked = (Vec<String>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

pub(super) fn check_input(input: &PromotionInput) -> Result<Checked, AppError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AppError::invalid_field("name", "1-200 characters"));
    }
    if input.codes.len() > MAX_CODES {
        return Err(AppError::invalid_field("codes", format!("at most {MAX_CODES}")));
    }
    let mut codes = Vec::new();
    for c in &input.codes {
        if !(3..=32).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(AppError::invalid_field("codes", "3-32 letters, digits or '-'"));
        }
        let c = Promotion::normalize_code(c);
        if !codes.contains(&c) {
            codes.push(c);
        }
    }
    match &input.discount {
        Discount::Percent { basis_points } if !(1..=10_000).contains(basis_points) => {
            return Err(AppError::invalid_field("discount.basisPoints", "1 to 10000"));
        }
        Discount::Fixed { amount } => money_field("discount.amount", amount)?,
        Discount::Percent { .. } => {}
    }
    match &input.target {
        Target::Skus { skus } if skus.is_empty() || skus.len() > MAX_TARGET_SKUS => {
            return Err(AppError::invalid_field("target.skus", format!("1 to {MAX_TARGET_SKUS} skus")));
        }
        Target::Bundle { requires, discounted } if requires == discounted => {
            return Err(AppError::UnprocessableField {
                kind: "bundle-of-one",
                detail: "target.discounted: another sku than target.requires".into(),
                field: "target.discounted",
            });
        }
        _ => {}
    }
    if let Some(m) = &input.min_spend {
        money_field("minSpend", m)?;
    }
    if let (Discount::Fixed { amount }, Some(m)) = (&input.discount, &input.min_spend)
        && amount.currency() != m.currency()
    {
        return Err(AppError::UnprocessableField {
            kind: "currency-mismatch",
            detail: "minSpend.currency: the discount's currency".into(),
            field: "minSpend.currency",
        });
    }
    if input.customer_groups.len() > GROUPS.len() {
        return Err(AppError::invalid_field("customerGroups", "at most 3"));
    }
    if input.channels.len() > 5 {
        return Err(AppError::invalid_field("channels", "at most 5"));
    }
    if let Some(g) = input.customer_groups.iter().find(|g| !GROUPS.contains(&g.as_str())) {
        return Err(AppError::invalid_field("customerGroups", format!("{g}: one of {}", GROUPS.join(", "))));
    }
    let (starts_at, ends_at) = (instant("startsAt", &input.starts_at)?, instant("endsAt", &input.ends_at)?);
    if let (Some(s), Some(e)) = (starts_at, ends_at)
        && e <= s
    {
        return Err(AppError::UnprocessableField {
            kind: "empty-window",
            detail: "endsAt: after startsAt".into(),
            field: "endsAt",
        });
    }
    for (field, v) in [("usageLimit", input.usage_limit), ("perCustomerLimit", input.per_customer_limit)] {
        if v.is_some_and(|v| v > MAX_USES) {
            return Err(AppError::invalid_field(field, format!("0 to {MAX_USES}")));
        }
    }
    Ok((codes, starts_at, ends_at))
}

pub(super) fn dedup<T: Clone + PartialEq>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    out
}
