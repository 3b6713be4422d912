//! Validation: deliverability, limits, fraud signals → pass, hold for review, or reject. A pass
//! writes nothing: allocation, next in the run, records it with its own write (one write
//! less per order), for the order version assessed here.

use super::{Fulfillment, StepError, StepInput, system};
use crate::domain::validation::{Decision, Signals, assess};
use crate::domain::*;
use serde_json::{Value, json};

impl Fulfillment {
    #[tracing::instrument(skip_all, fields(order_id = %input.order_id))]
    pub async fn validate(&self, input: &StepInput) -> Result<Value, StepError> {
        let order = self.load(&input.order_id).await?;
        match order.status {
            OrderStatus::Placed => {}
            OrderStatus::OnHold => return Ok(json!({"outcome": "hold"})),
            s if s.is_terminal() => return Err(Self::not_active(&order)),
            _ => return Ok(json!({"outcome": "pass", "version": order.version})),
        }
        match self.assess_placed(&order).await? {
            Some(score) => Ok(json!({"outcome": "pass", "score": score, "version": order.version})),
            None => Ok(json!({"outcome": "hold"})),
        }
    }

    /// Assesses a `placed` order: `Some(score)` when it passes (nothing written: allocation
    /// records the pass), `None` when it was put on hold (written here), an error when rejected.
    pub(super) async fn assess_placed(&self, order: &Order) -> Result<Option<u32>, StepError> {
        let since = self.oms.clock.now() - chrono::Duration::hours(1);
        let signals = Signals {
            orders_last_hour_by_email: self.oms.store.count_orders_by_email_since(&order.email, since).await?,
        };
        let now = self.oms.clock.now();
        // By the rules the order recorded at placement, so a later change applies to later
        // orders only.
        let recorded = match order.rules_version {
            Some(v) => self.oms.store.rules_version(v).await?,
            None => None,
        };
        let rules = match recorded {
            Some(r) => r,
            None => self.oms.store.current_rules().await?,
        };
        match assess(order, signals, &rules.set) {
            Decision::Pass { score } => {
                // Checked here, so a transition allocation cannot make is refused now.
                order.clone().apply(OrderEvent::Validate, now)?;
                Ok(Some(score))
            }
            Decision::Hold { score, reasons } => {
                let reason = format!("review: {}", reasons.join(", "));
                let mut next = order.clone();
                next.apply(OrderEvent::HoldForReview, now)?;
                next.status_reason = Some(reason.clone());
                let ev = TimelineEvent::new(now, "order.held", system("validate"))
                    .with_status(next.status)
                    .with_note(format!("score {score}; {reason}; rules v{}", rules.version));
                let change = OrderChange::update(next, order.version, now)
                    .with_event(ev)
                    .with_effect(Effect::notify(Notification::new("order.on_hold", &order.id, Some(reason))));
                self.commit(&change).await?;
                Ok(None)
            }
            Decision::Reject { reasons } => Err(StepError::new(StepError::ORDER_REJECTED, reasons.join(","))),
        }
    }
}
