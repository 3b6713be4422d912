//! Payment recovery: a declined order waits `payment_required` with its stock held; the
//! customer gives another payment method and the workflow tries the authorization again (the
//! stream starts it on `payment_required → allocated`). The scheduled sweep cancels an order
//! whose deadline passed: stock released, a mail.

use super::super::projections::OrderProjection;
use super::super::{AppError, Caller, Oms};
use crate::domain::*;
use crate::ports::StoreError;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentRequest {
    /// The payment provider's token for the new payment method (never card data).
    pub payment_token: String,
}

/// A payment provider token as placement takes it: printable, at most 255 bytes.
pub(crate) fn parse_token(raw: &str) -> Result<&str, AppError> {
    let token = raw.trim();
    if token.is_empty() || token.len() > 255 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid_field("paymentToken", "a payment provider token is required"));
    }
    Ok(token)
}

/// The signed page where a customer pays for an order waiting for payment (the link in the
/// payment-request and payment-declined mails).
pub fn payment_path(id: &OrderId) -> String {
    format!("/v1/signed/orders/{id}/payment")
}

impl Oms {
    /// Another payment method for a `payment_required` order: recorded with the order (its
    /// token, one more attempt), and the order goes back to `allocated`, where the workflow
    /// authorizes again with a key of its own. A repeat of the same request after it was taken
    /// answers the same; nothing is written for a refused one.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn submit_payment(
        &self,
        caller: &Caller,
        id: &OrderId,
        if_match: Option<u64>,
        req: PaymentRequest,
    ) -> Result<OrderProjection, AppError> {
        let token = parse_token(&req.payment_token)?;
        for _ in 0..5 {
            let order = self.owned_order(caller, id).await?;
            if if_match.is_some_and(|v| v != order.version) {
                return Err(AppError::StaleVersion);
            }
            let now = self.clock.now();
            let recovery = match (order.status, order.payment.recovery.clone()) {
                (OrderStatus::PaymentRequired, Some(r)) => r,
                // Taken already (a retried request): the same answer.
                (s, Some(r)) if r.attempts > 0 && order.payment.token == token && !s.is_terminal() => {
                    return self.get_order(caller, id).await;
                }
                (OrderStatus::OnHold, _) if order.held_from == Some(OrderStatus::PaymentRequired) => {
                    return Err(AppError::Conflict {
                        kind: "order-under-review",
                        detail: format!("order {id} is being reviewed; we will contact you about the payment"),
                    });
                }
                (status, _) => return Err(AppError::InvalidState { status, action: "given a new payment method" }),
            };
            if recovery.due_by <= now {
                return Err(AppError::Conflict {
                    kind: "payment-window-closed",
                    detail: format!("order {id} waited for payment until {}; it is being cancelled", recovery.due_by),
                });
            }
            let mut next = order.clone();
            next.apply(OrderEvent::SubmitPayment, now)?;
            next.status_reason = None;
            next.payment.token = token.to_owned();
            next.payment.recovery = Some(PaymentRecovery { attempts: recovery.attempts + 1, ..recovery });
            let change = OrderChange::update(next, order.version, now).with_event(
                TimelineEvent::new(now, "payment.method_updated", caller.actor_on(&order.customer))
                    .with_status(OrderStatus::Allocated),
            );
            match self.store.commit(&change).await {
                Ok(()) => {
                    tracing::info!("new payment method taken");
                    return self.get_order(caller, id).await;
                }
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }

    /// The scheduled sweep of orders waiting for payment: those past their deadline are
    /// cancelled (stock released, the customer told). Returns how many.
    #[tracing::instrument(skip_all)]
    pub async fn sweep_payments(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let system = super::system_caller()?;
        let mut expired = 0;
        for o in self.orders_in(OrderStatus::PaymentRequired).await? {
            let Some(r) = o.payment.recovery.as_ref().filter(|r| r.due_by <= now) else { continue };
            let why = format!("payment not received by {}", r.due_by.format("%Y-%m-%d %H:%M UTC"));
            match self.cancel_order(&system, &o.id, Actor::System("payment-expiry".into()), Some(why)).await {
                Ok(_) => expired += 1,
                Err(e) => tracing::warn!(order_id = %o.id, error = %e, "payment expiry not applied"),
            }
        }
        tracing::info!(expired, "payment sweep");
        Ok(expired)
    }
}
