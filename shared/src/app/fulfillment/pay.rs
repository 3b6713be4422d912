//! Payment: authorize the order total with manual capture (captured when it ships). The
//! authorization comes first, keyed by the order; if the order moved on meanwhile (held,
//! cancelled), the authorization is voided and the step stops.

use super::{Fulfillment, StepError, StepInput, system};
use crate::domain::*;
use crate::ports::AuthorizeRequest;
use crate::ports::StoreError;
use serde_json::{Value, json};

impl Fulfillment {
    #[tracing::instrument(skip_all, fields(order_id = %input.order_id))]
    pub async fn authorize_payment(&self, input: &StepInput) -> Result<Value, StepError> {
        let order = self.load(&input.order_id).await?;
        match order.status {
            OrderStatus::Allocated => {}
            s if s.is_terminal() || matches!(s, OrderStatus::OnHold | OrderStatus::Placed | OrderStatus::Validated) => {
                return Err(Self::not_active(&order));
            }
            _ => return Ok(json!({"authorizationId": order.payment.authorization_id})),
        }
        let payable = order.payable();
        // One key per authorization the order has had: a retry of this step gets the same
        // authorization back; after an edit voided the previous one, a new one is made.
        let attempt = order.payment.ledger.iter().filter(|e| e.kind == LedgerKind::Authorized).count();
        let key = if attempt == 0 { format!("auth-{}", order.id) } else { format!("auth-{}-{attempt}", order.id) };
        let auth = match &order.payment.authorization_id {
            Some(id) => Some(id.clone()),
            // Fully covered by a credit (an even exchange): nothing to authorize.
            None if payable.amount() == 0 => None,
            None => Some(
                self.payments
                    .authorize(&AuthorizeRequest {
                        token: order.payment.token.clone(),
                        amount: payable,
                        idempotency_key: key.clone(),
                        order_id: order.id.clone(),
                    })
                    .await?
                    .id,
            ),
        };
        let now = self.oms.clock.now();
        let mut next = order.clone();
        next.apply(OrderEvent::AuthorizePayment, now)?;
        next.payment.authorization_id = auth.clone();
        if let Some(a) = &auth {
            next.payment.record(LedgerKind::Authorized, payable, a, now);
        }
        let ev = TimelineEvent::new(now, "payment.authorized", system("authorize-payment"))
            .with_status(next.status)
            .with_note(format!("{payable} authorized"));
        let mut change = OrderChange::update(next, order.version, now).with_event(ev);
        // Disputes name the payment; this finds the order from it.
        change.payment_refs = auth.iter().cloned().collect();
        match self.oms.store.commit(&change).await {
            Ok(()) => Ok(json!({"authorizationId": auth})),
            Err(StoreError::StaleVersion) => {
                let now_order = self.load(&order.id).await?;
                if now_order.status != OrderStatus::Allocated {
                    // The order moved on (held, cancelled): undo exactly what this step did.
                    if let Some(a) = auth.filter(|_| now_order.payment.authorization_id.is_none()) {
                        self.payments.void(&a, &format!("void-{}", order.id)).await?;
                    }
                    return Err(Self::not_active(&now_order));
                }
                Err(StepError::new(StepError::STORE_TRANSIENT, "the order changed during authorization"))
            }
            Err(e) => Err(e.into()),
        }
    }
}
