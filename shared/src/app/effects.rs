//! After-commit effects: what committed changes recorded in their outbox entry (mail to send,
//! authorizations to void, refunds, labels to void) is run here, after the commit and never
//! before. The table's stream hands each new entry to `dispatch` (and hands it again when the
//! function crashed before the batch was done); an entry whose effects fail is deferred into
//! the pending list from the effect that failed (and one whose integration events the bus
//! refused, with its events), which `drain` works through on a schedule, with backoff, until
//! nothing is left, or parks for an operator after `MAX_DRAIN_ATTEMPTS`. Each
//! effect carries the key that makes a second run harmless (the notifier's dedupe key, the
//! provider's idempotency key): each runs at least once, and its key makes the customer see it
//! once. A dispatch that succeeds writes nothing (decision 11).

use crate::domain::{Effect, OrderId, OutboxEntry};
use crate::ports::{Carrier, EventBus, PaymentGateway, Queue, Settlement, Store};
use tracing::Instrument;

pub use super::error::ConsumerError as EffectError;
use std::sync::Arc;

/// How long one drain may take (entries after it wait for the next run).
pub const DRAIN_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);
/// How many deferred entries one drain reads (past those not due yet, within its budget).
pub const DRAIN_PAGE: usize = 1000;

/// Runs effects with the ports they need (all required).
#[derive(Clone)]
pub struct Effects {
    /// Where the outbox entries are (read, then completed).
    pub store: Arc<dyn Store>,
    /// Mail goes to the notifier through its queue.
    pub notifications: Arc<dyn Queue>,
    /// Voids and refunds.
    pub payments: Arc<dyn PaymentGateway>,
    /// Label voids.
    pub carrier: Arc<dyn Carrier>,
    /// Integration events (`super::events`).
    pub bus: Arc<dyn EventBus>,
    /// The webhook dispatcher's queue: replays agents asked for go there once recorded.
    pub webhooks: Arc<dyn Queue>,
    /// Invoices and credit notes for captures and refunds.
    pub invoicing: super::invoices::Invoicing,
}

impl Effects {
    /// Runs one effect of `entry`'s change.
    async fn run(&self, e: &Effect, entry: &OutboxEntry) -> Result<(), EffectError> {
        match e {
            Effect::Notify { notification } => {
                // The mail renders its order at least as the change left it.
                let version = entry.sequence.filter(|_| notification.order_id.as_ref() == Some(&entry.order_id));
                let stamped = crate::domain::Notification {
                    order_version: notification.order_version.or(version),
                    ..notification.clone()
                };
                let body = serde_json::to_string(&stamped).map_err(|e| EffectError::Permanent(e.to_string()))?;
                self.notifications.send(&body).await.map_err(EffectError::Transient)
            }
            Effect::VoidAuthorization { authorization_id, idempotency_key } => {
                Ok(self.payments.void(authorization_id, idempotency_key).await?)
            }
            Effect::Refund { authorization_id, amount, idempotency_key } => {
                self.payments.refund(authorization_id, amount, idempotency_key).await?;
                Ok(())
            }
            Effect::VoidLabel { label_id } => Ok(self.carrier.void_label(label_id).await?),
            Effect::Capture { authorization_id, amount, idempotency_key } => {
                Ok(self.payments.capture(authorization_id, amount, idempotency_key, true).await?)
            }
            Effect::IssueDocument { order_id, kind, reference } => {
                self.invoicing.issue(order_id, *kind, reference).await?;
                Ok(())
            }
            Effect::ReturnExchangeCredit { return_id } => {
                super::returns::give_credit_back(self.store.as_ref(), self.invoicing.clock.as_ref(), return_id).await
            }
        }
    }

    /// Runs the effects of an entry the stream announced. Returns whether they all ran; when one
    /// fails the entry is deferred to the drain from that effect on (and the stream goes on). An
    /// error means the entry could not even be deferred: the stream must hand it again.
    #[tracing::instrument(skip_all, fields(order_id = %order, outbox_id = %id))]
    pub async fn dispatch(&self, order: &OrderId, id: &str) -> Result<bool, EffectError> {
        match self.store.get_outbox_entry(order, id).await {
            Ok(Some(entry)) => self.dispatch_recorded(&entry).await,
            Ok(None) => Ok(false),
            // Unreadable (an effect this version does not know, a read that failed): deferred
            // by its key, so the drain of a version that reads it finds it.
            Err(err) => {
                tracing::warn!(error = %err, "effects unreadable: deferred to the drain");
                self.defer(order, id).await?;
                Ok(false)
            }
        }
    }

