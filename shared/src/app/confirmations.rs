//! Confirmation calls: an agent confirms an order the rule queued (fulfillment starts), the rule
//! itself, and the sweep that releases or cancels orders nobody confirmed in time.

use super::projections::OrderProjection;
use super::support::{agent, text};
use super::{AppError, Caller, Oms, Permission};
use crate::domain::confirmation::{ConfirmationRule, OnTimeout};
use crate::domain::*;
use crate::ports::{Listing, StoreError};
use chrono::Duration;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmRequest {
    #[serde(default)]
    pub note: Option<String>,
}

impl Oms {
    /// Confirms an order awaiting its confirmation call: fulfillment starts (the table stream
    /// sees it enter `placed`). Confirming a confirmed order returns it unchanged.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn confirm_order(
        &self,
        c: &Caller,
        id: &OrderId,
        req: ConfirmRequest,
    ) -> Result<OrderProjection, AppError> {
        let note = req.note.as_deref().map(|n| text("note", n, 500)).transpose()?;
        self.confirm_as(id, agent(c), "order.confirmed_by_call", note).await?;
        self.get_order(c, id).await
    }

    async fn confirm_as(&self, id: &OrderId, actor: Actor, kind: &str, note: Option<String>) -> Result<(), AppError> {
        for _ in 0..5 {
            let order = self.order_for_agent(id).await?;
            if order.status != OrderStatus::AwaitingConfirmation {
                // A retry of a confirmation that went through is answered with the order.
                let confirmed = self
                    .store
                    .timeline(id)
                    .await?
                    .iter()
                    .any(|e| matches!(e.kind.as_str(), "order.confirmed_by_call" | "order.confirmation_timed_out"));
                if confirmed && order.status != OrderStatus::Cancelled {
                    return Ok(());
                }
                return Err(AppError::InvalidState { status: order.status, action: "confirmed" });
            }
            let now = self.clock.now();
            let mut next = order.clone();
            next.apply(OrderEvent::Confirm, now)?;
            next.status_reason = None;
            let mut ev = TimelineEvent::new(now, kind, actor.clone()).with_status(OrderStatus::Placed);
            if let Some(n) = &note {
                ev = ev.with_note(n.clone());
            }
            match self.store.commit(&OrderChange::update(next, order.version, now).with_event(ev)).await {
                Ok(()) => return Ok(()),
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }

    pub async fn confirmation_rule(&self) -> Result<ConfirmationRule, AppError> {
        Ok(self.store.get_confirmation_rule().await?)
    }

    pub async fn set_confirmation_rule(&self, c: &Caller, r: ConfirmationRule) -> Result<ConfirmationRule, AppError> {
        if !c.may(Permission::RefundOverLimit) {
            return Err(AppError::Forbidden);
        }
        r.check().map_err(|(field, why)| AppError::invalid_field(field, why))?;
        self.store.put_confirmation_rule(&r).await?;
        Ok(r)
    }

    /// Orders whose confirmation call did not happen in time: released into fulfillment or
    /// cancelled, as the rule says (run on the reconciliation schedule). Returns how many.
    #[tracing::instrument(skip_all)]
    pub async fn expire_confirmations(&self) -> Result<usize, AppError> {
        let rule = self.store.get_confirmation_rule().await?;
        let cutoff = self.clock.now() - Duration::minutes(i64::from(rule.timeout_minutes));
        let system = Caller::admin(CustomerId::parse("system").map_err(|e| AppError::Internal(e.to_string()))?);
        let waiting = self.store.orders_by_status(OrderStatus::AwaitingConfirmation, Listing::first(100)).await?;
        let mut done = 0;
        for o in waiting.items.iter().filter(|o| o.created_at <= cutoff) {
            let why = format!("no confirmation call within {} minutes", rule.timeout_minutes);
            let r = match rule.on_timeout {
                OnTimeout::Release => {
                    self.confirm_as(
                        &o.id,
                        Actor::System("confirmation-calls".into()),
                        "order.confirmation_timed_out",
                        Some(why),
                    )
                    .await
                }
                OnTimeout::Cancel => self
                    .cancel_order(&system, &o.id, Actor::System("confirmation-calls".into()), Some(why))
                    .await
                    .map(|_| ()),
            };
            match r {
                Ok(()) => done += 1,
                Err(e) => tracing::warn!(order_id = %o.id, error = %e, "confirmation timeout not applied"),
            }
        }
        Ok(done)
    }
}
