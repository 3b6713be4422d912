//! Stock per SKU × location: one partition per SKU with one base item per location, and for a
//! hot SKU shard items on partitions of their own (`keys::stock_shard`).

use super::super::errors::sdk;
use super::super::item::{Item, key_attrs, n, s};
use super::super::keys;
use super::super::table::DynamoStore;
use super::super::tx::TxOp;
use super::ENTITY_STOCK;
use crate::domain::inventory::{StockCount, plan};
use crate::domain::stock::{rebalanced, total};
use crate::domain::{LocationId, Sku, StockDelta, StockMovement, StockRecord};
use crate::ports::{Counted, StockRepository, StoreError};
use crate::retry::{Backoff, retry};

/// Up to this many locations, a catalog's stock is read by key (`stock_for_skus`).
const MAX_LOCATIONS_BY_KEY: usize = 24;

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
        count: Option<&StockCount>,
    ) -> Result<Counted, StoreError> {
        let current = self.shards_of(sku, location).await?;
        let refused = || StoreError::StockPrecondition(vec![(sku.clone(), location.clone())]);
        let (on_hand, control) = match count {
            None => (on_hand, None),
            Some(c) => match plan(total(&current).as_ref(), c).map_err(|_| refused())? {
                // An older count than the last applied: nothing changes.
                None => {
                    let record = total(&current)
                        .unwrap_or_else(|| StockRecord::new(sku.clone(), location.clone(), Default::default()));
                    return Ok(Counted { record, applied: false });
                }
                Some((n, ctl)) => (Some(n), Some(ctl)),
            },
        };
        let mut writes = rebalanced(sku, location, &current, on_hand, shards).map_err(|_| refused())?;
        if let Some(base) = writes.iter_mut().find(|w| w.shard == 0).and_then(|w| w.record.as_mut())
            && control.is_some()
        {
            base.control = control;
        }
        let mut ops = Vec::new();
        for w in &writes {
            ops.push(match (&w.record, w.read_version) {
                (Some(rec), Some(v)) => self.put_versioned(&stock_item(rec), v)?,
                (Some(rec), None) => self.put_new(&stock_item(rec))?,
                (None, v) => {
                    let key = keys::stock_shard(sku, location, w.shard);
                    let (item, role) = self.delete_if(&key, "version = :v", Some(v.unwrap_or(0)))?;
                    TxOp { item, role }
                }
            });
        }
        self.transact(ops).await?;
        let written: Vec<StockRecord> = writes.into_iter().filter_map(|w| w.record).collect();
        let record = total(&written).ok_or(StoreError::Mapping("no base shard".into()))?;
        Ok(Counted { record, applied: true })
    }

    async fn rebalance_stock(
        &self,
        sku: &Sku,
        location: &LocationId,
        on_hand: Option<i64>,
        shards: Option<u16>,
        count: Option<&StockCount>,
    ) -> Result<Counted, StoreError> {
        let retryable =
            |e: &StoreError| matches!(e, StoreError::StaleVersion | StoreError::AlreadyExists | StoreError::Conflict);
        retry(Backoff::CONTENTION, retryable, || self.rebalance_once(sku, location, on_hand, shards, count))
            .await
            .map_err(|e| match e {
                StoreError::StaleVersion | StoreError::AlreadyExists => StoreError::Conflict,
                other => other,
            })
    }
}

#[async_trait::async_trait]
impl StockRepository for DynamoStore {
    async fn get_stock(&self, sku: &Sku, location: &LocationId) -> Result<Option<StockRecord>, StoreError> {
        let shards = self.shards_of(sku, location).await?;
        Ok(total(&shards))
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

    async fn stock_for_skus(&self, skus: &[Sku], locations: &[LocationId]) -> Result<Vec<StockRecord>, StoreError> {
        use futures::{StreamExt, TryStreamExt};
        // A query per SKU, or every (SKU, location) base item by key, 100 a request: keys win
        // while the shop has fewer locations than a batch holds, many times over.
        let batches: Vec<Vec<StockRecord>> = if locations.len() <= MAX_LOCATIONS_BY_KEY {
            let keys: Vec<_> =
                skus.iter().flat_map(|s| locations.iter().map(move |l| key_attrs(&keys::stock(s, l)))).collect();
            let reads: Vec<_> = keys
                .chunks(100)
                .map(|chunk| {
                    let chunk = chunk.to_vec();
                    async move { Self::all::<StockRecord>(self.batch_get(chunk).await?) }
                })
                .collect();
            futures::stream::iter(reads).buffer_unordered(8).try_collect().await?
        } else {
            let reads: Vec<_> = skus.iter().map(|s| self.stock_for_sku(s)).collect();
            futures::stream::iter(reads).buffer_unordered(64).try_collect().await?
        };
        let mut out: Vec<StockRecord> =
            batches.into_iter().flatten().filter(|r| locations.contains(&r.location_id)).collect();
        // The shards of hot SKUs read by key when the base items came that way.
        if locations.len() <= MAX_LOCATIONS_BY_KEY {
            let shard_keys: Vec<_> = out
                .iter()
                .filter(|b| b.shard == 0)
                .flat_map(|b| (1..b.shards).map(|k| key_attrs(&keys::stock_shard(&b.sku, &b.location_id, k))))
                .collect();
            if !shard_keys.is_empty() {
                out.extend(Self::all::<StockRecord>(self.batch_get(shard_keys).await?)?);
            }
        }
        Ok(out)
    }

    async fn set_on_hand(&self, sku: &Sku, location: &LocationId, on_hand: i64) -> Result<StockRecord, StoreError> {
        Ok(self.rebalance_stock(sku, location, Some(on_hand), None, None).await?.record)
    }

    async fn set_shards(&self, sku: &Sku, location: &LocationId, shards: u16) -> Result<StockRecord, StoreError> {
        Ok(self.rebalance_stock(sku, location, None, Some(shards), None).await?.record)
    }

    async fn count_stock(&self, sku: &Sku, location: &LocationId, count: &StockCount) -> Result<Counted, StoreError> {
        self.rebalance_stock(sku, location, None, None, Some(count)).await
    }

    async fn mark_low(
        &self,
        sku: &Sku,
        location: &LocationId,
        low: Option<(u64, chrono::DateTime<chrono::Utc>)>,
    ) -> Result<bool, StoreError> {
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(&keys::stock(sku, location))))
            .expression_attribute_names("#c", "control")
            .expression_attribute_values(":one", n(1));
        let req = match low {
            Some((crossings, at)) => req
                .update_expression("SET #c.lowSince = :at, #c.lowCrossings = :n, version = version + :one")
                .condition_expression("attribute_exists(#c) AND attribute_not_exists(#c.lowSince)")
                .expression_attribute_values(":at", s(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)))
                .expression_attribute_values(":n", n(crossings)),
            None => req
                .update_expression("REMOVE #c.lowSince SET version = version + :one")
                .condition_expression("attribute_exists(#c.lowSince)"),
        };
        match req.send().await.map_err(sdk) {
            Ok(_) => Ok(true),
            Err(StoreError::StaleVersion) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn apply_stock_move(&self, m: &StockMovement) -> Result<(), StoreError> {
        retry(Backoff::CONTENTION, StoreError::is_retryable, || async {
            self.transact(vec![self.stock_update(&StockDelta::of(m))?]).await
        })
        .await
    }
}
