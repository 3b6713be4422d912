//! Payment: authorize the order total with manual capture (captured when it ships). The
//! authorization comes first, keyed by the order; if the order moved on meanwhile (held,
//! cancelled), the authorization is voided and the step stops. A decline leaves the order
//! `payment_required` with its stock held (`Oms::submit_payment` resumes it; the sweep cancels
//! it after the deadline): the step answers `{"outcome": "payment_required"}` and the run ends.

use super::{Fulfillment, StepError, StepInput, system};
use crate::domain::*;
use crate::ports::StoreError;
use crate::ports::{AuthorizeRequest, PaymentError};
use serde_json::{Value, json};

const PAYMENT_REQUIRED: &str = "payment_required";
/// The "decline code" of an order whose customer was sent a payment link.
const PAYMENT_LINK: &str = "payment_link";

impl Fulfillment {
    #[tracing::instrument(skip_all, fields(order_id = %input.order_id))]
    pub async fn authorize_payment(&self, input: &StepInput) -> Result<Value, StepError> {
        let order = self.load(&input.order_id).await?;
        match order.status {
            OrderStatus::Allocated => {}
            // Declined in an earlier try of this step: the run ends waiting for the customer.
            OrderStatus::PaymentRequired => return Ok(json!({"outcome": PAYMENT_REQUIRED})),
            s if s.is_terminal() || matches!(s, OrderStatus::OnHold | OrderStatus::Placed | OrderStatus::Validated) => {
                return Err(Self::not_active(&order));
            }
            _ => return Ok(json!({"outcome": "authorized", "authorizationId": order.payment.authorization_id})),
        }
        let payable = order.payable();
        // One key per authorization the order has had: a retry of this step gets the same
        // authorization back; after an edit voided the previous one, a new one is made; each
        // payment method given after a decline is tried with its own key.
        let attempt = order.payment.ledger.iter().filter(|e| e.kind == LedgerKind::Authorized).count();
        let base = if attempt == 0 { format!("auth-{}", order.id) } else { format!("auth-{}-{attempt}", order.id) };
        let key = PaymentRecovery::key(order.payment.recovery.as_ref(), base);
        let auth = match &order.payment.authorization_id {
            Some(id) => Some(id.clone()),
            // Paid on a marketplace: recorded, nothing asked of our provider.
            None if order.payment.method.settled_authorization().is_some() => {
                order.payment.method.settled_authorization()
            }
            // Fully covered by a credit (an even exchange): nothing to authorize.
            None if payable.amount() == 0 => None,
            // A call-centre order paid from a link: ask the customer for the payment.
            None if order.payment.token.is_empty() && order.payment.method == PaymentMethod::Link => {
                return self.require_payment(order, PAYMENT_LINK).await;
            }
            None => match self
                .payments
                .authorize(&AuthorizeRequest {
                    token: order.payment.token.clone(),
                    amount: payable,
                    idempotency_key: key.clone(),
                    order_id: order.id.clone(),
                })
                .await
            {
                Ok(a) => Some(a.id),
                Err(PaymentError::Declined(code) | PaymentError::Rejected(code)) => {
                    return self.require_payment(order, &code).await;
                }
                Err(e) => return Err(e.into()),
            },
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
            Ok(()) => Ok(json!({"outcome": "authorized", "authorizationId": auth})),
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

    /// A decline: the order waits for another payment method with its stock held until the
    /// deadline, and the customer is asked for one (the mail goes after the commit, once per
    /// decline).
    async fn require_payment(&self, order: Order, code: &str) -> Result<Value, StepError> {
        let now = self.oms.clock.now();
        let mut next = order.clone();
        next.apply(OrderEvent::RequirePayment, now)?;
        let recovery =
            PaymentRecovery::declined(order.payment.recovery.as_ref(), now, self.oms.payment_recovery_hours, code);
        // A link order is asked to pay; a decline is asked for another payment method.
        let (kind, reason) = if code == PAYMENT_LINK {
            ("order.payment_requested", "payment requested by link".to_owned())
        } else {
            ("order.payment_declined", format!("payment_declined: {code}"))
        };
        next.status_reason = Some(reason.clone());
        let dedupe = format!("{kind}#{}#{}", order.id, recovery.attempts);
        next.payment.recovery = Some(recovery);
        let ev = TimelineEvent::new(now, kind, system("authorize-payment"))
            .with_status(OrderStatus::PaymentRequired)
            .with_note(reason.clone());
        let change = OrderChange::update(next, order.version, now)
            .with_event(ev)
            .with_effect(Effect::notify(Notification::new(kind, &order.id, Some(reason)).with_dedupe_key(dedupe)));
        match self.oms.store.commit(&change).await {
            Ok(()) => {
                tracing::info!("payment declined; waiting for another payment method");
                Ok(json!({"outcome": PAYMENT_REQUIRED}))
            }
            Err(StoreError::StaleVersion) => {
                let now_order = self.load(&order.id).await?;
                if now_order.status == OrderStatus::PaymentRequired {
                    return Ok(json!({"outcome": PAYMENT_REQUIRED}));
                }
                if now_order.status != OrderStatus::Allocated {
                    return Err(Self::not_active(&now_order));
                }
                Err(StepError::new(StepError::STORE_TRANSIENT, "the order changed during authorization"))
            }
            Err(e) => Err(e.into()),
        }
    }
}