    /// Puts an entry the stream delivered on the pending list without running it (a failure
    /// before it, a batch out of time, an earlier record of its order deferred).
    pub async fn defer(&self, order: &OrderId, id: &str) -> Result<(), EffectError> {
        match self.store.defer_effects(order, id, 0).await {
            Ok(()) | Err(crate::ports::StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A stream record's entry: from its image when it carries it (no read), else read.
    pub async fn dispatch_announced(
        &self,
        order: &OrderId,
        id: &str,
        entry: Option<&OutboxEntry>,
    ) -> Result<bool, EffectError> {
        match entry {
            Some(entry) => self.dispatch_recorded(entry).await,
            None => self.dispatch(order, id).await,
        }
    }

    /// `dispatch` for an entry the stream record itself carries (its new image): no read.
    #[tracing::instrument(skip_all, fields(order_id = %entry.order_id, outbox_id = %entry.id))]
    pub async fn dispatch_recorded(&self, entry: &OutboxEntry) -> Result<bool, EffectError> {
        match self.run_from(entry, 0).await {
            Ok(()) => Ok(true),
            Err((from, err)) => {
                self.store.defer_effects(&entry.order_id, &entry.id, from).await?;
                tracing::warn!(error = %err, from, "effects deferred to the drain");
                Ok(false)
            }
        }
    }

    /// Runs an entry's effects from index `from` in order, stopping at the first that fails:
    /// its index and error.
    async fn run_from(&self, entry: &OutboxEntry, from: usize) -> Result<(), (usize, EffectError)> {
        for (i, e) in entry.effects.iter().enumerate().skip(from) {
            if let Err(err) = self.run(e, entry).await {
                tracing::warn!(error = %err, effect = i, "effect failed");
                return Err((i, err));
            }
        }
        tracing::info!(effects = entry.effects.len().saturating_sub(from), "effects dispatched");
        Ok(())
    }

    /// Publishes a change's integration events, or defers them to the drain when the bus (or
    /// the order read that builds them) fails; whether they were published. `effects` is how
    /// many effects the record has (none of them pending unless a deferral said so). An error
    /// means they could not even be deferred: the stream must hand the record again.
    pub async fn publish_or_defer(&self, c: &super::events::ChangeEvents, effects: usize) -> Result<bool, EffectError> {
        match self.publish(c).await {
            Ok(_) => Ok(true),
            Err(err) => {
                tracing::warn!(error = %err, order_id = %c.order, "events deferred to the drain");
                self.defer_events(c, effects).await?;
                Ok(false)
            }
        }
    }

    /// Puts a change's events on the pending list without publishing them (an earlier record of
    /// its order has deferred events: they keep their order).
    pub async fn defer_events(&self, c: &super::events::ChangeEvents, effects: usize) -> Result<(), EffectError> {
        match self.store.defer_events(&c.order, &c.change_id, effects).await {
            Ok(()) | Err(crate::ports::StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// An order's body was written (placed, edited): its customer's profile learns what it says.
    pub async fn record_customer(&self, order: &OrderId) -> Result<(), EffectError> {
        super::customers::record_order_customer(self.store.as_ref(), &crate::ports::SystemClock, order)
            .await
            .map_err(|e| EffectError::Transient(e.to_string()))
    }

    /// A replay request was recorded: the dispatcher sends the deliveries again.
    pub async fn request_replay(&self, r: &crate::domain::webhooks::ReplayRequest) -> Result<(), EffectError> {
        let body = serde_json::json!({ "replay": r }).to_string();
        self.webhooks.send(&body).await.map_err(EffectError::Transient)
    }

    /// Works through the deferred entries (on a schedule), oldest first, within `DRAIN_BUDGET`;
    /// returns how many it completed. Per entry it runs the effects left, in order, and
    /// publishes the events left, then records what is left: nothing (the entry leaves the
    /// pending list), or the progress with a failed attempt counted and the time of the next
    /// (`drain_backoff`). An entry is parked after `MAX_DRAIN_ATTEMPTS`, at once when an effect
    /// fails for good, and without running its effects once past `RETRY_WINDOW_HOURS`, so it no
    /// longer holds the drain (nor its order's later entries) up. Within a run an order's
    /// entries keep their order: once an entry's effects (or events) are left waiting, its
    /// order's later entries' effects (or events) wait too. Parked entries are counted on every
    /// run (an error log line while there are any: the alarm's gauge).
    pub async fn drain(&self) -> Result<usize, EffectError> {
        use std::collections::HashSet;
        let start = std::time::Instant::now();
        let now = chrono::Utc::now();
        let (mut done, mut effects_held, mut events_held) = (0, HashSet::new(), HashSet::new());
        for entry in self.store.pending_effects(DRAIN_PAGE).await? {
            // The schedule's sweeps run after the drain in the same invocation: entries left
            // wait for the next run.
            if start.elapsed() > DRAIN_BUDGET {
                break;
            }
            let d = entry.left();
            let due = d.retry_at.is_none_or(|t| t <= now);
            let (run_effects, run_events) =
                (due && !effects_held.contains(&entry.order_id), due && !events_held.contains(&entry.order_id));
            let span = tracing::info_span!("drain", order_id = %entry.order_id, outbox_id = %entry.id);
            let left = self.drain_one(&entry, (run_effects, run_events), now).instrument(span).await;
            if left.effects_from < entry.effects.len() {
                effects_held.insert(entry.order_id.clone());
            }
            if left.events && !entry.events.is_empty() {
                events_held.insert(entry.order_id.clone());
            }
            let finished = !left.leaves_work(&entry);
            let unchanged =
                left.effects_from == d.effects_from && left.events == d.events && left.attempts == d.attempts;
            if unchanged && !finished && !left.parked {
                continue;
            }
            match self.store.settle_effects(&entry, &left).await {
                Ok(true) if finished => done += 1,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(order_id = %entry.order_id, outbox_id = %entry.id, error = %e, "drain progress not recorded")
                }
            }
        }
        // The alarm's gauge; a failed count must not stop the schedule's sweeps after the drain.
        match self.store.parked_count().await {
            Ok(0) => {}
            Ok(parked) => tracing::error!(parked, "parked effects wait for an operator"),
            Err(e) => tracing::warn!(error = %e, "parked effects not counted"),
        }
        Ok(done)
    }

    /// Runs what is left of one deferred entry (its effects, its events, as allowed) and says
    /// what is left after.
    async fn drain_one(
        &self,
        entry: &OutboxEntry,
        (run_effects, run_events): (bool, bool),
        now: chrono::DateTime<chrono::Utc>,
    ) -> Settlement {
        let d = entry.left();
        let effects_left = d.effects_from < entry.effects.len();
        // Past the window a retried effect could be paid twice: its effects are not run again.
        let past_window = run_effects && effects_left && !d.within_window(entry.created_at, now);
        let mut left = Settlement {
            effects_from: d.effects_from,
            events: d.events && !entry.events.is_empty(),
            attempts: d.attempts,
            retry_at: d.retry_at,
            parked: false,
        };
        let mut failure: Option<EffectError> = None;
        if run_effects && effects_left && !past_window {
            match self.run_from(entry, left.effects_from).await {
                Ok(()) => left.effects_from = entry.effects.len(),
                Err((i, e)) => {
                    left.effects_from = i;
                    failure = Some(e);
                }
            }
        }
        if run_events && left.events {
            match self.publish(&super::events::ChangeEvents::of(entry)).await {
                Ok(_) => left.events = false,
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if past_window {
            tracing::error!(effects_from = left.effects_from, "effects parked: past the retry window");
            left.parked = true;
        }
        if let Some(err) = failure {
            left.attempts = d.attempts.saturating_add(1);
            left.retry_at = Some(chrono::Utc::now() + crate::domain::effects::drain_backoff(left.attempts));
            let permanent = matches!(err, EffectError::Permanent(_));
            left.parked |= permanent || left.attempts >= crate::domain::effects::MAX_DRAIN_ATTEMPTS;
            if left.parked {
                // An operator's work now: the alarm on this line, `parked_effects` to list them,
                // `defer_effects` to try one again.
                tracing::error!(error = %err, attempts = left.attempts, effects_from = left.effects_from, events = left.events, "effects parked");
            } else {
                tracing::warn!(error = %err, attempts = left.attempts, "pending effects failed");
            }
        }
        left
    }
}
