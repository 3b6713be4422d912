//! After-commit effects: what committed changes recorded in their outbox entry (mail to send,
//! authorizations to void, refunds, labels to void) is run here, after the commit and never
//! before. The table's stream hands each new entry to `dispatch` (and hands it again when the
//! function crashed before the batch was done); an entry whose effects fail is deferred into
//! the pending list, which `drain` works through on a schedule until every effect ran. Each
//! effect carries the key that makes a second run harmless (the notifier's dedupe key, the
//! provider's idempotency key): each runs at least once, and its key makes the customer see it
//! once. A dispatch that succeeds writes nothing (decision 11).

use crate::domain::{Effect, OrderId, OutboxEntry};
use crate::ports::{Carrier, EventBus, PaymentGateway, Queue, Store};

pub use super::error::ConsumerError as EffectError;
use std::sync::Arc;

/// How long one drain may take (entries after it wait for the next run).
pub const DRAIN_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);

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
    async fn run(&self, e: &Effect) -> Result<(), EffectError> {
        match e {
            Effect::Notify { notification } => {
                let body = serde_json::to_string(notification).map_err(|e| EffectError::Permanent(e.to_string()))?;
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
        }
    }

    /// Runs the effects of an entry the stream announced. Returns whether they all ran; when one
    /// fails the entry is deferred to the drain (and the stream goes on). An error means the
    /// entry could not even be deferred: the stream must hand it again.
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
    /// before it, a batch out of time).
    pub async fn defer(&self, order: &OrderId, id: &str) -> Result<(), EffectError> {
        match self.store.defer_effects(order, id).await {
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
        match self.run_all(entry).await {
            Ok(()) => Ok(true),
            Err(err) => {
                self.store.defer_effects(&entry.order_id, &entry.id).await?;
                tracing::warn!(error = %err, "effects deferred to the drain");
                Ok(false)
            }
        }
    }

    async fn run_all(&self, entry: &OutboxEntry) -> Result<(), EffectError> {
        for e in &entry.effects {
            if let Err(err) = self.run(e).await {
                tracing::warn!(error = %err, "effect failed");
                return Err(err);
            }
        }
        tracing::info!(effects = entry.effects.len(), "effects dispatched");
        Ok(())
    }

    /// Runs a deferred entry's effects, then takes it off the pending list.
    async fn dispatch_entry(&self, entry: &OutboxEntry) -> Result<(), EffectError> {
        self.run_all(entry).await?;
        self.store.complete_effects(&entry.order_id, &entry.id).await?;
        Ok(())
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

    /// Dispatches every deferred entry (on a schedule); returns how many were completed. Entries
    /// that fail again stay pending for the next run.
    pub async fn drain(&self) -> Result<usize, EffectError> {
        let mut done = 0;
        let start = std::time::Instant::now();
        for entry in self.store.pending_effects(100).await? {
            // The schedule's sweeps run after the drain in the same invocation: entries left
            // wait for the next run.
            if start.elapsed() > DRAIN_BUDGET {
                break;
            }
            match self.dispatch_entry(&entry).await {
                Ok(()) => done += 1,
                Err(e) => {
                    tracing::warn!(order_id = %entry.order_id, outbox_id = %entry.id, error = %e, "pending effects failed")
                }
            }
        }
        Ok(done)
    }
}
