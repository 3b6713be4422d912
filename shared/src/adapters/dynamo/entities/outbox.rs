//! Outbox entries: the effects a change recorded in its change record (written inside the
//! change's transaction). The stream delivers the record; a record whose dispatch failed is
//! put in a sparse GSI2 partition per shard (deferred), and leaves it once the drain dispatched
//! it. The record stays as the order's timeline. Outbox items written before change records
//! (`OUTBOX#<id>`, in the index from the start, deleted when dispatched) are still read and
//! completed.

use super::super::errors::sdk;
use super::super::item::{Attrs, Item, from_attrs, key_attrs, n, s};
use super::super::keys;
use super::super::table::{DynamoStore, entity_of, table_key};
use super::records::ChangeRecord;
use super::{ENTITY_OUTBOX, ENTITY_TIMELINE};
use crate::adapters::dynamo::errors::mapping;
use crate::domain::{Deferral, OrderId, OutboxEntry};
use crate::ports::{Outbox, Settlement, StoreError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

pub fn outbox_item(e: &OutboxEntry) -> Item<&OutboxEntry> {
    Item::new(keys::outbox(&e.order_id, &e.id), ENTITY_OUTBOX, e)
        .gsi2(keys::outbox_gsi2pk(&e.order_id), format!("{}#{}", keys::timestamp(&e.created_at), e.id))
}

/// What the deferral attributes of a record in the outbox index say (`None`: not in it).
fn deferral_of(a: &Attrs) -> Option<Deferral> {
    let pk = a.get(keys::GSI2PK)?.as_s().ok()?;
    let num = |k: &str| a.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<u64>().ok());
    let time = |k: &str| {
        let t = a.get(k).and_then(|v| v.as_s().ok()).and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        t.map(|t| t.with_timezone(&Utc))
    };
    Some(Deferral {
        effects_from: num(PENDING_FROM).unwrap_or(0) as usize,
        events: a.get(PENDING_EVENTS).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
        attempts: num(ATTEMPTS).unwrap_or(0) as u32,
        retry_at: time(RETRY_AT),
        rev: num(REV).unwrap_or(0),
        parked: pk.starts_with(keys::OUTBOX_PARKED_PREFIX),
        redriven_at: time(REDRIVEN_AT),
    })
}

/// The entry an item holds: a change record with effects or integration events, or an outbox
/// item of before.
fn entry_of(a: Attrs) -> Result<Option<OutboxEntry>, StoreError> {
    match entity_of(&a) {
        ENTITY_OUTBOX => {
            let deferral = deferral_of(&a);
            let mut e = from_attrs::<OutboxEntry>(a).map_err(mapping)?.data;
            e.deferral = deferral;
            Ok(Some(e))
        }
        ENTITY_TIMELINE => {
            let key = table_key(&a).ok_or(StoreError::Mapping("record without key".into()))?;
            let (order_id, id) =
                keys::parse_outbox(&key.pk, &key.sk).ok_or(StoreError::Mapping("record key".into()))?;
            let deferral = deferral_of(&a);
            let r = from_attrs::<ChangeRecord>(a).map_err(mapping)?.data;
            let events: Vec<String> = r.events.split_whitespace().map(str::to_owned).collect();
            Ok((!r.effects.is_empty() || !events.is_empty()).then_some(OutboxEntry {
                order_id,
                id,
                effects: r.effects,
                created_at: r.created_at,
                events,
                sequence: r.sequence,
                deferral,
            }))
        }
        _ => Ok(None),
    }
}

/// The outbox entry a stream record's new image carries (DynamoDB JSON, as Lambda hands it), so
/// the dispatcher need not read the record again; `None` when the image holds none.
pub fn entry_from_image(image: &serde_json::Value) -> Option<OutboxEntry> {
    let item: serde_dynamo::Item = serde_json::from_value(image.clone()).ok()?;
    let attrs: Attrs = item.into_inner().into_iter().map(|(k, v)| (k, v.into())).collect();
    entry_of(attrs).ok().flatten()
}

/// The entry of change record `id` of `order` from the record's stream image, when the image
/// holds it and is that record's (the effects function and the local stream reader alike).
pub fn announced_entry(order: &OrderId, id: &str, image: &serde_json::Value) -> Option<OutboxEntry> {
    entry_from_image(image).filter(|e| e.order_id == *order && e.id == id)
}

/// A deferred record's attributes: the first effect left, whether its events wait, the drain's
/// failed runs and when it tries again, and the deferral revision the drain's write checks.
const PENDING_FROM: &str = "pendingFrom";
const PENDING_EVENTS: &str = "pendingEvents";
const ATTEMPTS: &str = "attempts";
const RETRY_AT: &str = "retryAt";
const REV: &str = "rev";
const REDRIVEN_AT: &str = "redrivenAt";

