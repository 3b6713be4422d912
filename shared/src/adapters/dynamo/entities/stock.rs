//! Stock per SKU × location: one partition per SKU with one base item per location, and for a
//! hot SKU shard items on partitions of their own (`keys::stock_shard`).

use super::super::item::{Item, key_attrs, n};
use super::super::keys;
use super::super::table::DynamoStore;
use super::super::tx::TxOp;
use super::ENTITY_STOCK;
use crate::adapters::dynamo::errors::TxRole;
use crate::domain::stock::{rebalance, summed};
use crate::domain::{LocationId, Sku, StockDelta, StockMovement, StockRecord};
use crate::ports::{StockRepository, StoreError};
use crate::retry::{Backoff, retry};
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};

pub fn stock_item(r: &StockRecord) -> Item<&StockRecord> {
    Item::new(keys::stock_shard(&r.sku, &r.location_id, r.shard), ENTITY_STOCK, r)
}

impl DynamoStore {
    /// Every shard item of a SKU at a location, read consistently.
    async fn shards_of(&self, sku: &Sku, location: &LocationId) -> Result<Vec<StockRecord>, StoreError> {
        let Some(base) = self.get::<StockRecord>(&keys::stock(sku, location), true).await?.map(|i| i.data) else {
            return Ok(Vec::new());
        };
        let others = futures::future::try_join_all(
            (1..base.shards)
                .map(|k| async move { self.get::<StockRecord>(&keys::stock_shard(sku, location, k), true).await }),
        )
        .await?;
        let mut all = vec![base];
        all.extend(others.into_iter().flatten().map(|i| i.data));
        Ok(all)
    }

    async fn rebalance_once(
        &self,
        sku: &Sku,
        location: &LocationId,
        on_hand: Option<i64>,
        shards: Option<u16>,
    ) -> Result<StockRecord, StoreError> {
        let current = self.shards_of(sku, location).await?;
        let next = rebalance(&current, on_hand, shards)
            .map_err(|_| StoreError::StockPrecondition(vec![(sku.clone(), location.clone())]))?;
        let count = u16::try_from(next.iter().filter(|(_, l)| l.is_some()).count()).unwrap_or(1);
        let mut ops = Vec::new();
        let mut written = Vec::new();
        for (k, level) in next {
            let now = current.iter().find(|r| r.shard == k);
            match level {
                Some(level) => {
                    let mut rec = StockRecord::new(sku.clone(), location.clone(), level);
                    rec.shard = k;
                    rec.shards = if k == 0 { count } else { 1 };
                    rec.version = now.map(|r| r.version).unwrap_or(0) + 1;
                    ops.push(match now {
                        Some(r) => self.put_versioned(&stock_item(&rec), r.version)?,
                        None => self.put_new(&stock_item(&rec))?,
                    });
                    written.push(rec);
                }
                None => {
                    let version = now.map(|r| r.version).unwrap_or(0);
                    let d = Delete::builder()
                        .table_name(self.table())
                        .set_key(Some(key_attrs(&keys::stock_shard(sku, location, k))))
                        .condition_expression("version = :v")
                        .expression_attribute_values(":v", n(version))
                        .build()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    ops.push(TxOp { item: TransactWriteItem::builder().delete(d).build(), role: TxRole::Versioned });
                }
            }
        }
        self.transact(ops).await?;
        let base = written.iter().find(|r| r.shard == 0).cloned().ok_or(StoreError::Mapping("no base shard".into()))?;
        Ok(StockRecord { level: summed(&written), ..base })
    }

    async fn rebalance_stock(
        &self,
        sku: &Sku,
        location: &LocationId,
        on_hand: Option<i64>,
        shards: Option<u16>,
    ) -> Result<StockRecord, StoreError> {
        let retryable =
            |e: &StoreError| matches!(e, StoreError::StaleVersion | StoreError::AlreadyExists | StoreError::Conflict);
        retry(Backoff::CONTENTION, retryable, || self.rebalance_once(sku, location, on_hand, shards)).await.map_err(
            |e| match e {
                StoreError::StaleVersion | StoreError::AlreadyExists => StoreError::Conflict,
                other => other,
            },
        )
    }
}

#[async_trait::async_trait]
impl StockRepository for DynamoStore {
    async fn get_stock(&self, sku: &Sku, location: &LocationId) -> Result<Option<StockRecord>, StoreError> {
        let shards = self.shards_of(sku, location).await?;
        Ok(shards.first().cloned().map(|base| StockRecord { level: summed(&shards), ..base }))
    }

    async fn stock_for_sku(&self, sku: &Sku) -> Result<Vec<StockRecord>, StoreError> {
        let pk = keys::stock_pk(sku);
        let base: Vec<StockRecord> =
            Self::all(self.query_all("", keys::PK, &pk, Some((keys::SK, keys::STOCK_SK_PREFIX)), false).await?)?;
        let shard_keys: Vec<_> = base
            .iter()
            .flat_map(|b| (1..b.shards).map(|k| key_attrs(&keys::stock_shard(&b.sku, &b.location_id, k))))
            .collect();
        let mut all = base;
        if !shard_keys.is_empty() {
            all.extend(Self::all::<StockRecord>(self.batch_get(shard_keys).await?)?);
        }
        Ok(all)
    }

    async fn set_on_hand(&self, sku: &Sku, location: &LocationId, on_hand: i64) -> Result<StockRecord, StoreError> {
        self.rebalance_stock(sku, location, Some(on_hand), None).await
    }

    async fn set_shards(&self, sku: &Sku, location: &LocationId, shards: u16) -> Result<StockRecord, StoreError> {
        self.rebalance_stock(sku, location, None, Some(shards)).await
    }

    async fn apply_stock_move(&self, m: &StockMovement) -> Result<(), StoreError> {
        retry(Backoff::CONTENTION, StoreError::is_retryable, || async {
            self.transact(vec![self.stock_update(&StockDelta::of(m))?]).await
        })
        .await
    }
}
