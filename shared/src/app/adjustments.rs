//! Agents' price adjustments (`POST /v1/admin/orders/{orderId}/adjustments`, with a preview) and
//! their approval by a supervisor (`/v1/admin/approvals`). An adjustment is a discount on the
//! order or one line with a reason, applied through the order's own write before any money is
//! captured (afterwards goodwill is a refund). Agents give up to `AGENT_LIMIT_BP` of the goods'
//! price after promotions (all their adjustments on the order together); above it the
//! adjustment waits as an `Approval`, and approving applies it in the same commit that marks the
//! approval decided, so a second approval applies nothing twice.

use super::{AppError, Caller, Oms, Permission};
use crate::domain::adjustment::{AGENT_LIMIT_BP, Adjustment, Approval, ApprovalStatus, MAX_ADJUSTMENTS};
use crate::domain::promotion::Discount;
use crate::domain::*;
use crate::ports::StoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdjustmentInput {
    pub discount: Discount,
    /// One line of the order; none: the whole order.
    #[serde(default)]
    pub line_id: Option<String>,
    pub reason: String,
    /// Only compute what it would take off and whether it needs approval.
    #[serde(default)]
    pub preview: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionInput {
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdjustmentOutcome {
    /// `preview`, `applied` or `pending_approval`.
    pub outcome: &'static str,
    pub adjustment: Adjustment,
    /// The order's totals with the adjustment.
    pub totals: Totals,
    /// What the caller may take off the order without approval (all adjustments together).
    pub limit: Money,
    pub needs_approval: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
}

#[derive(Debug, Deserialize)]
pub struct ApprovalQuery {
    pub status: Option<String>,
}

fn text(field: &str, v: &str, max: usize) -> Result<String, AppError> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(AppError::invalid_field(field, format!("1-{max} characters")));
    }
    Ok(t.to_owned())
}

fn not_adjustable(order: &Order) -> Option<AppError> {
    if matches!(order.payment.method, PaymentMethod::Marketplace(_)) {
        return Some(AppError::Conflict {
            kind: "marketplace-order",
            detail: format!("order {} was bought on a marketplace: its price is the marketplace's", order.id),
        });
    }
    if order.status.is_terminal() {
        return Some(AppError::InvalidState { status: order.status, action: "adjusted" });
    }
    if order.payment.captured.is_some_and(|c| c.amount() > 0) || !order.status.is_before_handover() {
        return Some(AppError::Conflict {
            kind: "already-captured",
            detail: format!("order {}: payment was taken; give goodwill as a refund", order.id),
        });
    }
    None
}

/// Too many writers on the order at once to get a word in: try again.
fn busy() -> AppError {
    AppError::Conflict { kind: "concurrent-change", detail: "the order is changing under many hands; try again".into() }
}

impl Oms {
    /// The order with `adjustment` added, priced again; and the agent limit on it.
    async fn adjusted(&self, order: &Order, adjustment: Adjustment) -> Result<(Order, Adjustment, i64), AppError> {
        if order.discounts.adjustments.len() >= MAX_ADJUSTMENTS {
            return Err(AppError::Conflict {
                kind: "too-many-adjustments",
                detail: format!("at most {MAX_ADJUSTMENTS} adjustments on an order"),
            });
        }
        let mut with = order.clone();
        with.discounts.adjustments.push(adjustment);
        let mut next = with.clone();
        let released = self.rediscount(&with, &mut next).await?;
        if !released.is_empty() {
            return Err(AppError::Internal("an adjustment changed which promotions apply".into()));
        }
        let applied = next.discounts.adjustments.last().cloned().ok_or(AppError::Internal("adjustment lost".into()))?;
        let promoted: i64 = next.discounts.promotions.iter().map(|p| p.amount.amount()).sum();
        let goods: i64 = next.lines.iter().map(|l| l.subtotal.amount()).sum::<i64>() - promoted;
        Ok((next, applied, goods * AGENT_LIMIT_BP / 10_000))
    }

    /// Takes something off an order's price for a reason: at once within the caller's limit,
    /// otherwise as an approval request (202).
    pub async fn adjust_order(
        &self,
        caller: &Caller,
        id: &OrderId,
        input: AdjustmentInput,
    ) -> Result<(u16, AdjustmentOutcome), AppError> {
        self.adjust_with(caller, id, input, None).await
    }

