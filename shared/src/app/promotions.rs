//! Promotions as data (`/v1/admin/promotions`) and the discounts a placement, an edit or a
//! quote applies: the codes a customer entered and the automatic promotions whose conditions
//! hold, the best exclusive one or every stackable one, allocated to the lines, with tax on what
//! is paid. A placement holds each promotion's use in its own commit (`PromotionUse`).

use super::{AppError, Caller, Oms, Permission};
use crate::domain::adjustment::{Adjustment, apply_adjustments};
use crate::domain::order::Channel;
use crate::domain::promotion::{
    AppliedPromotion, Basket, Discount, MAX_CODES, MAX_CODES_PER_ORDER, MAX_TARGET_SKUS, NotApplicable, Promotion,
    PromotionUse, Target, apply_promotions, choose, retax,
};
use crate::domain::{CountryCode, CustomerId, Money, OrderLine, Totals, limits, pricing};
use crate::ports::StoreError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The contract's largest amount (minor units).
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

/// A promotion with the uses its orders hold.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromotionView {
    #[serde(flatten)]
    pub promotion: Promotion,
    pub uses: u32,
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

fn check_input(input: &PromotionInput) -> Result<Checked, AppError> {
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

impl Oms {
    async fn view(&self, promotion: Promotion) -> Result<PromotionView, AppError> {
        let (uses, _) = self.store.promotion_uses(&promotion.id, None).await?;
        Ok(PromotionView { promotion, uses })
    }

    pub async fn put_promotion(
        &self,
        caller: &Caller,
        id: &str,
        input: PromotionInput,
    ) -> Result<PromotionView, AppError> {
        if !caller.may(Permission::Promotions) {
            return Err(AppError::Forbidden);
        }
        if !Promotion::is_valid_id(id) {
            return Err(AppError::invalid_field("promotionId", "1-40 lowercase letters, digits and '-'"));
        }
        let (codes, starts_at, ends_at) = check_input(&input)?;
        for _ in 0..5 {
            // A code names one promotion.
            let all = self.store.list_promotions().await?;
            if let Some(c) = codes.iter().find(|c| all.iter().any(|p| p.id != id && p.has_code(c))) {
                return Err(AppError::Conflict {
                    kind: "code-in-use",
                    detail: format!("codes: {c} is another promotion's"),
                });
            }
            let current = self.store.get_promotion(id).await?;
            let next = Promotion {
                id: id.to_owned(),
                name: input.name.trim().to_owned(),
                codes: codes.clone(),
                discount: input.discount,
                target: input.target.clone(),
                min_spend: input.min_spend,
                channels: input.channels.clone(),
                customer_groups: input.customer_groups.clone(),
                starts_at,
                ends_at,
                stackable: input.stackable,
                usage_limit: input.usage_limit,
                per_customer_limit: input.per_customer_limit,
                active: input.active,
                version: current.as_ref().map_or(1, |c| c.version + 1),
                updated_at: self.clock.now(),
            };
            match self.store.put_promotion(&next, current.as_ref().map_or(0, |c| c.version)).await {
                Ok(()) => {
                    tracing::info!(promotion = %next.id, "promotion saved");
                    return self.view(next).await;
                }
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }

    pub async fn get_promotion(&self, caller: &Caller, id: &str) -> Result<PromotionView, AppError> {
        if !caller.may(Permission::Promotions) {
            return Err(AppError::Forbidden);
        }
        if !Promotion::is_valid_id(id) {
            return Err(AppError::NotFound);
        }
        let p = self.store.get_promotion(id).await?.ok_or(AppError::NotFound)?;
        self.view(p).await
    }

    pub async fn list_promotions(&self, caller: &Caller) -> Result<Vec<PromotionView>, AppError> {
        if !caller.may(Permission::Promotions) && !caller.may(Permission::Adjust) {
            return Err(AppError::Forbidden);
        }
        let all = self.store.list_promotions().await?;
        futures::future::try_join_all(all.into_iter().map(|p| self.view(p))).await
    }

    /// Prices an edited order's lines again with the promotions it holds (those that no longer
    /// give anything are given back: the returned uses) and its adjustments.
    pub(crate) async fn rediscount(
        &self,
        before: &crate::domain::Order,
        next: &mut crate::domain::Order,
    ) -> Result<Vec<PromotionUse>, AppError> {
        if before.discounts.is_empty() {
            return Ok(Vec::new());
        }
        let all = self.store.list_promotions().await?;
        let mut keep = Vec::new();
        let mut released = Vec::new();
        for id in &before.discounts.held_uses {
            match all.iter().find(|p| p.id == *id).filter(|p| p.still_applies(&next.lines)) {
                Some(p) => {
                    let code =
                        before.discounts.promotions.iter().find(|a| a.promotion_id == *id).and_then(|a| a.code.clone());
                    keep.push((p.clone(), code));
                }
                None => released.push(PromotionUse::release(id, &before.customer)),
            }
        }
        let mut adjustments = before.discounts.adjustments.clone();
        let (applied, totals) =
            reprice(&mut next.lines, next.delivery.cost, &keep, &mut adjustments, next.shipping_address.country)?;
        next.totals = totals;
        next.discounts.promotions = applied;
        next.discounts.adjustments = adjustments;
        next.discounts.held_uses = keep.iter().map(|(p, _)| p.id.clone()).collect();
        Ok(released)
    }

    /// The promotions an order gets: the entered codes (each must apply: 422 naming
    /// `promotionCodes` otherwise) and the automatic ones that apply, minus `exclude` (automatic
    /// promotions whose uses ran out meanwhile), chosen by `choose`.
    pub(crate) async fn choose_promotions(
        &self,
        customer: &CustomerId,
        channel: Channel,
        codes: &[String],
        lines: &[OrderLine],
        exclude: &HashSet<String>,
    ) -> Result<Vec<(Promotion, Option<String>)>, AppError> {
        let all = self.store.list_promotions().await?;
        if all.is_empty() {
            return Ok(Vec::new());
        }
        let group = if all.iter().any(|p| !p.customer_groups.is_empty()) {
            let orders = self.store.orders_of_customer(customer, crate::ports::Listing::first(100)).await?.items;
            crate::domain::customer::loyalty_tier(&super::customers::lifetime_value(&orders))
        } else {
            "standard"
        };
        let basket = Basket { lines, channel, customer_group: group, now: self.clock.now() };
        let mut candidates: Vec<(&Promotion, Option<String>)> = Vec::new();
        for code in codes {
            let p = all.iter().find(|p| p.has_code(code)).ok_or_else(|| AppError::UnprocessableField {
                kind: "promotion-unknown",
                detail: format!("promotionCodes: {code} is not a promotion code"),
                field: "promotionCodes",
            })?;
            p.check(&basket).map_err(|e| not_applicable(code, e))?;
            if exclude.contains(&p.id) {
                return Err(exhausted(code));
            }
            if !candidates.iter().any(|(c, _)| c.id == p.id) {
                candidates.push((p, Some(code.clone())));
            }
        }
        for p in all.iter().filter(|p| p.is_automatic() && !exclude.contains(&p.id)) {
            if p.check(&basket).is_ok() {
                candidates.push((p, None));
            }
        }
        let refs: Vec<&Promotion> = candidates.iter().map(|(p, _)| *p).collect();
        let chosen = choose(&refs, lines).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(candidates
            .into_iter()
            .filter(|(p, _)| chosen.iter().any(|c| c.id == p.id))
            .map(|(p, code)| (p.clone(), code))
            .collect())
    }
}

pub(crate) fn not_applicable(code: &str, e: NotApplicable) -> AppError {
    AppError::UnprocessableField {
        kind: "promotion-not-applicable",
        detail: format!("promotionCodes: {code}: {e}"),
        field: "promotionCodes",
    }
}

pub(crate) fn exhausted(code: &str) -> AppError {
    AppError::UnprocessableField {
        kind: "promotion-exhausted",
        detail: format!("promotionCodes: {code} has no uses left"),
        field: "promotionCodes",
    }
}

/// The codes a request entered: trimmed, upper-cased, each once, at most `MAX_CODES_PER_ORDER`.
pub(crate) fn parse_codes(codes: &Option<Vec<String>>) -> Result<Vec<String>, AppError> {
    if codes.as_ref().is_some_and(|c| c.len() > MAX_CODES_PER_ORDER) {
        return Err(AppError::invalid_field("promotionCodes", format!("at most {MAX_CODES_PER_ORDER}")));
    }
    let mut out = Vec::new();
    for c in codes.iter().flatten() {
        if !(1..=32).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(AppError::invalid_field("promotionCodes", "codes of 1-32 letters, digits or '-'"));
        }
        let c = Promotion::normalize_code(c);
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// Discounts the lines (promotions, then adjustments), taxes what is paid and totals it.
pub(crate) fn reprice(
    lines: &mut [OrderLine],
    shipping: Money,
    chosen: &[(Promotion, Option<String>)],
    adjustments: &mut [Adjustment],
    country: CountryCode,
) -> Result<(Vec<AppliedPromotion>, Totals), AppError> {
    let internal = |e: crate::domain::MoneyError| AppError::Internal(e.to_string());
    let refs: Vec<(&Promotion, Option<String>)> = chosen.iter().map(|(p, c)| (p, c.clone())).collect();
    let applied = apply_promotions(lines, &refs).map_err(internal)?;
    apply_adjustments(lines, adjustments).map_err(internal)?;
    retax(lines, pricing::tax_rate_bp(country)).map_err(internal)?;
    let totals = pricing::totals(lines, shipping).map_err(super::orders::pricing_error)?;
    Ok((applied, totals))
}
