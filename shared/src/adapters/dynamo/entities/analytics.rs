//! Analytics: an order's fact (`ANALYTICS#ORDER#<id>` / `FACT`, versioned by the order's
//! version), counter rows per day and shard (`ANALYTICS#DAY#<day>#<shard>` / row key, numbers
//! added with `ADD`). The facts of a batch of orders and the rows they add commit in one
//! transaction, so rows the orders share are written once.

use super::super::errors::{TxRole, mapping};
use super::super::item::{Attrs, Item, key_attrs, n, s};
use super::super::keys;
use super::super::table::{Condition, DynamoStore};
use super::super::tx::TxOp;
use crate::domain::OrderId;
use crate::domain::analytics::{Counters, OrderFact, RowKey, SHARDS};
use crate::ports::{AnalyticsRepository, FactCommit, MAX_FACT_COMMIT_ITEMS, StoreError};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::NaiveDate;
use futures::{StreamExt, TryStreamExt};
use std::collections::BTreeMap;

pub const ENTITY_FACT: &str = "analytics_fact";
pub const ENTITY_ROW: &str = "analytics_row";

fn days(from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, u8)> {
    from.iter_days().take_while(|d| *d <= to).flat_map(|d| (0..SHARDS).map(move |s| (d, s))).collect()
}

/// A versioned put: the stored `version` is `expected`, or there is none when `None`.
fn versioned(store: &DynamoStore, attrs: Attrs, expected: Option<u64>) -> Result<TxOp, StoreError> {
    match expected {
        Some(v) => store.put_attrs_op(attrs, Some(("version", v)), TxRole::Versioned),
        None => store.put_attrs_op(attrs, Some(("attribute_not_exists(PK)", 0)), TxRole::Versioned),
    }
}

fn row_update(store: &DynamoStore, k: &RowKey, counters: &Counters) -> Result<TxOp, StoreError> {
    let mut u = Update::builder()
        .table_name(store.table())
        .set_key(Some(key_attrs(&keys::analytics_row(k.day, k.shard, &k.row))))
        .expression_attribute_names("#entity", "entity")
        .expression_attribute_values(":entity", s(ENTITY_ROW));
    let mut adds = Vec::new();
    for (i, (name, v)) in counters.iter().enumerate() {
        u = u.expression_attribute_names(format!("#c{i}"), name).expression_attribute_values(format!(":c{i}"), n(v));
        adds.push(format!("#c{i} :c{i}"));
    }
    let u = u.update_expression(format!("SET #entity = :entity ADD {}", adds.join(", ")));
    let u = u.build().map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(TxOp { item: TransactWriteItem::builder().update(u).build(), role: TxRole::Other })
}

fn counters_of(a: &Attrs) -> Counters {
    a.iter()
        .filter_map(|(k, v)| match v {
            AttributeValue::N(x) => x.parse::<i64>().ok().map(|x| (k.clone(), x)),
            _ => None,
        })
        .filter(|(_, v)| *v != 0)
        .collect()
}

#[async_trait::async_trait]
impl AnalyticsRepository for DynamoStore {
    async fn order_fact(&self, order: &OrderId) -> Result<Option<OrderFact>, StoreError> {
        Ok(self.get::<OrderFact>(&keys::analytics_fact(order), true).await?.map(|i| i.data))
    }

