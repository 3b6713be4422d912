//! Changes too large for one transaction (up to 100 items): an order of 150 lines moves 150
//! stock items or more. The change is still all or nothing to anyone who reads it:
//!
//! - stock deltas that only take (holds, allocations, shipping) and do not fit are applied
//!   first, in parts of up to 99 items, each with a marker item that records what it did;
//! - the change's own transaction then writes everything else with as many deltas as fit,
//!   deletes those markers (on condition that they still exist) and, when releases or
//!   restocks (deltas that give units back) do not fit either, writes one marker listing them;
//! - given-back units are applied after the commit, in parts, the marker recording progress.
//!
//! A part applied before a refused commit is undone (units taken are given back); a commit
//! interrupted half way is finished by `finish_interrupted` (run by reconciliation): markers of
//! parts older than the cut-off are undone if they were applied before a commit that never
//! happened, or applied to the end if they belong to a commit that happened. Units are never
//! given back before the change that frees them has committed, so nothing is oversold; a crash
//! at worst keeps units unavailable until the sweep.

use super::errors::TxRole;
use super::item::{Item, key_attrs};
use super::keys::{self, Key};
use super::table::DynamoStore;
use super::tx::TxOp;
use crate::domain::{OrderId, StockDelta};
use crate::ports::StoreError;
use crate::retry::{Backoff, retry};
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Items one `TransactWriteItems` may hold.
pub const MAX_TX_ITEMS: usize = 100;
/// Items a change may write besides stock (the rest of the transaction is for stock deltas
/// and part markers).
pub const MAX_OTHER_ITEMS: usize = 95;
const PART: usize = MAX_TX_ITEMS - 1;
pub const ENTITY_STOCK_PART: &str = "stock_part";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartKind {
    /// Applied before its change's commit: undone unless that commit deleted the marker.
    TakenAhead,
    /// To apply after its change's commit (which wrote the marker).
    GiveAfter,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockPart {
    pub order_id: OrderId,
    pub kind: PartKind,
    pub deltas: Vec<StockDelta>,
    /// How many deltas are applied (GiveAfter).
    pub applied: usize,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

pub fn part_item<'a>(key: &Key, p: &'a StockPart) -> Item<&'a StockPart> {
    Item::new(key.clone(), ENTITY_STOCK_PART, p)
        .gsi1(keys::STOCK_PARTS_GSI1PK.to_owned(), format!("{}#{}#{}", keys::timestamp(&p.created_at), key.pk, key.sk))
}

type Ops = Vec<(TransactWriteItem, TxRole)>;

impl DynamoStore {
    async fn transact_retrying(&self, ops: &Ops) -> Result<(), StoreError> {
        retry(Backoff::CONTENTION, StoreError::is_retryable, || {
            self.transact(ops.iter().map(|(item, role)| TxOp { item: item.clone(), role: role.clone() }).collect())
        })
        .await
    }

    fn deltas_ops(&self, deltas: &[StockDelta]) -> Result<Ops, StoreError> {
        deltas.iter().map(|d| self.stock_update(d).map(|o| (o.item, o.role))).collect()
    }

    pub(super) fn delete_if(
        &self,
        key: &Key,
        condition: &str,
        version: Option<u64>,
    ) -> Result<(TransactWriteItem, TxRole), StoreError> {
        let mut d =
            Delete::builder().table_name(self.table()).set_key(Some(key_attrs(key))).condition_expression(condition);
        if let Some(v) = version {
            d = d.expression_attribute_values(":v", super::item::n(v));
        }
        let d = d.build().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok((TransactWriteItem::builder().delete(d).build(), TxRole::Part))
    }

