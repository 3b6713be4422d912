//! Effects and integration events recorded by committed changes, waiting for dispatch. Entries
//! are written by `OrderChanges::commit` in the same atomic write as the change; the table's
//! stream hands each new entry to the dispatcher. An entry whose dispatch failed is deferred
//! with what is left of it (its later effects, its events): it joins the pending list, which the
//! scheduled drain works through, recording progress, until nothing is left, or parks it after
//! `MAX_DRAIN_ATTEMPTS` for an operator.

use super::StoreError;
use crate::domain::{OrderId, OutboxEntry};
use chrono::{DateTime, Utc};

/// What the drain recorded for a deferred entry after running it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settlement {
    /// The first effect still to run (the entry's effect count: none).
    pub effects_from: usize,
    /// Whether its events still wait.
    pub events: bool,
    /// Failed drain runs so far.
    pub attempts: u32,
    /// Not tried again before.
    pub retry_at: Option<DateTime<Utc>>,
    /// Out of the pending list, listed as parked.
    pub parked: bool,
}

impl Settlement {
    /// Whether it leaves anything of `entry` to do (effects, or events it announced).
    pub fn leaves_work(&self, entry: &OutboxEntry) -> bool {
        self.effects_from < entry.effects.len() || (self.events && !entry.events.is_empty())
    }
}

#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    /// Deferred entries not parked, oldest first, each with its `deferral`: read until `limit`
    /// of them are due now, with those not due among them (the drain holds an order's later
    /// entries behind them), reading at most ten times `limit`.
    async fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;
    /// Parked entries, oldest first, at most `limit`.
    async fn parked_effects(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;
    /// How many entries are parked (the index's keys only).
    async fn parked_count(&self) -> Result<usize, StoreError>;
    /// One committed entry (pending or not): what the stream announced.
    async fn get_outbox_entry(&self, order: &OrderId, id: &str) -> Result<Option<OutboxEntry>, StoreError>;
    /// The entries an order's changes recorded, oldest first (pending or not): what an operator
    /// hands the dispatcher again after the stream gave up on a record.
    async fn effects_of_order(&self, order: &OrderId) -> Result<Vec<OutboxEntry>, StoreError>;
    /// A dispatch failed at effect `from`: the entry joins the pending list with its effects
    /// from there. `from = 0` says nothing is known to have run, and keeps what an earlier
    /// deferral or drain recorded; attempts and the retry time are kept. Deferring twice is not
    /// an error; an entry that does not exist is `NotFound`.
    async fn defer_effects(&self, order: &OrderId, id: &str, from: usize) -> Result<(), StoreError>;
    /// An operator retries a parked entry: back on the pending list, due now, attempts counted
    /// afresh and the retry window from `now`. `NotFound` when it is not parked.
    async fn redrive_effects(&self, order: &OrderId, id: &str, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// The bus refused the change's events: the entry joins the pending list with its events
    /// (its effects as an earlier deferral left them, else none: `effects` is how many it has).
    async fn defer_events(&self, order: &OrderId, id: &str, effects: usize) -> Result<(), StoreError>;
    /// Records what a drain run left of a deferred entry, on condition no deferral moved it
    /// since it was read (`entry.deferral.rev`); nothing left takes it off the pending list.
    /// `false` when the condition failed (the next run reads it again).
    async fn settle_effects(&self, entry: &OutboxEntry, left: &Settlement) -> Result<bool, StoreError>;
}
