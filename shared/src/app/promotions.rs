//! Promotions as data (`/v1/admin/promotions`) and the discounts a placement, an edit or a
//! quote applies: the codes a customer entered and the automatic promotions whose conditions
//! hold, the best exclusive one or every stackable one, allocated to the lines, with tax on what
//! is paid. A placement holds each promotion's use in its own commit (`PromotionUse`).

use super::{AppError, Caller, Oms, Permission};
use crate::domain::adjustment::{Adjustment, apply_adjustments};
use crate::domain::order::Channel;
use crate::domain::promotion::{
    AppliedPromotion, Basket, MAX_CODES_PER_ORDER, NotApplicable, Promotion, PromotionUse, Target, apply_promotions,
    choose, retax,
};
use crate::domain::{CountryCode, CustomerId, Money, OrderLine, Totals, pricing};
use crate::ports::StoreError;
use serde::Serialize;
use std::collections::HashSet;

/// The contract's largest amount (minor units).
/// A promotion with the uses its orders hold.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromotionView {
    #[serde(flatten)]
    pub promotion: Promotion,
    pub uses: u32,
}

pub use super::promotion_input::PromotionInput;
use super::promotion_input::{check_input, dedup};

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
                return Err(AppError::ConflictField {
                    kind: "code-in-use",
                    detail: format!("codes: {c} is another promotion's"),
                    field: "codes",
                });
            }
            let current = self.store.get_promotion(id).await?;
            let next = Promotion {
                id: id.to_owned(),
                name: input.name.trim().to_owned(),
                codes: codes.clone(),
                discount: input.discount,
                target: match &input.target {
                    Target::Skus { skus } => Target::Skus { skus: dedup(skus) },
                    other => other.clone(),
                },
                min_spend: input.min_spend,
                channels: dedup(&input.channels),
                customer_groups: dedup(&input.customer_groups),
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
                // Another promotion took one of the codes meanwhile.
                Err(StoreError::AlreadyExists) => {
                    return Err(AppError::ConflictField {
                        kind: "code-in-use",
                        detail: "codes: one of them is another promotion's".into(),
                        field: "codes",
                    });
                }
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

    /// The promotions this customer can no longer use (a limit reached), besides `exclude`:
    /// read for quotes so they show what placement would give (placement's own commit is what
    /// enforces the limits). Only promotions with a limit that could apply are read.
    async fn used_up(
        &self,
        customer: &CustomerId,
        all: &[Promotion],
        codes: &[String],
        exclude: &HashSet<String>,
    ) -> Result<HashSet<String>, AppError> {
        let mut out = exclude.clone();
        let limited = all.iter().filter(|p| {
            (p.usage_limit.is_some() || p.per_customer_limit.is_some())
                && p.active
                && (p.is_automatic() || codes.iter().any(|c| p.has_code(c)))
        });
        for p in limited {
            let (uses, mine) = self.store.promotion_uses(&p.id, Some(customer)).await?;
            if p.usage_limit.is_some_and(|l| uses >= l) || p.per_customer_limit.is_some_and(|l| mine >= l) {
                out.insert(p.id.clone());
            }
        }
        Ok(out)
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
            // No promotions at all: an entered code is as unknown as with some.
            return match codes.first() {
                Some(code) => Err(unknown_code(code)),
                None => Ok(Vec::new()),
            };
        }
        let exclude = &self.used_up(customer, &all, codes, exclude).await?;
        // The member's tier from the loyalty programme; for a non-member (or while the
        // programme does not answer: placement does not wait on it) the tier their lifetime
        // value gives.
        let group: String = if all.iter().any(|p| !p.customer_groups.is_empty()) {
            match self.loyalty.tier(customer.as_str()).await {
                Ok(Some(t)) => t,
                other => {
                    if let Err(e) = other {
                        tracing::warn!(error = %e, "loyalty tier unavailable; lifetime value decides");
                    }
                    let orders =
                        self.store.orders_of_customer(customer, crate::ports::Listing::first(100)).await?.items;
                    crate::domain::customer::loyalty_tier(&super::customers::lifetime_value(&orders)).to_owned()
                }
            }
        } else {
            "standard".to_owned()
        };
        let basket = Basket { lines, channel, customer_group: &group, now: self.clock.now() };
        let mut candidates: Vec<(&Promotion, Option<String>)> = Vec::new();
        for code in codes {
            let p = all.iter().find(|p| p.has_code(code)).ok_or_else(|| unknown_code(code))?;
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
        // In the order `choose` applies them (not the order the codes were entered in).
        Ok(chosen
            .iter()
            .filter_map(|c| candidates.iter().find(|(p, _)| p.id == c.id))
            .map(|(p, code)| ((*p).clone(), code.clone()))
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

fn unknown_code(code: &str) -> AppError {
    AppError::UnprocessableField {
        kind: "promotion-unknown",
        detail: format!("promotionCodes: {code} is not a promotion code"),
        field: "promotionCodes",
    }
}