    /// An adjustment, or a loyalty offer's (`offer`: on its SKU's line, checked against the
    /// order as read, pre-approved by the programme so it never waits for a supervisor).
    pub(crate) async fn adjust_with(
        &self,
        caller: &Caller,
        id: &OrderId,
        input: AdjustmentInput,
        offer: Option<&crate::domain::loyalty::LoyaltyOffer>,
    ) -> Result<(u16, AdjustmentOutcome), AppError> {
        if !caller.may(Permission::Adjust) {
            return Err(AppError::Forbidden);
        }
        let reason = text("reason", &input.reason, 500)?;
        if input.line_id.as_ref().is_some_and(|l| !(1..=20).contains(&l.chars().count())) {
            return Err(AppError::invalid_field("lineId", "1-20 characters"));
        }
        if let Discount::Percent { basis_points } = input.discount
            && !(1..=10_000).contains(&basis_points)
        {
            return Err(AppError::invalid_field("discount.basisPoints", "1 to 10000"));
        }
        if let Discount::Fixed { amount } = input.discount
            && !(1..=1_000_000_000_000).contains(&amount.amount())
        {
            return Err(AppError::invalid_field("discount.amount", "1 to 1000000000000 minor units"));
        }
        for attempt in 1..=8 {
            if attempt > 1 {
                tokio::time::sleep(crate::retry::Backoff::CONTENTION.pause(attempt)).await;
            }
            let order = self.store.get_order(id).await?.ok_or(AppError::NotFound)?;
            if let Some(e) = not_adjustable(&order) {
                return Err(e);
            }
            if let Some(why) = offer.and_then(|o| o.unfit(&order, self.clock.now())) {
                return Err(AppError::Unprocessable { kind: "offer-not-applicable", detail: why });
            }
            if let Discount::Fixed { amount } = input.discount
                && amount.currency() != order.totals.total.currency()
            {
                return Err(AppError::UnprocessableField {
                    kind: "currency-mismatch",
                    detail: format!(
                        "discount.amount.currency: the order's currency, {}",
                        order.totals.total.currency()
                    ),
                    field: "discount.amount.currency",
                });
            }
            let sku = match &input.line_id {
                _ if offer.is_some() => offer.and_then(|o| o.sku.clone()),
                Some(l) => {
                    Some(order.lines.iter().find(|x| x.line_id == *l).map(|x| x.sku.clone()).ok_or_else(|| {
                        AppError::UnprocessableField {
                            kind: "unknown-line",
                            detail: format!("lineId: the order has no line {l}"),
                            field: "lineId",
                        }
                    })?)
                }
                None => None,
            };
            let now = self.clock.now();
            let adjustment = Adjustment {
                id: format!("ADJ-{}", ulid::Ulid::new()),
                discount: input.discount,
                sku,
                reason: reason.clone(),
                requested_by: caller.customer.to_string(),
                approved_by: None,
                base: None,
                requires: offer.map(|o| o.with_skus.clone()).unwrap_or_default(),
                amount: Money::zero(order.totals.total.currency()),
                at: now,
            };
            let (next, applied, agent_limit) = self.adjusted(&order, adjustment).await?;
            if applied.amount.amount() == 0 {
                return Err(AppError::Unprocessable {
                    kind: "nothing-to-adjust",
                    detail: "discount: the line or order has nothing left to take off".into(),
                });
            }
            let all: i64 = next.discounts.adjustments.iter().map(|a| a.amount.amount()).sum();
            let approver = caller.may(Permission::ApproveAdjustments);
            let needs_approval = offer.is_none() && !approver && all > agent_limit;
            let currency = order.totals.total.currency();
            let limit = Money::new(if approver { next.totals.subtotal.amount() } else { agent_limit }, currency)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let mut outcome = AdjustmentOutcome {
                outcome: "preview",
                adjustment: applied.clone(),
                totals: next.totals,
                limit,
                needs_approval,
                approval: None,
            };
            if input.preview {
                return Ok((200, outcome));
            }
            let actor = Actor::Agent(caller.customer.to_string());
            let change = if needs_approval {
                let approval = Approval {
                    id: format!("APR-{}", ulid::Ulid::new()),
                    order_id: order.id.clone(),
                    adjustment: applied.clone(),
                    status: ApprovalStatus::Pending,
                    decided_by: None,
                    decided_at: None,
                    note: None,
                    created_at: now,
                    version: 1,
                };
                outcome.outcome = "pending_approval";
                outcome.approval = Some(approval.clone());
                let ev = TimelineEvent::new(now, "adjustment.requested", actor)
                    .with_note(format!("{} off ({}), waiting for approval {}", applied.amount, reason, approval.id));
                let mut c = OrderChange::for_order(&order.id).with_event(ev);
                c.approval = Some(Write::Create(approval));
                c
            } else {
                outcome.outcome = "applied";
                self.adjustment_change(&order, next, &applied, actor, now).await?
            };
            match self.store.commit(&change).await {
                Ok(()) => {
                    tracing::info!(order_id = %order.id, outcome = outcome.outcome, "order adjusted");
                    return Ok((if needs_approval { 202 } else { 200 }, outcome));
                }
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(busy())
    }

    /// The order's write for an applied adjustment (an account order's credit follows it).
    async fn adjustment_change(
        &self,
        order: &Order,
        next: Order,
        applied: &Adjustment,
        actor: Actor,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<OrderChange, AppError> {
        let lower = order.payable().amount() - next.payable().amount();
        let ev = TimelineEvent::new(now, "order.adjusted", actor).with_note(format!(
            "{} off: {}{}; total {}",
            applied.amount,
            applied.reason,
            applied.approved_by.as_ref().map(|a| format!(" (approved by {a})")).unwrap_or_default(),
            next.totals.total
        ));
        let company = match &order.payment.method {
            PaymentMethod::Terms(t) if lower > 0 => self
                .store
                .get_company(&t.company_id)
                .await?
                .map(|c| Write::Update { value: c.release(lower, now), expected_version: c.version }),
            _ => None,
        };
        let mut change = OrderChange::update(next, order.version, now).with_event(ev);
        change.company = company;
        Ok(change)
    }

    pub async fn list_approvals(&self, caller: &Caller, q: ApprovalQuery) -> Result<Vec<Approval>, AppError> {
        if !caller.may(Permission::Adjust) {
            return Err(AppError::Forbidden);
        }
        let status = match q.status.as_deref() {
            None | Some("pending") => ApprovalStatus::Pending,
            Some("approved") => ApprovalStatus::Approved,
            Some("rejected") => ApprovalStatus::Rejected,
            Some(_) => return Err(AppError::invalid_field("status", "pending, approved or rejected")),
        };
        Ok(self.store.approvals(status, 100).await?)
    }

    /// A supervisor's decision: approving applies the adjustment (priced on the order as it is
    /// now); a decided approval answers as it was decided when decided the same way again.
    pub async fn decide_approval(
        &self,
        caller: &Caller,
        id: &str,
        approve: bool,
        input: DecisionInput,
    ) -> Result<Approval, AppError> {
        if !caller.may(Permission::ApproveAdjustments) {
            return Err(AppError::Forbidden);
        }
        if !Approval::is_valid_id(id) {
            return Err(AppError::NotFound);
        }
        let note = input.note.as_deref().map(|n| text("note", n, 500)).transpose()?;
        let wanted = if approve { ApprovalStatus::Approved } else { ApprovalStatus::Rejected };
        for attempt in 1..=8 {
            if attempt > 1 {
                tokio::time::sleep(crate::retry::Backoff::CONTENTION.pause(attempt)).await;
            }
            let approval = self.store.get_approval(id).await?.ok_or(AppError::NotFound)?;
            match approval.status {
                ApprovalStatus::Pending => {}
                s if s == wanted => return Ok(approval),
                _ => {
                    return Err(AppError::Conflict {
                        kind: "already-decided",
                        detail: format!("approval {id} was already decided the other way"),
                    });
                }
            }
            let order = self.store.get_order(&approval.order_id).await?.ok_or(AppError::NotFound)?;
            let now = self.clock.now();
            let who = caller.customer.to_string();
            let mut decided = approval.clone();
            decided.status = wanted;
            decided.decided_by = Some(who.clone());
            decided.decided_at = Some(now);
            decided.note = note.clone();
            decided.version = approval.version + 1;
            let actor = Actor::Agent(who.clone());
            // An order that can no longer be adjusted (cancelled, paid meanwhile): the request
            // is closed as rejected, and the supervisor told why.
            let refused = if approve { not_adjustable(&order) } else { None };
            if let Some(e) = refused {
                decided.status = ApprovalStatus::Rejected;
                decided.note = Some(format!("not applied: {e}"));
                let ev = TimelineEvent::new(now, "adjustment.rejected", Actor::Agent(who.clone()))
                    .with_note(format!("{}: not applied: {e}", approval.id));
                let mut c = OrderChange::for_order(&order.id).with_event(ev);
                c.approval = Some(Write::Update { value: decided.clone(), expected_version: approval.version });
                match self.store.commit(&c).await {
                    Ok(()) => return Err(e),
                    Err(StoreError::StaleVersion) => continue,
                    Err(x) => return Err(x.into()),
                }
            }
            let mut change = if approve {
                let mut adjustment = approval.adjustment.clone();
                adjustment.approved_by = Some(who.clone());
                let (next, applied, _) = self.adjusted(&order, adjustment).await?;
                decided.adjustment = applied.clone();
                self.adjustment_change(&order, next, &applied, actor, now).await?
            } else {
                let ev = TimelineEvent::new(now, "adjustment.rejected", actor).with_note(format!(
                    "{}: {}",
                    approval.id,
                    note.clone().unwrap_or_default()
                ));
                OrderChange::for_order(&order.id).with_event(ev)
            };
            change.approval = Some(Write::Update { value: decided.clone(), expected_version: approval.version });
            match self.store.commit(&change).await {
                Ok(()) => return Ok(decided),
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(busy())
    }
}