    async fn commit_facts(
        &self,
        facts: &[FactCommit<'_>],
        rows: &BTreeMap<RowKey, Counters>,
    ) -> Result<(), StoreError> {
        if facts.len() + rows.len() > MAX_FACT_COMMIT_ITEMS {
            return Err(StoreError::TooLarge(facts.len() + rows.len()));
        }
        let mut ops = Vec::with_capacity(facts.len() + rows.len());
        for c in facts {
            let fact =
                Item::new(keys::analytics_fact(&c.next.order_id), ENTITY_FACT, c.next).to_attrs().map_err(mapping)?;
            ops.push(versioned(self, fact, c.previous.map(|f| f.version))?);
        }
        for (k, counters) in rows {
            ops.push(row_update(self, k, counters)?);
        }
        self.transact(ops).await.map_err(|e| match e {
            StoreError::AlreadyExists => StoreError::StaleVersion,
            e => e,
        })
    }

    async fn rows(&self, from: NaiveDate, to: NaiveDate) -> Result<BTreeMap<RowKey, Counters>, StoreError> {
        let parts: Vec<Vec<(RowKey, Counters)>> = futures::stream::iter(days(from, to))
            .map(|(day, shard)| async move {
                let items = self.query_all("", keys::PK, &keys::analytics_day_pk(day, shard), None, false).await?;
                Ok::<_, StoreError>(
                    items
                        .iter()
                        .filter_map(|a| {
                            let row = a.get(keys::SK)?.as_s().ok()?.clone();
                            Some((RowKey { day, shard, row }, counters_of(a)))
                        })
                        .collect(),
                )
            })
            .buffer_unordered(64)
            .try_collect()
            .await?;
        Ok(parts.into_iter().flatten().collect())
    }

    async fn clear_rows(&self, from: NaiveDate, to: NaiveDate) -> Result<usize, StoreError> {
        let rows = self.rows(from, to).await?;
        let n = rows.len();
        futures::stream::iter(rows.into_keys())
            .map(|k| async move { self.delete(&keys::analytics_row(k.day, k.shard, &k.row)).await })
            .buffer_unordered(16)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(n)
    }

    async fn claim_rebuild(&self, owner: &str, until: i64) -> Result<(), StoreError> {
        let key = keys::analytics_rebuild();
        let mut attrs = key_attrs(&key);
        attrs.insert("entity".into(), s("analytics_rebuild"));
        attrs.insert("owner".into(), s(owner));
        attrs.insert("until".into(), n(until));
        attrs.insert(keys::TTL.into(), n(until + 3600));
        let condition = Condition::new("attribute_not_exists(PK) OR #until < :now")
            .name("#until", "until")
            .value(":now", n(self.clock.now().timestamp()));
        self.put(attrs, condition).await.map_err(|e| match e {
            StoreError::StaleVersion => StoreError::AlreadyExists,
            e => e,
        })
    }

    async fn release_rebuild(&self, owner: &str) -> Result<(), StoreError> {
        let res = self
            .client
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_attrs(&keys::analytics_rebuild())))
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(super::super::errors::sdk(e)),
        }
    }

    async fn cover_mark(
        &self,
        sku: &crate::domain::Sku,
    ) -> Result<Option<crate::domain::forecast::CoverMark>, StoreError> {
        Ok(self.get::<crate::domain::forecast::CoverMark>(&keys::cover_mark(sku), true).await?.map(|i| i.data))
    }

    async fn cover_marks(
        &self,
        skus: &[crate::domain::Sku],
    ) -> Result<std::collections::HashMap<crate::domain::Sku, crate::domain::forecast::CoverMark>, StoreError> {
        // BatchGetItem, 100 keys a call: a catalog of hundreds of SKUs in a few requests.
        let items = self.batch_get(skus.iter().map(|s| key_attrs(&keys::cover_mark(s))).collect()).await?;
        let mut out = std::collections::HashMap::new();
        for a in items {
            let sku = a.get(keys::PK).and_then(|v| v.as_s().ok()).and_then(|pk| keys::cover_mark_sku(pk));
            let mark = super::super::item::from_attrs::<crate::domain::forecast::CoverMark>(a).map_err(mapping)?.data;
            if let Some(sku) = sku {
                out.insert(sku, mark);
            }
        }
        Ok(out)
    }

    async fn put_cover_mark(
        &self,
        sku: &crate::domain::Sku,
        expected: u64,
        mark: &crate::domain::forecast::CoverMark,
    ) -> Result<bool, StoreError> {
        let item = super::super::item::Item::new(keys::cover_mark(sku), "cover_mark", mark);
        let attrs = item.to_attrs().map_err(super::super::errors::mapping)?;
        let condition = super::super::table::Condition::new("attribute_not_exists(PK) OR crossings = :expected")
            .value(":expected", super::super::item::n(expected));
        match self.put(attrs, condition).await {
            Ok(()) => Ok(true),
            Err(StoreError::StaleVersion) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
