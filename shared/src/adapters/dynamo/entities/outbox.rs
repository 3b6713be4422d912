//! Outbox entries: written inside a change's transaction, listed through a sparse GSI2
//! partition per shard while pending, deleted once dispatched.

use super::super::item::{Attrs, Item};
use super::super::keys;
use super::super::table::DynamoStore;
use super::ENTITY_OUTBOX;
use crate::domain::{OrderId, OutboxEntry};
use crate::ports::{Outbox, StoreError};

pub fn outbox_item(e: &OutboxEntry) -> Item<&OutboxEntry> {
    Item::new(keys::outbox(&e.order_id, &e.id), ENTITY_OUTBOX, e)
        .gsi2(keys::outbox_gsi2pk(&e.order_id), format!("{}#{}", keys::timestamp(&e.created_at), e.id))
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
        Self::all(self.hydrate(entries).await?)
    }

    async fn get_outbox_entry(&self, order: &OrderId, id: &str) -> Result<Option<OutboxEntry>, StoreError> {
        Ok(self.get::<OutboxEntry>(&keys::outbox(order, id), true).await?.map(|i| i.data))
    }

    async fn complete_effects(&self, order: &OrderId, id: &str) -> Result<(), StoreError> {
        self.delete(&keys::outbox(order, id)).await
    }
}
