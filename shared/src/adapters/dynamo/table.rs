//! The table and its generic operations (get, put, query, batch get, keys-only index
//! hydration). Entity modules build on these; nothing here knows an entity.

use super::errors::{mapping, sdk};
use super::item::{Attrs, Item, from_attrs, key_attrs, s};
use super::keys::{self, Key};
use crate::ports::{Clock, StoreError, SystemClock};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use std::collections::HashMap;
use std::sync::Arc;

/// The DynamoDB single table: every storage port of `crate::ports` is implemented on it.
#[derive(Clone)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
    /// Time for TTLs, leases and expiry checks (never `Utc::now()` directly).
    pub(super) clock: Arc<dyn Clock>,
}

/// The table key of an item or of a keys-only index entry.
pub fn table_key(a: &Attrs) -> Option<Key> {
    Some(Key { pk: a.get(keys::PK)?.as_s().ok()?.clone(), sk: a.get(keys::SK)?.as_s().ok()?.clone() })
}

/// The `entity` attribute of an item.
pub fn entity_of(a: &Attrs) -> &str {
    a.get("entity").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or("")
}

/// A conditional put's condition, values and names.
#[derive(Default)]
pub struct Condition {
    pub expression: Option<&'static str>,
    pub values: Option<HashMap<String, AttributeValue>>,
    pub names: Option<HashMap<String, String>>,
}