    /// Commits a change whose stock deltas do not fit in one transaction with its other items.
    pub(super) async fn commit_in_parts(
        &self,
        others: Vec<TxOp>,
        deltas: Vec<StockDelta>,
        order_id: &OrderId,
    ) -> Result<(), StoreError> {
        // Three kinds: deltas that only take (safe to apply ahead and undo), deltas that only
        // give back (safe to apply after the commit), and mixed ones (an edit netting a release
        // and a hold on one item), which must be in the commit itself.
        let (gives, rest): (Vec<StockDelta>, Vec<StockDelta>) = deltas.into_iter().partition(StockDelta::only_gives);
        let (mixed, takes): (Vec<StockDelta>, Vec<StockDelta>) = rest.into_iter().partition(StockDelta::gives);
        // One slot stays free for the marker of deltas given back after the commit.
        let room = MAX_TX_ITEMS
            .checked_sub(others.len() + 1 + mixed.len())
            .ok_or(StoreError::TooLarge(others.len() + mixed.len()))?;
        // Takes first (give-backs can always wait for the commit), with a slot per part taken
        // ahead for its marker's delete.
        let mut ahead_parts = 0;
        while takes.len() > room.saturating_sub(ahead_parts) + PART * ahead_parts {
            ahead_parts += 1;
            if ahead_parts > room {
                return Err(StoreError::TooLarge(others.len() + mixed.len() + takes.len()));
            }
        }
        let takes_now = takes.len().min(room - ahead_parts);
        let gives_now = gives.len().min(room - ahead_parts - takes_now);
        let (takes_in_commit, takes_ahead) = takes.split_at(takes_now);
        let batch = ulid::Ulid::new().to_string();
        let now = self.clock.now();

        let mut ahead: Vec<(Key, StockPart)> = Vec::new();
        for (i, chunk) in takes_ahead.chunks(PART).enumerate() {
            let key = keys::stock_part(order_id, &batch, i);
            let part = StockPart {
                order_id: order_id.clone(),
                kind: PartKind::TakenAhead,
                deltas: chunk.to_vec(),
                applied: chunk.len(),
                created_at: now,
                version: 1,
            };
            let mut ops = self.deltas_ops(chunk)?;
            let put = self.put_new(&part_item(&key, &part))?;
            ops.push((put.item, TxRole::Part));
            if let Err(e) = self.transact_retrying(&ops).await {
                self.undo_ahead(&ahead).await;
                return Err(e);
            }
            ahead.push((key, part));
        }

        let mut ops: Ops = others.into_iter().map(|o| (o.item, o.role)).collect();
        ops.extend(self.deltas_ops(&mixed)?);
        ops.extend(self.deltas_ops(&gives[..gives_now])?);
        ops.extend(self.deltas_ops(takes_in_commit)?);
        for (key, _) in &ahead {
            ops.push(self.delete_if(key, "attribute_exists(PK)", None)?);
        }
        let after = (gives.len() > gives_now).then(|| {
            let key = keys::stock_part(order_id, &batch, ahead.len());
            let part = StockPart {
                order_id: order_id.clone(),
                kind: PartKind::GiveAfter,
                deltas: gives[gives_now..].to_vec(),
                applied: 0,
                created_at: now,
                version: 1,
            };
            (key, part)
        });
        if let Some((key, part)) = &after {
            let put = self.put_new(&part_item(key, part))?;
            ops.push((put.item, TxRole::Part));
        }
        if let Err(e) = self.transact_retrying(&ops).await {
            self.undo_ahead(&ahead).await;
            return Err(e);
        }
        // Committed: what is not given back now, the sweep gives back.
        if let Some((key, part)) = after
            && let Err(e) = self.give_after(&key, part).await
        {
            tracing::warn!(error = %e, "given-back stock left to the sweep");
        }
        Ok(())
    }

    /// Gives back what parts applied ahead took (their commit did not happen).
    async fn undo_ahead(&self, parts: &[(Key, StockPart)]) {
        for (key, part) in parts {
            if let Err(e) = self.undo_part(key, part).await {
                tracing::warn!(error = %e, "stock taken ahead left to the sweep");
            }
        }
    }

    async fn undo_part(&self, key: &Key, part: &StockPart) -> Result<(), StoreError> {
        let reversed: Vec<StockDelta> = part.deltas.iter().map(StockDelta::reversed).collect();
        let mut ops = self.deltas_ops(&reversed)?;
        ops.push(self.delete_if(key, "version = :v", Some(part.version))?);
        match self.transact_retrying(&ops).await {
            // Someone else (the commit, or another sweep) dealt with it.
            Err(StoreError::Conflict | StoreError::StaleVersion) if self.get_attrs(key, true).await?.is_none() => {
                Ok(())
            }
            other => other,
        }
    }

    async fn give_after(&self, key: &Key, mut part: StockPart) -> Result<(), StoreError> {
        while part.applied < part.deltas.len() {
            let end = (part.applied + PART).min(part.deltas.len());
            let mut ops = self.deltas_ops(&part.deltas[part.applied..end])?;
            let expected = part.version;
            let mut next = part.clone();
            next.applied = end;
            next.version += 1;
            if end == part.deltas.len() {
                ops.push(self.delete_if(key, "version = :v", Some(expected))?);
            } else {
                let put = self.put_versioned(&part_item(key, &next), expected)?;
                ops.push((put.item, TxRole::Part));
            }
            self.transact_retrying(&ops).await?;
            part = next;
        }
        Ok(())
    }

    /// Finishes changes interrupted between their parts, older than `older_than`: parts taken
    /// ahead of a commit that never happened are given back; given-back parts of a commit that
    /// happened are applied to the end. Returns how many markers were dealt with.
    pub async fn finish_interrupted_parts(&self, older_than: DateTime<Utc>) -> Result<usize, StoreError> {
        let upper = keys::timestamp(&older_than);
        let entries =
            self.query_all_below(keys::GSI1, (keys::GSI1PK, keys::STOCK_PARTS_GSI1PK), (keys::GSI1SK, &upper)).await?;
        let mut done = 0;
        for e in entries {
            let (Some(pk), Some(sk)) =
                (e.get(keys::PK).and_then(|v| v.as_s().ok()), e.get(keys::SK).and_then(|v| v.as_s().ok()))
            else {
                continue;
            };
            let key = Key { pk: pk.clone(), sk: sk.clone() };
            let Some(item) = self.get::<StockPart>(&key, true).await? else { continue };
            let part = item.data;
            let r = match part.kind {
                PartKind::TakenAhead => self.undo_part(&key, &part).await,
                PartKind::GiveAfter => self.give_after(&key, part).await,
            };
            // One part that cannot be finished now does not hold up the others.
            match r {
                Ok(()) => done += 1,
                Err(e) => tracing::warn!(error = %e, part = %key.sk, "interrupted part left for the next sweep"),
            }
        }
        Ok(done)
    }
}