fn condition_failed(e: &aws_sdk_dynamodb::error::SdkError<UpdateItemError>) -> bool {
    matches!(e.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_)))
}

impl DynamoStore {
    /// A deferral write to record `id` of `order` (it moves the revision: `:one` is bound); a
    /// failed condition is `NotFound`.
    async fn write_deferral(
        &self,
        order: &OrderId,
        id: &str,
        f: impl FnOnce(UpdateItemFluentBuilder) -> UpdateItemFluentBuilder,
    ) -> Result<(), StoreError> {
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(&keys::outbox(order, id))))
            .expression_attribute_values(":pk", s(keys::outbox_gsi2pk(order)))
            .expression_attribute_values(":one", n(1));
        match f(req).send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(StoreError::NotFound),
            Err(e) => Err(sdk(e)),
        }
    }

    /// The index keys of one of the sparse partitions (pending or parked), oldest first.
    async fn deferred_keys(&self, parked: bool) -> Result<Vec<Attrs>, StoreError> {
        let mut entries: Vec<Attrs> = Vec::new();
        for shard in 0..keys::STATUS_SHARDS {
            let pk = if parked {
                format!("{}{shard}", keys::OUTBOX_PARKED_PREFIX)
            } else {
                keys::outbox_gsi2pk_shard(shard)
            };
            entries.extend(self.query_all(keys::GSI2, keys::GSI2PK, &pk, None, false).await?);
        }
        let sk = |a: &Attrs| a.get(keys::GSI2SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        entries.sort_by_key(sk);
        Ok(entries)
    }

    /// Deferred entries of a partition, oldest first, read consistently 100 at a time until
    /// `limit` of them are due at `now` (parked: all count), with the ones not due among them,
    /// reading at most `READ_CAP` times `limit`.
    async fn deferred_in(
        &self,
        parked: bool,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        const READ_CAP: usize = 10;
        let keys_listed = self.deferred_keys(parked).await?;
        let (mut out, mut due) = (Vec::new(), 0);
        for (read, chunk) in keys_listed.chunks(100).enumerate() {
            if due >= limit || read * 100 >= READ_CAP * limit {
                break;
            }
            for a in self.hydrate_with(chunk.to_vec(), true).await? {
                // The keys-only index is read eventually: a record completed (or parked, or
                // taken back) since it was listed is not where it was, and is left out.
                let here = a
                    .get(keys::GSI2PK)
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|pk| pk.starts_with(keys::OUTBOX_PARKED_PREFIX) == parked);
                if !here || due >= limit {
                    continue;
                }
                // One this version cannot read (an effect of a newer release) waits for one that
                // can; it does not stop the others.
                match entry_of(a) {
                    Ok(Some(e)) => {
                        if parked || e.left().retry_at.is_none_or(|t| t <= now) {
                            due += 1;
                        }
                        out.push(e);
                    }
                    Ok(None) => {}
                    Err(err) => tracing::warn!(error = %err, "a pending entry this version cannot read: left pending"),
                }
            }
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl Outbox for DynamoStore {
    async fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.deferred_in(false, limit, Utc::now()).await
    }

    async fn parked_effects(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.deferred_in(true, limit, Utc::now()).await
    }

    async fn parked_count(&self) -> Result<usize, StoreError> {
        Ok(self.deferred_keys(true).await?.len())
    }

    async fn get_outbox_entry(&self, order: &OrderId, id: &str) -> Result<Option<OutboxEntry>, StoreError> {
        match self.get_attrs(&keys::outbox(order, id), true).await? {
            Some(a) => entry_of(a),
            None => Ok(None),
        }
    }

    async fn effects_of_order(&self, order: &OrderId) -> Result<Vec<OutboxEntry>, StoreError> {
        let pk = keys::order_pk(order);
        let items = self.query_all("", keys::PK, &pk, Some((keys::SK, keys::EVENT_SK_PREFIX)), true).await?;
        let mut out = Vec::new();
        for a in items {
            out.extend(entry_of(a)?);
        }
        Ok(out)
    }

    async fn defer_effects(&self, order: &OrderId, id: &str, from: usize) -> Result<(), StoreError> {
        if !id.contains('#') {
            // An outbox item of before is in the index from its first write.
            return Ok(());
        }
        // Nothing known to have run (0): what an earlier deferral or drain recorded stands. An
        // effect further on than what is recorded moves it there, never back (a redelivered
        // record failing earlier than the drain got must not have it run effects again).
        let defer = |from_expr: String, only_forward: bool| {
            self.write_deferral(order, id, move |r| {
                let r = r
                    .update_expression(format!(
                        "SET GSI2PK = :pk, GSI2SK = :sk, {PENDING_FROM} = {from_expr}, \
                         {ATTEMPTS} = if_not_exists({ATTEMPTS}, :zero) ADD {REV} :one"
                    ))
                    .expression_attribute_values(":sk", s(id))
                    .expression_attribute_values(":zero", n(0));
                if only_forward {
                    r.condition_expression(format!(
                        "attribute_exists(PK) AND (attribute_not_exists({PENDING_FROM}) OR {PENDING_FROM} <= :from)"
                    ))
                    .expression_attribute_values(":from", n(from))
                } else {
                    r.condition_expression("attribute_exists(PK)").expression_attribute_values(":from", n(from))
                }
            })
        };
        if from > 0 {
            match defer(":from".into(), true).await {
                Err(StoreError::NotFound) => {}
                other => return other,
            }
        }
        defer(format!("if_not_exists({PENDING_FROM}, :from)"), false).await
    }

    async fn redrive_effects(&self, order: &OrderId, id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write_deferral(order, id, |r| {
            r.update_expression(format!(
                "SET GSI2PK = :pk, {ATTEMPTS} = :zero, {REDRIVEN_AT} = :now REMOVE {RETRY_AT} ADD {REV} :one"
            ))
            .condition_expression("begins_with(GSI2PK, :parked)")
            .expression_attribute_values(":parked", s(keys::OUTBOX_PARKED_PREFIX))
            .expression_attribute_values(":now", s(keys::timestamp(&now)))
            .expression_attribute_values(":zero", n(0))
        })
        .await
    }

    async fn defer_events(&self, order: &OrderId, id: &str, effects: usize) -> Result<(), StoreError> {
        if !id.contains('#') {
            return Ok(());
        }
        self.write_deferral(order, id, |r| {
            r.update_expression(format!(
                "SET GSI2PK = :pk, GSI2SK = :sk, {PENDING_EVENTS} = :yes, \
                 {PENDING_FROM} = if_not_exists({PENDING_FROM}, :from) ADD {REV} :one"
            ))
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":sk", s(id))
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":from", n(effects))
        })
        .await
    }

    async fn settle_effects(&self, entry: &OutboxEntry, left: &Settlement) -> Result<bool, StoreError> {
        let key = keys::outbox(&entry.order_id, &entry.id);
        let done = !left.leaves_work(entry);
        if done && !entry.id.contains('#') {
            // An outbox item of before is deleted once all ran (it is no timeline).
            return self.delete(&key).await.map(|()| true);
        }
        let rev = entry.deferral.as_ref().map_or(0, |d| d.rev);
        let mut req = self.client.update_item().table_name(&self.table).set_key(Some(key_attrs(&key)));
        req = if rev == 0 {
            req.condition_expression(format!("attribute_exists(GSI2PK) AND attribute_not_exists({REV})"))
        } else {
            req.condition_expression(format!("attribute_exists(GSI2PK) AND {REV} = :rev"))
                .expression_attribute_values(":rev", n(rev))
        };
        // Every write to the deferral moves `rev`: erasure's rewrite and the next settle check it.
        req = req.expression_attribute_values(":one", n(1));
        req = if done {
            // The record stays (it is the order's timeline); it leaves the outbox index.
            req.update_expression(format!(
                "REMOVE GSI2PK, GSI2SK, {PENDING_FROM}, {PENDING_EVENTS}, {ATTEMPTS}, {RETRY_AT}, {REDRIVEN_AT} ADD {REV} :one"
            ))
        } else {
            let pk = if left.parked {
                keys::outbox_parked_gsi2pk(&entry.order_id)
            } else {
                keys::outbox_gsi2pk(&entry.order_id)
            };
            let retry = match left.retry_at {
                Some(t) => {
                    req = req.expression_attribute_values(":at", s(keys::timestamp(&t)));
                    format!(", {RETRY_AT} = :at")
                }
                None => String::new(),
            };
            let remove = if left.retry_at.is_none() { format!(" REMOVE {RETRY_AT}") } else { String::new() };
            req.update_expression(format!(
                "SET GSI2PK = :pk, {PENDING_FROM} = :from, {PENDING_EVENTS} = :events, {ATTEMPTS} = :attempts{retry}{remove} ADD {REV} :one"
            ))
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":from", n(left.effects_from))
            .expression_attribute_values(":events", AttributeValue::Bool(left.events))
            .expression_attribute_values(":attempts", n(left.attempts))
        };
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk(e)),
        }
    }
}