impl Condition {
    pub fn new(expression: &'static str) -> Self {
        Condition { expression: Some(expression), ..Default::default() }
    }
    pub fn value(mut self, name: &str, v: AttributeValue) -> Self {
        self.values.get_or_insert_with(HashMap::new).insert(name.to_owned(), v);
        self
    }
    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names.get_or_insert_with(HashMap::new).insert(placeholder.to_owned(), attribute.to_owned());
        self
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into(), clock: Arc::new(SystemClock) }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens the connection during a cold start (DNS, TCP, TLS, credentials) with one `GetItem`
    /// of a key that never exists, so the first request does not pay for it. Best effort and
    /// bounded: a slow or failing store does not fail the start, the first request reports it.
    pub async fn warm_up(&self, timeout: std::time::Duration) -> bool {
        let key = Key { pk: "WARMUP".into(), sk: "WARMUP".into() };
        let req = self.client.get_item().table_name(&self.table).set_key(Some(key_attrs(&key))).send();
        matches!(tokio::time::timeout(timeout, req).await, Ok(Ok(_)))
    }

    pub(super) async fn get<T: serde::de::DeserializeOwned>(
        &self,
        key: &Key,
        consistent: bool,
    ) -> Result<Option<Item<T>>, StoreError> {
        self.get_attrs(key, consistent).await?.map(from_attrs).transpose().map_err(mapping)
    }

    pub(super) async fn get_attrs(&self, key: &Key, consistent: bool) -> Result<Option<Attrs>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(sdk)?;
        Ok(out.item)
    }

    pub(super) async fn put(&self, attrs: Attrs, condition: Condition) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attrs))
            .set_condition_expression(condition.expression.map(str::to_owned))
            .set_expression_attribute_values(condition.values)
            .set_expression_attribute_names(condition.names)
            .send()
            .await
            .map_err(sdk)?;
        Ok(())
    }

    pub(super) async fn put_item<T: serde::Serialize>(&self, item: &Item<T>) -> Result<(), StoreError> {
        self.put(item.to_attrs().map_err(mapping)?, Condition::default()).await
    }

    pub(super) async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.client.delete_item().table_name(&self.table).set_key(Some(key_attrs(key))).send().await.map_err(sdk)?;
        Ok(())
    }

    /// Every item of a partition (of the table, or of an index when `index` is not empty),
    /// optionally only sort keys with a prefix.
    pub(super) async fn query_all(
        &self,
        index: &str,
        pk_name: &str,
        pk: &str,
        sk_prefix: Option<(&str, &str)>,
        consistent: bool,
    ) -> Result<Vec<Attrs>, StoreError> {
        let sk = sk_prefix.map(|(name, p)| (format!("begins_with({name}, :sk)"), p));
        self.query_pages(index, (pk_name, pk), sk, consistent).await
    }

    /// Every entry of an index partition whose sort key sorts before `upper`.
    pub(super) async fn query_all_below(
        &self,
        index: &str,
        (pk_name, pk): (&str, &str),
        (sk_name, upper): (&str, &str),
    ) -> Result<Vec<Attrs>, StoreError> {
        self.query_pages(index, (pk_name, pk), Some((format!("{sk_name} < :sk"), upper)), false).await
    }

    /// Every item of a table partition whose sort key sorts at or after `lower`.
    pub(super) async fn query_all_from(
        &self,
        pk: &str,
        lower: &str,
        consistent: bool,
    ) -> Result<Vec<Attrs>, StoreError> {
        self.query_pages("", (keys::PK, pk), Some((format!("{} >= :sk", keys::SK), lower)), consistent).await
    }

    async fn query_pages(
        &self,
        index: &str,
        (pk_name, pk): (&str, &str),
        sk: Option<(String, &str)>,
        consistent: bool,
    ) -> Result<Vec<Attrs>, StoreError> {
        let condition = match &sk {
            Some((c, _)) => format!("{pk_name} = :pk AND {c}"),
            None => format!("{pk_name} = :pk"),
        };
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(&condition)
                .expression_attribute_values(":pk", s(pk))
                .set_exclusive_start_key(start.take());
            q = if index.is_empty() { q.consistent_read(consistent) } else { q.index_name(index) };
            if let Some((_, v)) = &sk {
                q = q.expression_attribute_values(":sk", s(*v));
            }
            let res = q.send().await.map_err(sdk)?;
            out.extend(res.items.unwrap_or_default());
            match res.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// Items by key (BatchGetItem, 100 keys per call, unprocessed keys retried), in no order.
    pub(super) async fn batch_get(&self, keys: Vec<Attrs>) -> Result<Vec<Attrs>, StoreError> {
        self.batch_get_with(keys, false).await
    }

    /// `batch_get`, read consistently when `consistent` (what a conditional write follows).
    pub(super) async fn batch_get_with(&self, keys: Vec<Attrs>, consistent: bool) -> Result<Vec<Attrs>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut request: Option<KeysAndAttributes> = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(consistent)
                    .build()
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            );
            let mut attempts = 0;
            while let Some(req) = request.take() {
                let res = self.client.batch_get_item().request_items(&self.table, req).send().await.map_err(sdk)?;
                if let Some(items) = res.responses.and_then(|mut r| r.remove(&self.table)) {
                    out.extend(items);
                }
                request = res.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys().is_empty());
                attempts += 1;
                if request.is_some() {
                    if attempts > 6 {
                        return Err(StoreError::Unavailable("batch get kept returning unprocessed keys".into()));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempts)).await;
                }
            }
        }
        Ok(out)
    }

    /// The items behind entries of a keys-only index (every GSI projects keys only, so a status
    /// change does not rewrite whole orders into them), in the index's order. An item
    /// deleted since the index was read is skipped.
    pub(super) async fn hydrate(&self, index_items: Vec<Attrs>) -> Result<Vec<Attrs>, StoreError> {
        self.hydrate_with(index_items, false).await
    }

    /// `hydrate`, read consistently when `consistent`.
    pub(super) async fn hydrate_with(
        &self,
        index_items: Vec<Attrs>,
        consistent: bool,
    ) -> Result<Vec<Attrs>, StoreError> {
        let order: Vec<Key> = index_items.iter().filter_map(table_key).collect();
        if order.is_empty() {
            return Ok(Vec::new());
        }
        let mut unique = order.clone();
        unique.sort();
        unique.dedup();
        let mut found: HashMap<Key, Attrs> = self
            .batch_get_with(unique.iter().map(key_attrs).collect(), consistent)
            .await?
            .into_iter()
            .filter_map(|a| Some((table_key(&a)?, a)))
            .collect();
        Ok(order.iter().filter_map(|k| found.remove(k)).collect())
    }

    /// The item a unique GSI1 key points at. The index holds keys only and is eventually
    /// consistent: the item itself is read, consistently.
    pub(super) async fn get_by_gsi1<T: serde::de::DeserializeOwned>(
        &self,
        gsi1pk: &str,
    ) -> Result<Option<T>, StoreError> {
        let entries = self.query_all(keys::GSI1, keys::GSI1PK, gsi1pk, None, false).await?;
        let Some(key) = entries.first().and_then(table_key) else { return Ok(None) };
        Ok(self.get::<T>(&key, true).await?.map(|i| i.data))
    }

    /// Every item a GSI1 partition lists, in the index's order (keys-only: the items are read).
    pub(super) async fn list_gsi1<T: serde::de::DeserializeOwned>(&self, gsi1pk: &str) -> Result<Vec<T>, StoreError> {
        let entries = self.query_all(keys::GSI1, keys::GSI1PK, gsi1pk, None, false).await?;
        Self::all(self.hydrate(entries).await?)
    }

    /// Maps items to their entity.
    pub(super) fn all<T: serde::de::DeserializeOwned>(items: Vec<Attrs>) -> Result<Vec<T>, StoreError> {
        items.into_iter().map(|a| Ok(from_attrs::<T>(a).map_err(mapping)?.data)).collect()
    }
}
