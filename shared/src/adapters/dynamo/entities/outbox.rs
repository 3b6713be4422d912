//! Outbox entries: the effects a change recorded in its change record (written inside the
//! change's transaction). The stream delivers the record; a record whose dispatch failed is
//! put in a sparse GSI2 partition per shard (deferred), and leaves it once the drain dispatched
//! it. The record stays as the order's timeline. Outbox items written before change records
//! (`OUTBOX#<id>`, in the index from the start, deleted when dispatched) are still read and
//! completed.

use super::super::errors::sdk;
use super::super::item::{Attrs, Item, from_attrs, key_attrs, s};
use super::super::keys;
use super::super::table::{DynamoStore, entity_of, table_key};
use super::records::ChangeRecord;
use super::{ENTITY_OUTBOX, ENTITY_TIMELINE};
use crate::adapters::dynamo::errors::mapping;
use crate::domain::{OrderId, OutboxEntry};
use crate::ports::{Outbox, StoreError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

pub fn outbox_item(e: &OutboxEntry) -> Item<&OutboxEntry> {
    Item::new(keys::outbox(&e.order_id, &e.id), ENTITY_OUTBOX, e)
        .gsi2(keys::outbox_gsi2pk(&e.order_id), format!("{}#{}", keys::timestamp(&e.created_at), e.id))
}

/// The entry an item holds: a change record with effects, or an outbox item of before.
fn entry_of(a: Attrs) -> Result<Option<OutboxEntry>, StoreError> {
    match entity_of(&a) {
        ENTITY_OUTBOX => Ok(Some(from_attrs::<OutboxEntry>(a).map_err(mapping)?.data)),
        ENTITY_TIMELINE => {
            let key = table_key(&a).ok_or(StoreError::Mapping("record without key".into()))?;
            let (order_id, id) =
                keys::parse_outbox(&key.pk, &key.sk).ok_or(StoreError::Mapping("record key".into()))?;
            let r = from_attrs::<ChangeRecord>(a).map_err(mapping)?.data;
            Ok((!r.effects.is_empty()).then_some(OutboxEntry {
                order_id,
                id,
                effects: r.effects,
                created_at: r.created_at,
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

#[async_trait::async_trait]
impl Outbox for DynamoStore {
    async fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut entries: Vec<Attrs> = Vec::new();
        for shard in 0..keys::STATUS_SHARDS {
            let pk = keys::outbox_gsi2pk_shard(shard);
            entries.extend(self.query_all(keys::GSI2, keys::GSI2PK, &pk, None, false).await?);
        }
        let sk = |a: &Attrs| a.get(keys::GSI2SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        entries.sort_by_key(sk);
        entries.truncate(limit);
        let mut out = Vec::new();
        for a in self.hydrate(entries).await? {
            // The keys-only index is read eventually: a record completed since it was listed
            // has lost its index keys by now and is not run again.
            if !a.contains_key(keys::GSI2PK) {
                continue;
            }
            // One this version cannot read (an effect of a newer release) waits for one that
            // can; it does not stop the others.
            match entry_of(a) {
                Ok(e) => out.extend(e),
                Err(err) => tracing::warn!(error = %err, "a pending entry this version cannot read: left pending"),
            }
        }
        Ok(out)
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

    async fn defer_effects(&self, order: &OrderId, id: &str) -> Result<(), StoreError> {
        if !id.contains('#') {
            // An outbox item of before is in the index from its first write.
            return Ok(());
        }
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(&keys::outbox(order, id))))
            .update_expression("SET GSI2PK = :pk, GSI2SK = :sk")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":pk", s(keys::outbox_gsi2pk(order)))
            .expression_attribute_values(":sk", s(id))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
                Err(StoreError::NotFound)
            }
            Err(e) => Err(sdk(e)),
        }
    }

    async fn complete_effects(&self, order: &OrderId, id: &str) -> Result<(), StoreError> {
        let key = keys::outbox(order, id);
        if !id.contains('#') {
            return self.delete(&key).await;
        }
        // The record stays (it is the order's timeline); it leaves the outbox index.
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(&key)))
            .update_expression("REMOVE GSI2PK, GSI2SK")
            .condition_expression("attribute_exists(GSI2PK)")
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
                Ok(())
            }
            Err(e) => Err(sdk(e)),
        }
    }
}
