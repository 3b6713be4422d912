//! Confirmation calls: an agent confirms an order the rule queued (fulfillment starts), the rule
//! itself, and the sweep that releases or cancels orders nobody confirmed in time.

use super::projections::OrderProjection;
use super::support::{agent, text};
use super::{AppError, Caller, Oms};
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
                let confirmed = order.confirmation.as_ref().is_some_and(|c| c.confirmed_at.is_some());
                if confirmed && order.status != OrderStatus::Cancelled {
                    return Ok(());
                }
                return Err(AppError::InvalidState { status: order.status, action: "confirmed" });
            }
            let now = self.clock.now();
            let mut next = order.clone();
            next.apply(OrderEvent::Confirm, now)?;
            next.status_reason = None;
            if let Some(c) = next.confirmation.as_mut() {
                c.confirmed_at = Some(now);
            }
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
        Ok(self.store.current_rules().await?.set.confirmation_calls)
    }

    /// Sets the confirmation-call rule: a new version of the rules with only it changed.
    pub async fn set_confirmation_rule(&self, c: &Caller, r: ConfirmationRule) -> Result<ConfirmationRule, AppError> {
        r.check().map_err(|(field, why)| AppError::invalid_field(field, why))?;
        for _ in 0..5 {
            let current = self.store.current_rules().await?;
            let mut set = current.set.clone();
            set.confirmation_calls = r.clone();
            match self.set_rules(c, current.version, set).await {
                Err(AppError::StaleVersion) => continue,
                other => return other.map(|saved| saved.set.confirmation_calls),
            }
        }
        Err(AppError::StaleVersion)
    }

    /// Every order awaiting a confirmation call, oldest first (at most `max`).
    pub(crate) async fn awaiting_calls(&self, max: usize) -> Result<Vec<Order>, AppError> {
        let mut out: Vec<Order> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .store
                .orders_by_status(OrderStatus::AwaitingConfirmation, Listing::first(100).after(cursor.as_deref()))
                .await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) if out.len() < max => cursor = Some(c),
                _ => break,
            }
        }
        out.sort_by_key(|o| o.created_at);
        Ok(out)
    }

    /// Orders whose confirmation call did not happen in time: released into fulfillment or
    /// cancelled, each as the rule said when it asked for the call (run on the effects
    /// function's schedule). Returns how many.
    #[tracing::instrument(skip_all)]
    pub async fn expire_confirmations(&self) -> Result<usize, AppError> {
        let rule = self.store.current_rules().await?.set.confirmation_calls;
        let now = self.clock.now();
        let system = Caller::admin(CustomerId::parse("system").map_err(|e| AppError::Internal(e.to_string()))?);
        let mut done = 0;
        for o in self.awaiting_calls(10_000).await? {
            // Orders queued before calls were kept on the order follow today's rule.
            let (due, on_timeout) = match &o.confirmation {
                Some(c) => (c.confirm_by, c.on_timeout),
                None => (o.created_at + Duration::minutes(i64::from(rule.timeout_minutes)), rule.on_timeout),
            };
            if due > now {
                continue;
            }
            let why = format!("no confirmation call by {}", due.format("%Y-%m-%d %H:%M UTC"));
            let actor = Actor::System("confirmation-calls".into());
            let r = match on_timeout {
                OnTimeout::Release => self.confirm_as(&o.id, actor, "order.confirmation_timed_out", Some(why)).await,
                OnTimeout::Cancel => self.cancel_order(&system, &o.id, actor, Some(why)).await.map(|_| ()),
            };
            match r {
                Ok(()) => done += 1,
                Err(e) => tracing::warn!(order_id = %o.id, error = %e, "confirmation timeout not applied"),
            }
        }
        Ok(done)
    }
}
