//! Backorder requests (`BACKORDER#<sku> / REQ#<ulid>`: a partition per SKU, in arrival order) and
//! the SKU's waiting units (`BACKORDER#<sku> / UNITS`, a number moved by the requests' own
//! transactions: the limit is its condition).

use super::super::errors::TxRole;
use super::super::item::{Item, key_attrs, n, s};
use super::super::keys::Key;
use super::super::table::DynamoStore;
use super::super::tx::TxOp;
use super::{ENTITY_BACKORDER, ENTITY_BACKORDER_UNITS};
use crate::domain::Sku;
use crate::domain::backorder::Backorder;
use crate::ports::{BackorderRepository, StoreError};
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

fn request_key(sku: &Sku, id: &str) -> Key {
    Key { pk: format!("BACKORDER#{sku}"), sk: format!("REQ#{id}") }
}

fn units_key(sku: &Sku) -> Key {
    Key { pk: format!("BACKORDER#{sku}"), sk: "UNITS".into() }
}

impl DynamoStore {
    /// The SKU's waiting units moved by `delta`; a rise on condition they stay within `limit`.
    fn units_op(&self, sku: &Sku, delta: i64, limit: Option<u32>) -> Result<TxOp, StoreError> {
        let mut u = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(&units_key(sku))))
            .update_expression("SET #u = if_not_exists(#u, :zero) + :d, entity = :e")
            .expression_attribute_names("#u", "units")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":d", n(delta))
            .expression_attribute_values(":e", s(ENTITY_BACKORDER_UNITS));
        if let Some(l) = limit {
            let room = i64::from(l) - delta;
            if room < 0 {
                return Err(StoreError::BackorderFull(sku.to_string()));
            }
            u = u
                .condition_expression("attribute_not_exists(#u) OR #u <= :room")
                .expression_attribute_values(":room", n(room));
        }
        let update = u.build().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(TxOp { item: TransactWriteItem::builder().update(update).build(), role: TxRole::Backorder(sku.to_string()) })
    }
}

#[async_trait::async_trait]
impl BackorderRepository for DynamoStore {
    async fn add_backorder(&self, b: &Backorder, limit: u32) -> Result<(), StoreError> {
        let item = Item::new(request_key(&b.sku, &b.backorder_id), ENTITY_BACKORDER, b);
        let ops = vec![self.put_new(&item)?, self.units_op(&b.sku, i64::from(b.quantity), Some(limit))?];
        self.transact(ops).await
    }

    async fn backorders(&self, sku: &Sku) -> Result<Vec<Backorder>, StoreError> {
        let items = self.query_all("", "PK", &format!("BACKORDER#{sku}"), Some(("SK", "REQ#")), true).await?;
        Self::all(items)
    }

    async fn get_backorder(&self, sku: &Sku, id: &str) -> Result<Option<Backorder>, StoreError> {
        Ok(self.get::<Backorder>(&request_key(sku, id), true).await?.map(|i| i.data))
    }

    async fn update_backorder(&self, next: &Backorder, expected: u64) -> Result<(), StoreError> {
        let item = Item::new(request_key(&next.sku, &next.backorder_id), ENTITY_BACKORDER, next);
        self.transact(vec![self.put_versioned(&item, expected)?]).await
    }

    async fn settle_backorder(&self, next: &Backorder, expected: u64) -> Result<(), StoreError> {
        let item = Item::new(request_key(&next.sku, &next.backorder_id), ENTITY_BACKORDER, next);
        let ops =
            vec![self.put_versioned(&item, expected)?, self.units_op(&next.sku, -i64::from(next.quantity), None)?];
        self.transact(ops).await
    }

    async fn backordered_units(&self, sku: &Sku) -> Result<u32, StoreError> {
        let a = self.get_attrs(&units_key(sku), true).await?;
        let units = a.and_then(|a| a.get("units").and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok()));
        Ok(units.map_or(0, |u| u32::try_from(u.max(0)).unwrap_or(u32::MAX)))
    }
}
