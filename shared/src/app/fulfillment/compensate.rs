//! Compensation, in reverse: void labels, void the authorization, release allocations and
//! holds; then `failed` (or `on_hold` for a declined payment) with the reason, and one
//! customer notification after the commit. Safe to run any number of times.

use super::{Fulfillment, StepError, StepInput, system};
use crate::domain::change::release_reservations;
use crate::domain::*;
use serde_json::{Value, json};

impl Fulfillment {
    #[tracing::instrument(skip_all, fields(order_id = %input.order_id))]
    pub async fn compensate(&self, input: &StepInput) -> Result<Value, StepError> {
        let (error_name, cause) = match &input.error {
            Some(e) => (
                e.get("Error").and_then(Value::as_str).unwrap_or("Unknown").to_owned(),
                e.get("Cause").and_then(Value::as_str).unwrap_or("").chars().take(300).collect::<String>(),
            ),
            None => ("Unknown".to_owned(), String::new()),
        };
        for _ in 0..5 {
            let order = self.load(&input.order_id).await?;
            if order.status.is_terminal()
                || (order.status == OrderStatus::OnHold && order.open_reservations().next().is_none())
            {
                return Ok(json!({"status": order.status, "compensated": false}));
            }
            let now = self.oms.clock.now();
            // 1. Labels (voids are idempotent at the carrier).
            let mut shipments = Vec::new();
            for sh in self.oms.store.shipments_of_order(&order.id).await? {
                if sh.status == ShipmentStatus::Cancelled {
                    continue;
                }
                if let Some(label) = &sh.label_id {
                    self.carrier.void_label(label).await?;
                }
                let mut s = sh.clone();
                s.status = ShipmentStatus::Cancelled;
                s.updated_at = now;
                shipments.push(Write::Replace(s));
            }
            // 2. Authorization.
            if let Some(auth) = &order.payment.authorization_id {
                self.payments.void(auth, &format!("void-{}", order.id)).await?;
            }
            // 3. Stock, 4. status and notification.
            let mut next = order.clone();
            let moves = release_reservations(&mut next);
            let declined = error_name == StepError::PAYMENT_DECLINED;
            let (event, kind, reason) = if declined {
                (OrderEvent::HoldForReview, "order.payment_declined", format!("payment_declined: {cause}"))
            } else {
                (OrderEvent::Fail, "order.failed", format!("{error_name}: {cause}"))
            };
            next.apply(event, now)?;
            next.status_reason = Some(reason.clone());
            // A failed order gives its promotion uses back; a declined one may still be paid.
            let uses = if declined { Vec::new() } else { crate::domain::promotion::release_uses(&mut next) };
            let slots = if declined { Vec::new() } else { crate::domain::service::cancel_scheduled(&mut next, now) };
            if order.payment.authorization_id.is_some() {
                let zero = Money::zero(order.totals.total.currency());
                next.payment.record(LedgerKind::Voided, zero, &format!("void-{}", order.id), now);
            }
            next.payment.authorization_id = None;
            let ev =
                TimelineEvent::new(now, kind, system("compensate")).with_status(next.status).with_note(reason.clone());
            let mut change = OrderChange::update(next, order.version, now)
                .with_event(ev)
                .with_effect(Effect::notify(Notification::new(kind, &order.id, Some(reason))));
            if !declined {
                // A failed replacement's exchange credit goes back to the original payment; a
                // declined one may still be paid, and cancelling it later returns it.
                change.effects.extend(Effect::credit_back(&order));
            }
            change.stock = moves;
            change.shipments = shipments;
            change.promotion_uses = uses;
            change.slot_bookings = slots;
            match self.commit(&change).await {
                Ok(()) => return Ok(json!({"status": change.next_order().map(|o| o.status), "compensated": true})),
                Err(e) if e.name == StepError::STORE_TRANSIENT => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StepError::new(StepError::STORE_TRANSIENT, "order kept changing during compensation"))
    }
}
