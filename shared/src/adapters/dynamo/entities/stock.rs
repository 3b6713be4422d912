//! Stock per SKU × location: one partition per SKU, one item per location.

use super::super::item::{Item, n};
use super::super::keys;
use super::super::table::{Condition, DynamoStore};
use super::ENTITY_STOCK;
use crate::adapters::dynamo::errors::mapping;
use crate::domain::{LocationId, Sku, StockDelta, StockLevel, StockMovement, StockRecord};
use crate::ports::{StockRepository, StoreError};
use crate::retry::{Backoff, retry};

pub fn stock_item(r: &StockRecord) -> Item<&StockRecord> {
    Item::new(keys::stock(&r.sku, &r.location_id), ENTITY_STOCK, r)
}

impl DynamoStore {
    async fn set_on_hand_once(
        &self,
        sku: &Sku,
        location: &LocationId,
        on_hand: i64,
    ) -> Result<StockRecord, StoreError> {
        let current = self.get_stock(sku, location).await?;
        let (level, version) = match &current {
            Some(r) => (r.level, r.version),
            None => (StockLevel::default(), 0),
        };
        let level = level
            .set_on_hand(on_hand)
            .map_err(|_| StoreError::StockPrecondition(vec![(sku.clone(), location.clone())]))?;
        let rec = StockRecord { sku: sku.clone(), location_id: location.clone(), level, version: version + 1 };
        let attrs = stock_item(&rec).to_attrs().map_err(mapping)?;
        let condition = if current.is_some() {
            Condition::new("version = :v").value(":v", n(version))
        } else {
            Condition::new("attribute_not_exists(PK)")
        };
        self.put(attrs, condition).await?;
        Ok(rec)
    }
}

#[async_trait::async_trait]
impl StockRepository for DynamoStore {
    async fn get_stock(&self, sku: &Sku, location: &LocationId) -> Result<Option<StockRecord>, StoreError> {
        Ok(self.get::<StockRecord>(&keys::stock(sku, location), true).await?.map(|i| i.data))
    }

    async fn stock_for_sku(&self, sku: &Sku) -> Result<Vec<StockRecord>, StoreError> {
        let pk = keys::stock_pk(sku);
        Self::all(self.query_all("", keys::PK, &pk, Some((keys::SK, keys::STOCK_SK_PREFIX)), false).await?)
    }

    async fn set_on_hand(&self, sku: &Sku, location: &LocationId, on_hand: i64) -> Result<StockRecord, StoreError> {
        let retryable = |e: &StoreError| matches!(e, StoreError::StaleVersion | StoreError::Conflict);
        retry(Backoff::CONTENTION, retryable, || self.set_on_hand_once(sku, location, on_hand)).await.map_err(|e| {
            match e {
                StoreError::StaleVersion => StoreError::Conflict,
                other => other,
            }
        })
    }

    async fn apply_stock_move(&self, m: &StockMovement) -> Result<(), StoreError> {
        retry(Backoff::CONTENTION, StoreError::is_retryable, || async {
            self.transact(vec![self.stock_update(&StockDelta::of(m))?]).await
        })
        .await
    }
}
