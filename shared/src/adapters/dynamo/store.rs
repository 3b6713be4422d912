//! Repositories over the single table. Every write that must hold together is one
//! `TransactWriteItems` with conditions; `ConditionalCheckFailed` becomes a domain error.

use super::item::{Attrs, Item, from_attrs, key_attrs, n, s};
use super::keys::{self, Key};
use crate::domain::{
    Cart, CartId, CustomerId, Email, Location, LocationId, Order, OrderId, OrderStatus, Product, Shipment, Sku,
    StockLevel, TimelineEvent,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, KeysAndAttributes, Put, ReturnConsumedCapacity, TransactWriteItem, Update,
};
use base64_cursor::{decode_cursor, encode_cursor};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    #[error("the item changed since it was read")]
    StaleVersion,
    #[error("out of stock: {0:?}")]
    OutOfStock(Vec<(Sku, LocationId)>),
    #[error("a stock movement's precondition failed: {0:?}")]
    StockPrecondition(Vec<(Sku, LocationId)>),
    #[error("the idempotency key is already used")]
    IdempotencyKeyUsed,
    #[error("the cart was already converted to an order")]
    CartConverted,
    #[error("concurrent transaction conflict")]
    Conflict,
    #[error("transaction too large ({0} items, at most 100)")]
    TooLarge(usize),
    #[error("invalid pagination cursor")]
    BadCursor,
    #[error("stored item could not be mapped: {0}")]
    Mapping(#[from] serde_dynamo::Error),
    #[error("dynamodb: {0}")]
    Dynamo(String),
}

impl StoreError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Conflict)
    }
}

fn sdk<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
    match code {
        "ConditionalCheckFailedException" => StoreError::StaleVersion,
        // Contention and throttling: worth another attempt after a pause.
        "TransactionConflictException"
        | "TransactionInProgressException"
        | "ThrottlingException"
        | "ProvisionedThroughputExceededException"
        | "RequestLimitExceeded" => StoreError::Conflict,
        _ => StoreError::Dynamo(format!(
            "{}: {}",
            code,
            e.as_service_error().and_then(|s| s.message()).unwrap_or("request failed")
        )),
    }
}

/// What each item of a transaction stands for, so a cancellation reason maps to a domain error.
#[derive(Debug, Clone)]
pub enum TxRole {
    NewItem,
    Versioned,
    Idempotency,
    StockTake(Sku, LocationId),
    StockMove(Sku, LocationId),
    CartConversion,
    Other,
}

/// One write inside a transaction.
pub struct TxOp {
    pub item: TransactWriteItem,
    pub role: TxRole,
}

/// A stock movement, applied with the condition that keeps `on_hand = available + held + allocated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockMove {
    Hold,
    ReleaseHold,
    Allocate,
    ReleaseAllocation,
    Ship,
    Restock,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockRecord {
    pub sku: Sku,
    pub location_id: LocationId,
    #[serde(flatten)]
    pub level: StockLevel,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub order_id: OrderId,
    pub status_code: u16,
    /// The response body as sent, replayed byte for byte.
    pub response: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookRecord {
    received_at: DateTime<Utc>,
}

/// An order with everything in its item collection.
#[derive(Debug, Clone)]
pub struct OrderView {
    pub order: Order,
    pub shipments: Vec<Shipment>,
    pub timeline: Vec<TimelineEvent>,
}

/// One page of a listing with an opaque cursor for the next.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Counts read and write capacity units consumed (for the cost benchmark).
/// Writes are also broken down by what they wrote (the entity kinds of the items, from the
/// sort key's first segment), so the benchmark can show where write units go.
#[derive(Debug, Default)]
pub struct CapacityMeter {
    read_milli: AtomicU64,
    write_milli: AtomicU64,
    writes_by_kind: std::sync::Mutex<std::collections::BTreeMap<String, (u64, u64)>>,
    /// When set, transactions are billed from before/after images (see `billing`).
    billing: std::sync::OnceLock<super::billing::TableModel>,
    /// What DynamoDB Local reported for the transactions billed from images instead.
    local_reported_tx_milli: AtomicU64,
}

impl CapacityMeter {
    fn add_milli(&self, read: u64, write: u64) {
        self.read_milli.fetch_add(read, Ordering::Relaxed);
        self.write_milli.fetch_add(write, Ordering::Relaxed);
    }
    fn add_write(&self, kind: String, milli: u64) {
        self.add_milli(0, milli);
        if let Ok(mut m) = self.writes_by_kind.lock() {
            let e = m.entry(kind).or_default();
            e.0 += 1;
            e.1 += milli;
        }
    }
    /// Write milli-units DynamoDB Local reported for transactions that were billed from images.
    pub fn local_reported_tx_milli(&self) -> u64 {
        self.local_reported_tx_milli.load(Ordering::Relaxed)
    }
    /// (read, write) capacity units consumed so far, in thousandths.
    pub fn milli_units(&self) -> (u64, u64) {
        (self.read_milli.load(Ordering::Relaxed), self.write_milli.load(Ordering::Relaxed))
    }
    /// Write requests and write milli-units so far, by kind (`put:order`, `tx:order+stock+stock`).
    pub fn writes_by_kind(&self) -> std::collections::BTreeMap<String, (u64, u64)> {
        self.writes_by_kind.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

/// The entity kind of an item from its sort key (`ORDER`, `SHIP#…` → `SHIP`).
fn kind_of(attrs: &Attrs) -> String {
    attrs
        .get(keys::SK)
        .and_then(|v| v.as_s().ok())
        .map(|sk| sk.split('#').next().unwrap_or(sk).to_owned())
        .unwrap_or_default()
}

/// What a transaction action does (`put`, `update`, ...), to the item with these attributes
/// (the whole item for a put, the key otherwise), and how it is billed.
fn tx_action(item: &TransactWriteItem) -> Option<(&'static str, &Attrs, super::billing::Action)> {
    use super::billing::Action;
    if let Some(p) = item.put() {
        Some(("put", p.item(), Action::Write))
    } else if let Some(u) = item.update() {
        Some(("update", u.key(), Action::Write))
    } else if let Some(d) = item.delete() {
        Some(("delete", d.key(), Action::Write))
    } else {
        item.condition_check().map(|c| ("check", c.key(), Action::Check))
    }
}

/// Capacity units arrive from the SDK as floating point; they become integer milli-units here,
/// at the boundary.
fn milli(units: Option<impl Into<Capacity>>) -> u64 {
    units.map(|u| u.into().0).unwrap_or(0)
}

struct Capacity(u64);

impl From<f64> for Capacity {
    fn from(v: f64) -> Self {
        Capacity((v * 1000.0).round().max(0.0) as u64)
    }
}

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    pub meter: Arc<CapacityMeter>,
}

const ENTITY_PRODUCT: &str = "product";
const ENTITY_LOCATION: &str = "location";
const ENTITY_STOCK: &str = "stock";
const ENTITY_CART: &str = "cart";
const ENTITY_ORDER: &str = "order";
const ENTITY_SHIPMENT: &str = "shipment";
const ENTITY_EVENT: &str = "timeline_event";
const ENTITY_IDEMPOTENCY: &str = "idempotency";
const ENTITY_WEBHOOK: &str = "webhook_event";
const ENTITY_LABEL: &str = "label";
const ENTITY_MAIL: &str = "mail";
const ENTITY_RETURN: &str = "return";
const ENTITY_RETURN_LABEL: &str = "return_label";
const ENTITY_CASE: &str = "case";
const ENTITY_PAYMENT: &str = "payment_ref";

pub fn rma_item(r: &crate::domain::returns::Rma) -> Item<&crate::domain::returns::Rma> {
    let mut item = Item::new(keys::rma(&r.order_id, &r.id), ENTITY_RETURN, r)
        .gsi1(keys::rma_gsi1pk(&r.id), keys::RMA_GSI1SK.into());
    if let Some(l) = &r.label {
        item = item.gsi3(keys::tracking_gsi3pk(&l.carrier, &l.tracking_number), keys::RETURN_TRACKING_GSI3SK.into());
    }
    item
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnLabelDoc {
    pub pdf_base64: String,
}

pub fn return_label_item<'a>(
    order: &OrderId,
    id: &crate::domain::ReturnId,
    doc: &'a ReturnLabelDoc,
) -> Item<&'a ReturnLabelDoc> {
    Item::new(keys::return_label(order, id), ENTITY_RETURN_LABEL, doc)
}

pub fn case_item(c: &crate::domain::support::Case) -> Item<&crate::domain::support::Case> {
    Item::new(keys::case(&c.order_id, &c.id), ENTITY_CASE, c)
        .gsi1(keys::case_gsi1pk(&c.id), keys::CASE_GSI1SK.into())
        .gsi2(keys::cases_by_status_gsi2pk(c.status.as_str()), format!("{}#{}", keys::timestamp(&c.created_at), c.id))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRef {
    pub order_id: OrderId,
}

pub fn payment_ref_item<'a>(authorization_id: &str, r: &'a PaymentRef) -> Item<&'a PaymentRef> {
    Item::new(keys::payment(authorization_id), ENTITY_PAYMENT, r)
}

/// What a carrier tracking number points at.
#[derive(Debug, Clone)]
pub enum Tracked {
    Shipment(Shipment),
    Return(crate::domain::returns::Rma),
}
const ENTITY_PREFERENCES: &str = "preferences";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MailRecord {
    state: String,
    lease_until: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailClaim {
    Claimed,
    AlreadySent,
    InFlight,
}

/// A customer's communication preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    pub marketing_emails: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences { marketing_emails: true }
    }
}

/// A carrier label document, kept in the order's item collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelDoc {
    pub order_id: OrderId,
    pub shipment_id: crate::domain::ShipmentId,
    pub label_id: String,
    pub carrier: String,
    pub tracking_number: String,
    /// The PDF, base64.
    pub pdf_base64: String,
    pub created_at: DateTime<Utc>,
}

pub fn label_item(l: &LabelDoc) -> Item<&LabelDoc> {
    Item::new(keys::label(&l.order_id, &l.shipment_id), ENTITY_LABEL, l)
}

/// Idempotency records outlive any client retry window.
pub const IDEMPOTENCY_TTL_HOURS: i64 = 24;

pub fn product_item(p: &Product) -> Item<&Product> {
    Item::new(keys::product(&p.sku), ENTITY_PRODUCT, p)
}

pub fn location_item(l: &Location) -> Item<&Location> {
    Item::new(keys::location(&l.id), ENTITY_LOCATION, l)
        .gsi1(keys::LOCATIONS_GSI1PK.into(), keys::location_gsi1sk(&l.id))
}

pub fn stock_item(r: &StockRecord) -> Item<&StockRecord> {
    Item::new(keys::stock(&r.sku, &r.location_id), ENTITY_STOCK, r)
}

pub fn cart_item(c: &Cart) -> Item<&Cart> {
    let mut item = Item::new(keys::cart(&c.id), ENTITY_CART, c)
        .gsi1(keys::customer_gsi1pk(&c.customer), keys::cart_gsi1sk(&c.id))
        .ttl(c.expires_at().timestamp());
    if !c.items.is_empty() && c.email.is_some() && c.converted_order.is_none() {
        item = item.gsi2(keys::idle_cart_gsi2pk(&c.id), keys::idle_cart_gsi2sk(&c.last_activity, &c.id));
    }
    item
}

pub fn order_item(o: &Order) -> Item<&Order> {
    let created = keys::order_created_sk(&o.created_at, &o.id);
    Item::new(keys::order(&o.id), ENTITY_ORDER, o)
        .gsi1(keys::customer_gsi1pk(&o.customer), keys::order_gsi1sk(&o.id))
        .gsi2(keys::order_status_gsi2pk(o.status, &o.id), created.clone())
        .gsi3(keys::email_gsi3pk(&o.email), created)
}

pub fn shipment_item(sh: &Shipment) -> Item<&Shipment> {
    let mut item = Item::new(keys::shipment(&sh.order_id, &sh.id), ENTITY_SHIPMENT, sh);
    if let (Some(c), Some(t)) = (&sh.carrier, &sh.tracking_number) {
        item = item.gsi3(keys::tracking_gsi3pk(c, t), keys::TRACKING_GSI3SK.into());
    }
    item
}

pub fn timeline_item<'a>(order: &OrderId, e: &'a TimelineEvent) -> Item<&'a TimelineEvent> {
    let seq = ulid::Ulid::new().to_string();
    Item::new(keys::timeline_event(order, &e.at, &seq), ENTITY_EVENT, e)
}

pub fn idempotency_item<'a>(customer: &CustomerId, key: &str, r: &'a IdempotencyRecord) -> Item<&'a IdempotencyRecord> {
    Item::new(keys::idempotency(customer, key), ENTITY_IDEMPOTENCY, r)
        .ttl((r.created_at + chrono::Duration::hours(IDEMPOTENCY_TTL_HOURS)).timestamp())
}

mod base64_cursor {
    //! Keyset cursors: the last sort key seen, base64url-encoded.
    use super::StoreError;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    pub fn encode_cursor(sort_key: &str) -> String {
        URL_SAFE_NO_PAD.encode(sort_key)
    }

    pub fn decode_cursor(cursor: &str, expected_prefix: &str) -> Result<String, StoreError> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| StoreError::BadCursor)?;
        let s = String::from_utf8(bytes).map_err(|_| StoreError::BadCursor)?;
        if s.len() > 200 || !s.starts_with(expected_prefix) {
            return Err(StoreError::BadCursor);
        }
        Ok(s)
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into(), meter: Arc::new(CapacityMeter::default()) }
    }

    /// Bills transactions from item images as AWS does (benchmarks only: it reads every item
    /// of a transaction before and after, unmetered). The indexes come from the live table.
    pub async fn meter_transactions_exactly(&self) -> Result<(), StoreError> {
        use super::billing::{IndexModel, Projected, TableModel};
        use aws_sdk_dynamodb::types::ProjectionType;
        let out = self.client.describe_table().table_name(&self.table).send().await.map_err(sdk)?;
        let t = out.table().ok_or(StoreError::NotFound)?;
        let names = |ks: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Vec<String> {
            ks.iter().map(|k| k.attribute_name().to_owned()).collect()
        };
        let model = TableModel {
            key_attributes: names(t.key_schema()),
            indexes: t
                .global_secondary_indexes()
                .iter()
                .map(|g| {
                    let p = g.projection();
                    IndexModel {
                        name: g.index_name().unwrap_or_default().to_owned(),
                        key_attributes: names(g.key_schema()),
                        projection: match p.and_then(|p| p.projection_type()) {
                            Some(ProjectionType::KeysOnly) => Projected::KeysOnly,
                            Some(ProjectionType::Include) => {
                                Projected::Include(p.map(|p| p.non_key_attributes().to_vec()).unwrap_or_default())
                            }
                            _ => Projected::All,
                        },
                    }
                })
                .collect(),
        };
        let _ = self.meter.billing.set(model);
        Ok(())
    }

    /// The billing model, once `meter_transactions_exactly` has loaded it.
    pub fn billing_model(&self) -> Option<&super::billing::TableModel> {
        self.meter.billing.get()
    }

    async fn images(&self, keys: &[(Key, super::billing::Action)]) -> Vec<Option<Attrs>> {
        let mut out = Vec::with_capacity(keys.len());
        for (k, _) in keys {
            let r =
                self.client.get_item().table_name(&self.table).set_key(Some(key_attrs(k))).consistent_read(true).send();
            out.push(r.await.ok().and_then(|o| o.item));
        }
        out
    }

    /// Opens the connection during a cold start (DNS, TCP, TLS, credentials) with one `GetItem`
    /// of a key that never exists, so the first request does not pay for it. Best effort and
    /// bounded: a slow or failing store does not fail the start, the first request reports it.
    pub async fn warm_up(&self, timeout: std::time::Duration) -> bool {
        let key = Key { pk: "WARMUP".into(), sk: "WARMUP".into() };
        let req = self.client.get_item().table_name(&self.table).set_key(Some(key_attrs(&key))).send();
        matches!(tokio::time::timeout(timeout, req).await, Ok(Ok(_)))
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn meter_one(&self, cc: Option<&aws_sdk_dynamodb::types::ConsumedCapacity>) {
        if let Some(c) = cc {
            let (read, write) = (milli(c.read_capacity_units()), milli(c.write_capacity_units()));
            if read == 0 && write == 0 {
                // Reads report only a total.
                self.meter.add_milli(milli(c.capacity_units()), 0);
            } else {
                self.meter.add_milli(read, write);
            }
        }
    }

    fn meter_write(&self, kind: String, cc: Option<&aws_sdk_dynamodb::types::ConsumedCapacity>) {
        if let Some(c) = cc {
            self.meter.add_write(kind, milli(c.capacity_units()));
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        key: &Key,
        consistent: bool,
    ) -> Result<Option<Item<T>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(consistent)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(sdk)?;
        self.meter_one(out.consumed_capacity());
        out.item.map(from_attrs).transpose().map_err(Into::into)
    }

    async fn put(
        &self,
        attrs: Attrs,
        condition: Option<&str>,
        values: Option<HashMap<String, AttributeValue>>,
        names: Option<HashMap<String, String>>,
    ) -> Result<(), StoreError> {
        let kind = format!("single put {}", kind_of(&attrs));
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attrs))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_values(values)
            .set_expression_attribute_names(names)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(sdk)?;
        self.meter_write(kind, out.consumed_capacity());
        Ok(())
    }

    /// Runs a transaction, mapping cancellation reasons to domain errors by each item's role.
    pub async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        if ops.len() > 100 {
            return Err(StoreError::TooLarge(ops.len()));
        }
        if ops.is_empty() {
            return Ok(());
        }
        let roles: Vec<TxRole> = ops.iter().map(|o| o.role.clone()).collect();
        let actions: Vec<_> = ops.iter().filter_map(|o| tx_action(&o.item)).collect();
        let mut kinds: Vec<String> =
            actions.iter().map(|(verb, attrs, _)| format!("{verb} {}", kind_of(attrs))).collect();
        kinds.sort();
        let kind = format!("tx[{}]", kinds.join(", "));
        let exact = match self.meter.billing.get() {
            Some(model) => {
                let targets: Vec<(Key, super::billing::Action)> =
                    actions.iter().filter_map(|(_, attrs, action)| Some((table_key(attrs)?, *action))).collect();
                let before = self.images(&targets).await;
                Some((model, targets, before))
            }
            None => None,
        };
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(ops.into_iter().map(|o| o.item).collect()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match res {
            Ok(out) => {
                let reported: u64 = out.consumed_capacity().iter().map(|c| milli(c.capacity_units())).sum();
                let total = match exact {
                    Some((model, targets, before)) => {
                        self.meter.local_reported_tx_milli.fetch_add(reported, Ordering::Relaxed);
                        let after = self.images(&targets).await;
                        let units: u64 = targets
                            .iter()
                            .zip(before.iter().zip(after.iter()))
                            .map(|((_, action), (b, a))| model.write_units(*action, b.as_ref(), a.as_ref(), 2))
                            .sum();
                        units * 1000
                    }
                    None => reported,
                };
                self.meter.add_write(kind, total);
                Ok(())
            }
            Err(e) => {
                let reasons = e
                    .as_service_error()
                    .and_then(|se| match se {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(tc) => {
                            Some(tc.cancellation_reasons().to_vec())
                        }
                        _ => None,
                    });
                let Some(reasons) = reasons else {
                    return Err(sdk(e));
                };
                Err(map_cancellation(&roles, &reasons))
            }
        }
    }

    /// A transaction retried on `TransactionConflict` (another writer touched the same item
    /// at the same instant): short jittered backoff, bounded attempts.
    pub async fn transact_retrying<F>(&self, mut build: F) -> Result<(), StoreError>
    where
        F: FnMut() -> Result<Vec<TxOp>, StoreError>,
    {
        let mut attempt = 0u32;
        loop {
            match self.transact(build()?).await {
                Err(e) if e.is_retryable() && attempt < 8 => {
                    attempt += 1;
                    let base = 10u64 << attempt.min(5);
                    let jitter = rand::random::<u64>() % base;
                    tokio::time::sleep(std::time::Duration::from_millis(base / 2 + jitter)).await;
                }
                other => return other,
            }
        }
    }

    // ----- products -------------------------------------------------------------------------

    pub async fn put_product(&self, p: &Product) -> Result<(), StoreError> {
        self.put(product_item(p).to_attrs()?, None, None, None).await
    }

    pub async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        Ok(self.get::<Product>(&keys::product(sku), false).await?.map(|i| i.data))
    }

    /// Products for many SKUs at once (BatchGetItem, 100 keys per call, unprocessed keys retried).
    pub async fn get_products(&self, skus: &[Sku]) -> Result<HashMap<Sku, Product>, StoreError> {
        let mut unique: Vec<&Sku> = skus.iter().collect();
        unique.sort();
        unique.dedup();
        let mut out = HashMap::new();
        for attrs in self.batch_get(unique.iter().map(|s| key_attrs(&keys::product(s))).collect()).await? {
            let p: Item<Product> = from_attrs(attrs)?;
            out.insert(p.data.sku.clone(), p.data);
        }
        Ok(out)
    }

    /// Items by key (BatchGetItem, 100 keys per call, unprocessed keys retried), in no order.
    async fn batch_get(&self, keys: Vec<Attrs>) -> Result<Vec<Attrs>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut request: Option<KeysAndAttributes> = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .build()
                    .map_err(|e| StoreError::Dynamo(e.to_string()))?,
            );
            let mut attempts = 0;
            while let Some(req) = request.take() {
                let res = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, req)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(sdk)?;
                for c in res.consumed_capacity() {
                    self.meter_one(Some(c));
                }
                if let Some(items) = res.responses.and_then(|mut r| r.remove(&self.table)) {
                    out.extend(items);
                }
                request = res.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys().is_empty());
                attempts += 1;
                if request.is_some() {
                    if attempts > 6 {
                        return Err(StoreError::Dynamo("batch get kept returning unprocessed keys".into()));
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
    async fn hydrate(&self, index_items: Vec<Attrs>) -> Result<Vec<Attrs>, StoreError> {
        let order: Vec<Key> = index_items.iter().filter_map(table_key).collect();
        if order.is_empty() {
            return Ok(Vec::new());
        }
        let mut unique = order.clone();
        unique.sort();
        unique.dedup();
        let mut found: HashMap<Key, Attrs> = self
            .batch_get(unique.iter().map(key_attrs).collect())
            .await?
            .into_iter()
            .filter_map(|a| Some((table_key(&a)?, a)))
            .collect();
        Ok(order.iter().filter_map(|k| found.remove(k)).collect())
    }

    // ----- locations ------------------------------------------------------------------------

    pub async fn put_location(&self, l: &Location) -> Result<(), StoreError> {
        self.put(location_item(l).to_attrs()?, None, None, None).await
    }

    pub async fn get_location(&self, id: &LocationId) -> Result<Option<Location>, StoreError> {
        Ok(self.get::<Location>(&keys::location(id), false).await?.map(|i| i.data))
    }

    pub async fn list_locations(&self) -> Result<Vec<Location>, StoreError> {
        let items = self.query_all(keys::GSI1, keys::GSI1PK, keys::LOCATIONS_GSI1PK, None).await?;
        self.hydrate(items).await?.into_iter().map(|a| Ok(from_attrs::<Location>(a)?.data)).collect()
    }

    async fn query_all(
        &self,
        index: &str,
        pk_name: &str,
        pk: &str,
        sk_prefix: Option<(&str, &str)>,
    ) -> Result<Vec<Attrs>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_values(":pk", s(pk))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .set_exclusive_start_key(start.take());
            if !index.is_empty() {
                q = q.index_name(index);
            }
            q = match sk_prefix {
                Some((sk_name, prefix)) => q
                    .key_condition_expression(format!("{pk_name} = :pk AND begins_with({sk_name}, :p)"))
                    .expression_attribute_values(":p", s(prefix)),
                None => q.key_condition_expression(format!("{pk_name} = :pk")),
            };
            let res = q.send().await.map_err(sdk)?;
            self.meter_one(res.consumed_capacity());
            out.extend(res.items.unwrap_or_default());
            match res.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    // ----- stock ----------------------------------------------------------------------------

    pub async fn get_stock(&self, sku: &Sku, location: &LocationId) -> Result<Option<StockRecord>, StoreError> {
        Ok(self.get::<StockRecord>(&keys::stock(sku, location), true).await?.map(|i| i.data))
    }

    /// Stock of a SKU across all locations (one Query on the SKU's partition).
    pub async fn stock_for_sku(&self, sku: &Sku) -> Result<Vec<StockRecord>, StoreError> {
        let pk = keys::stock_pk(sku);
        let items = self.query_all("", keys::PK, &pk, Some((keys::SK, keys::STOCK_SK_PREFIX))).await?;
        items.into_iter().map(|a| Ok(from_attrs::<StockRecord>(a)?.data)).collect()
    }

    /// Sets on-hand after a physical count, keeping held and allocated units (optimistic on
    /// the record's version; creates the record when absent).
    pub async fn set_on_hand(&self, sku: &Sku, location: &LocationId, on_hand: i64) -> Result<StockRecord, StoreError> {
        for _ in 0..10 {
            let current = self.get_stock(sku, location).await?;
            let (level, version) = match &current {
                Some(r) => (r.level, r.version),
                None => (StockLevel::default(), 0),
            };
            let level = level
                .set_on_hand(on_hand)
                .map_err(|_| StoreError::StockPrecondition(vec![(sku.clone(), location.clone())]))?;
            let rec = StockRecord { sku: sku.clone(), location_id: location.clone(), level, version: version + 1 };
            let attrs = stock_item(&rec).to_attrs()?;
            let res = if current.is_some() {
                self.put(attrs, Some("version = :v"), Some(HashMap::from([(":v".into(), n(version))])), None).await
            } else {
                self.put(attrs, Some("attribute_not_exists(PK)"), None, None).await
            };
            match res {
                Ok(()) => return Ok(rec),
                Err(StoreError::StaleVersion) | Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// The conditional update for one stock movement, for use inside a transaction.
    pub fn stock_move(&self, sku: &Sku, location: &LocationId, mv: StockMove, qty: u32) -> Result<TxOp, StoreError> {
        let (update, condition) = match mv {
            StockMove::Hold => ("SET available = available - :q, held = held + :q", "available >= :q"),
            StockMove::ReleaseHold => ("SET available = available + :q, held = held - :q", "held >= :q"),
            StockMove::Allocate => ("SET held = held - :q, allocated = allocated + :q", "held >= :q"),
            StockMove::ReleaseAllocation => {
                ("SET available = available + :q, allocated = allocated - :q", "allocated >= :q")
            }
            StockMove::Ship => ("SET onHand = onHand - :q, allocated = allocated - :q", "allocated >= :q"),
            StockMove::Restock => ("SET onHand = onHand + :q, available = available + :q", "attribute_exists(PK)"),
        };
        let item = TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(&keys::stock(sku, location))))
                    .update_expression(format!("{update}, version = version + :one"))
                    .condition_expression(condition)
                    .expression_attribute_values(":q", n(qty))
                    .expression_attribute_values(":one", n(1))
                    .build()
                    .map_err(|e| StoreError::Dynamo(e.to_string()))?,
            )
            .build();
        let role = if mv == StockMove::Hold {
            TxRole::StockTake(sku.clone(), location.clone())
        } else {
            TxRole::StockMove(sku.clone(), location.clone())
        };
        Ok(TxOp { item, role })
    }

    /// One stock movement on its own (a one-item transaction keeps the same error mapping).
    pub async fn apply_stock_move(
        &self,
        sku: &Sku,
        location: &LocationId,
        mv: StockMove,
        qty: u32,
    ) -> Result<(), StoreError> {
        self.transact_retrying(|| Ok(vec![self.stock_move(sku, location, mv, qty)?])).await
    }

    // ----- generic transaction items --------------------------------------------------------

    pub fn put_new<T: Serialize>(&self, item: &Item<T>) -> Result<TxOp, StoreError> {
        Ok(TxOp {
            item: TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item.to_attrs()?))
                        .condition_expression("attribute_not_exists(PK)")
                        .build()
                        .map_err(|e| StoreError::Dynamo(e.to_string()))?,
                )
                .build(),
            role: TxRole::NewItem,
        })
    }

    /// One unconditional put outside any transaction (half the write units of a transactional
    /// one), for items whose rewrite is idempotent.
    pub async fn put_one<T: Serialize>(&self, item: &Item<T>) -> Result<(), StoreError> {
        self.put(item.to_attrs()?, None, None, None).await
    }

    pub fn put_plain<T: Serialize>(&self, item: &Item<T>) -> Result<TxOp, StoreError> {
        Ok(TxOp {
            item: TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item.to_attrs()?))
                        .build()
                        .map_err(|e| StoreError::Dynamo(e.to_string()))?,
                )
                .build(),
            role: TxRole::Other,
        })
    }

    /// Put guarded by `version = :expected` (optimistic concurrency).
    pub fn put_versioned<T: Serialize>(&self, item: &Item<T>, expected_version: u64) -> Result<TxOp, StoreError> {
        Ok(TxOp {
            item: TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item.to_attrs()?))
                        .condition_expression("version = :v")
                        .expression_attribute_values(":v", n(expected_version))
                        .build()
                        .map_err(|e| StoreError::Dynamo(e.to_string()))?,
                )
                .build(),
            role: TxRole::Versioned,
        })
    }

    pub fn check_version(&self, key: &Key, expected_version: u64) -> Result<TxOp, StoreError> {
        Ok(TxOp {
            item: TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(key)))
                        .condition_expression("version = :v")
                        .expression_attribute_values(":v", n(expected_version))
                        .build()
                        .map_err(|e| StoreError::Dynamo(e.to_string()))?,
                )
                .build(),
            role: TxRole::Versioned,
        })
    }

    // ----- carts ----------------------------------------------------------------------------

    /// Saves a cart read at `cart.version` (0 for a new cart) and bumps the version; a
    /// concurrent change in between is `StaleVersion`.
    pub async fn save_cart(&self, cart: &mut Cart) -> Result<(), StoreError> {
        let expected = cart.version;
        cart.version += 1;
        let attrs = cart_item(cart).to_attrs()?;
        let res = if expected == 0 {
            self.put(attrs, Some("attribute_not_exists(PK)"), None, None).await
        } else {
            self.put(attrs, Some("version = :v"), Some(HashMap::from([(":v".into(), n(expected))])), None).await
        };
        if res.is_err() {
            cart.version = expected;
        }
        res
    }

    pub async fn get_cart(&self, id: &CartId) -> Result<Option<Cart>, StoreError> {
        Ok(self.get::<Cart>(&keys::cart(id), true).await?.map(|i| i.data))
    }

    /// A customer's carts, most recently created first.
    pub async fn carts_of_customer(&self, customer: &CustomerId) -> Result<Vec<Cart>, StoreError> {
        let items = self
            .query_all(
                keys::GSI1,
                keys::GSI1PK,
                &keys::customer_gsi1pk(customer),
                Some((keys::GSI1SK, keys::CART_GSI1SK_PREFIX)),
            )
            .await?;
        let mut carts: Vec<Cart> = self
            .hydrate(items)
            .await?
            .into_iter()
            .map(|a| Ok(from_attrs::<Cart>(a)?.data))
            .collect::<Result<_, StoreError>>()?;
        carts.sort_by_key(|c| std::cmp::Reverse(c.last_activity));
        Ok(carts)
    }

    /// Carts idle since before `cutoff` (sparse index: only carts with items and an e-mail that
    /// were not converted), all shards.
    pub async fn idle_carts(&self, cutoff: DateTime<Utc>) -> Result<Vec<Cart>, StoreError> {
        let mut out = Vec::new();
        let upper = keys::timestamp(&cutoff);
        for shard in 0..keys::STATUS_SHARDS {
            let mut start: Option<Attrs> = None;
            loop {
                let res = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(keys::GSI2)
                    .key_condition_expression("GSI2PK = :pk AND GSI2SK < :t")
                    .expression_attribute_values(":pk", s(keys::idle_cart_gsi2pk_shard(shard)))
                    .expression_attribute_values(":t", s(&upper))
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(sdk)?;
                self.meter_one(res.consumed_capacity());
                for a in self.hydrate(res.items.unwrap_or_default()).await? {
                    out.push(from_attrs::<Cart>(a)?.data);
                }
                match res.last_evaluated_key {
                    Some(k) if !k.is_empty() => start = Some(k),
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    // ----- orders ---------------------------------------------------------------------------

    pub async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.get::<Order>(&keys::order(id), true).await?.map(|i| i.data))
    }

    /// The order with its shipments and timeline: one Query on the order's item collection.
    pub async fn get_order_view(&self, id: &OrderId) -> Result<Option<OrderView>, StoreError> {
        let mut start: Option<Attrs> = None;
        let mut order = None;
        let mut shipments = Vec::new();
        let mut timeline = Vec::new();
        loop {
            let res = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(keys::order_pk(id)))
                .consistent_read(true)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk)?;
            self.meter_one(res.consumed_capacity());
            for a in res.items.unwrap_or_default() {
                let entity = a.get("entity").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                match entity.as_str() {
                    ENTITY_ORDER => order = Some(from_attrs::<Order>(a)?.data),
                    ENTITY_SHIPMENT => shipments.push(from_attrs::<Shipment>(a)?.data),
                    ENTITY_EVENT => timeline.push(from_attrs::<TimelineEvent>(a)?.data),
                    _ => {}
                }
            }
            match res.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(order.map(|order| OrderView { order, shipments, timeline }))
    }

    /// A customer's orders, newest first, keyset-paginated.
    pub async fn orders_of_customer(
        &self,
        customer: &CustomerId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Order>, StoreError> {
        let upper = match cursor {
            Some(c) => decode_cursor(c, keys::ORDER_GSI1SK_PREFIX)?,
            // '~' sorts after every ULID character.
            None => format!("{}~", keys::ORDER_GSI1SK_PREFIX),
        };
        let res = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk AND GSI1SK BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(keys::customer_gsi1pk(customer)))
            .expression_attribute_values(":lo", s(keys::ORDER_GSI1SK_PREFIX))
            .expression_attribute_values(":hi", s(&upper))
            .scan_index_forward(false)
            .limit(limit + if cursor.is_some() { 2 } else { 1 })
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(sdk)?;
        self.meter_one(res.consumed_capacity());
        let mut orders: Vec<Order> = Vec::new();
        for a in self.hydrate(res.items.unwrap_or_default()).await? {
            let o = from_attrs::<Order>(a)?.data;
            // BETWEEN is inclusive: skip the cursor's own item.
            if cursor.is_some() && keys::order_gsi1sk(&o.id) == upper {
                continue;
            }
            orders.push(o);
        }
        let limit = usize::try_from(limit).unwrap_or(0);
        let next_cursor = (orders.len() > limit).then(|| {
            orders.truncate(limit);
            orders.last().map(|o| encode_cursor(&keys::order_gsi1sk(&o.id)))
        });
        Ok(Page { items: orders, next_cursor: next_cursor.flatten() })
    }

    /// Orders in one status (all shards merged), newest first, optionally from a date.
    pub async fn orders_by_status(
        &self,
        status: OrderStatus,
        from: Option<DateTime<Utc>>,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Order>, StoreError> {
        let upper = match cursor {
            Some(c) => decode_cursor(c, "2")?,
            None => "9".to_owned(),
        };
        let lower = from.map(|f| keys::timestamp(&f)).unwrap_or_else(|| "0".into());
        let mut all = Vec::new();
        for shard in 0..keys::STATUS_SHARDS {
            let res = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI2)
                .key_condition_expression("GSI2PK = :pk AND GSI2SK BETWEEN :lo AND :hi")
                .expression_attribute_values(":pk", s(keys::order_status_gsi2pk_shard(status, shard)))
                .expression_attribute_values(":lo", s(&lower))
                .expression_attribute_values(":hi", s(&upper))
                .scan_index_forward(false)
                .limit(limit + if cursor.is_some() { 2 } else { 1 })
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(sdk)?;
            self.meter_one(res.consumed_capacity());
            all.extend(res.items.unwrap_or_default());
        }
        let page = newest_index_entries(all, keys::GSI2SK, limit, cursor.map(|_| upper.as_str()));
        let orders = self
            .hydrate(page)
            .await?
            .into_iter()
            .map(|a| Ok(from_attrs::<Order>(a)?.data))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(page_by_created(orders, limit, cursor.map(|_| upper.as_str())))
    }

    /// Orders placed with an e-mail address, newest first, optionally from a date.
    pub async fn orders_by_email(
        &self,
        email: &Email,
        from: Option<DateTime<Utc>>,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Order>, StoreError> {
        let upper = match cursor {
            Some(c) => decode_cursor(c, "2")?,
            None => "9".to_owned(),
        };
        let lower = from.map(|f| keys::timestamp(&f)).unwrap_or_else(|| "0".into());
        let res = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI3)
            .key_condition_expression("GSI3PK = :pk AND GSI3SK BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(keys::email_gsi3pk(email)))
            .expression_attribute_values(":lo", s(&lower))
            .expression_attribute_values(":hi", s(&upper))
            .scan_index_forward(false)
            .limit(limit + if cursor.is_some() { 2 } else { 1 })
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(sdk)?;
        self.meter_one(res.consumed_capacity());
        let all = self
            .hydrate(res.items.unwrap_or_default())
            .await?
            .into_iter()
            .map(|a| Ok(from_attrs::<Order>(a)?.data))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(page_by_created(all, limit, cursor.map(|_| upper.as_str())))
    }

    /// Orders created by a customer or e-mail since `since` (fraud velocity signal).
    pub async fn count_orders_by_email_since(&self, email: &Email, since: DateTime<Utc>) -> Result<usize, StoreError> {
        let res = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI3)
            .key_condition_expression("GSI3PK = :pk AND GSI3SK >= :lo")
            .expression_attribute_values(":pk", s(keys::email_gsi3pk(email)))
            .expression_attribute_values(":lo", s(keys::timestamp(&since)))
            .select(aws_sdk_dynamodb::types::Select::Count)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(sdk)?;
        self.meter_one(res.consumed_capacity());
        Ok(usize::try_from(res.count).unwrap_or(0))
    }

    // ----- shipments ------------------------------------------------------------------------

    pub async fn shipment_by_tracking(
        &self,
        carrier: &str,
        tracking_number: &str,
    ) -> Result<Option<Shipment>, StoreError> {
        let items =
            self.query_all(keys::GSI3, keys::GSI3PK, &keys::tracking_gsi3pk(carrier, tracking_number), None).await?;
        let items = self.hydrate(items.into_iter().take(1).collect()).await?;
        items.into_iter().next().map(|a| Ok(from_attrs::<Shipment>(a)?.data)).transpose()
    }

    /// A shipment or a return parcel, by carrier tracking number.
    pub async fn tracked(&self, carrier: &str, tracking_number: &str) -> Result<Option<Tracked>, StoreError> {
        let items =
            self.query_all(keys::GSI3, keys::GSI3PK, &keys::tracking_gsi3pk(carrier, tracking_number), None).await?;
        let items = self.hydrate(items.into_iter().take(1).collect()).await?;
        let Some(a) = items.into_iter().next() else { return Ok(None) };
        let entity = a.get("entity").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        Ok(Some(if entity == ENTITY_RETURN {
            Tracked::Return(from_attrs(a)?.data)
        } else {
            Tracked::Shipment(from_attrs(a)?.data)
        }))
    }

    pub async fn get_rma(
        &self,
        id: &crate::domain::ReturnId,
    ) -> Result<Option<crate::domain::returns::Rma>, StoreError> {
        let items = self.query_all(keys::GSI1, keys::GSI1PK, &keys::rma_gsi1pk(id), None).await?;
        let Some(key) = items.first().and_then(table_key) else { return Ok(None) };
        // The index holds keys only (and is eventually consistent): read the item itself.
        Ok(self.get(&key, true).await?.map(|i: Item<crate::domain::returns::Rma>| i.data))
    }

    pub async fn returns_of_order(&self, order: &OrderId) -> Result<Vec<crate::domain::returns::Rma>, StoreError> {
        let items =
            self.query_all("", keys::PK, &keys::order_pk(order), Some((keys::SK, keys::RETURN_SK_PREFIX))).await?;
        items.into_iter().map(|a| Ok(from_attrs(a)?.data)).collect()
    }

    pub async fn get_return_label(
        &self,
        order: &OrderId,
        id: &crate::domain::ReturnId,
    ) -> Result<Option<ReturnLabelDoc>, StoreError> {
        Ok(self.get::<ReturnLabelDoc>(&keys::return_label(order, id), false).await?.map(|i| i.data))
    }

    pub async fn get_case(
        &self,
        id: &crate::domain::CaseId,
    ) -> Result<Option<crate::domain::support::Case>, StoreError> {
        let items = self.query_all(keys::GSI1, keys::GSI1PK, &keys::case_gsi1pk(id), None).await?;
        let Some(key) = items.first().and_then(table_key) else { return Ok(None) };
        Ok(self.get(&key, true).await?.map(|i: Item<crate::domain::support::Case>| i.data))
    }

    pub async fn cases_of_order(&self, order: &OrderId) -> Result<Vec<crate::domain::support::Case>, StoreError> {
        let items =
            self.query_all("", keys::PK, &keys::order_pk(order), Some((keys::SK, keys::CASE_SK_PREFIX))).await?;
        items.into_iter().map(|a| Ok(from_attrs(a)?.data)).collect()
    }

    /// Cases in a status (the agents' queue), oldest first.
    pub async fn cases_by_status(
        &self,
        status: crate::domain::support::CaseStatus,
    ) -> Result<Vec<crate::domain::support::Case>, StoreError> {
        let items =
            self.query_all(keys::GSI2, keys::GSI2PK, &keys::cases_by_status_gsi2pk(status.as_str()), None).await?;
        self.hydrate(items).await?.into_iter().map(|a| Ok(from_attrs(a)?.data)).collect()
    }

    pub async fn order_for_payment(&self, authorization_id: &str) -> Result<Option<OrderId>, StoreError> {
        Ok(self.get::<PaymentRef>(&keys::payment(authorization_id), false).await?.map(|i| i.data.order_id))
    }

    pub async fn get_shipment(
        &self,
        order: &OrderId,
        id: &crate::domain::ShipmentId,
    ) -> Result<Option<Shipment>, StoreError> {
        Ok(self.get::<Shipment>(&keys::shipment(order, id), true).await?.map(|i| i.data))
    }

    pub async fn shipments_of_order(&self, order: &OrderId) -> Result<Vec<Shipment>, StoreError> {
        let items =
            self.query_all("", keys::PK, &keys::order_pk(order), Some((keys::SK, keys::SHIPMENT_SK_PREFIX))).await?;
        items.into_iter().map(|a| Ok(from_attrs::<Shipment>(a)?.data)).collect()
    }

    pub async fn get_label(
        &self,
        order: &OrderId,
        shipment: &crate::domain::ShipmentId,
    ) -> Result<Option<LabelDoc>, StoreError> {
        Ok(self.get::<LabelDoc>(&keys::label(order, shipment), false).await?.map(|i| i.data))
    }

    // ----- notifications -------------------------------------------------------------------

    /// Claims the right to send the mail for `dedupe_key`. A claim left `sending` past its
    /// lease (a crash between send and record) can be taken over.
    pub async fn claim_mail(&self, dedupe_key: &str, lease_secs: i64) -> Result<MailClaim, StoreError> {
        let now = Utc::now();
        let item = Item::new(
            keys::mail(dedupe_key),
            ENTITY_MAIL,
            MailRecord { state: "sending".into(), lease_until: now.timestamp() + lease_secs },
        )
        .ttl((now + chrono::Duration::days(90)).timestamp());
        let res = self
            .put(
                item.to_attrs()?,
                Some("attribute_not_exists(PK) OR (#state = :sending AND leaseUntil < :now)"),
                Some(HashMap::from([(":sending".into(), s("sending")), (":now".into(), n(now.timestamp()))])),
                Some(HashMap::from([("#state".into(), "state".into())])),
            )
            .await;
        match res {
            Ok(()) => Ok(MailClaim::Claimed),
            Err(StoreError::StaleVersion) => {
                let current = self.get::<MailRecord>(&keys::mail(dedupe_key), true).await?;
                Ok(match current.map(|i| i.data.state) {
                    Some(st) if st == "sent" => MailClaim::AlreadySent,
                    _ => MailClaim::InFlight,
                })
            }
            Err(e) => Err(e),
        }
    }

    pub async fn mark_mail_sent(&self, dedupe_key: &str) -> Result<(), StoreError> {
        let now = Utc::now();
        let item = Item::new(keys::mail(dedupe_key), ENTITY_MAIL, MailRecord { state: "sent".into(), lease_until: 0 })
            .ttl((now + chrono::Duration::days(90)).timestamp());
        self.put(item.to_attrs()?, None, None, None).await
    }

    pub async fn get_preferences(&self, customer: &CustomerId) -> Result<Preferences, StoreError> {
        Ok(self.get::<Preferences>(&keys::preferences(customer), false).await?.map(|i| i.data).unwrap_or_default())
    }

    pub async fn put_preferences(&self, customer: &CustomerId, p: &Preferences) -> Result<(), StoreError> {
        self.put(Item::new(keys::preferences(customer), ENTITY_PREFERENCES, p).to_attrs()?, None, None, None).await
    }

    // ----- timeline -------------------------------------------------------------------------

    pub async fn timeline(&self, order: &OrderId) -> Result<Vec<TimelineEvent>, StoreError> {
        let items =
            self.query_all("", keys::PK, &keys::order_pk(order), Some((keys::SK, keys::EVENT_SK_PREFIX))).await?;
        items.into_iter().map(|a| Ok(from_attrs::<TimelineEvent>(a)?.data)).collect()
    }

    pub async fn append_timeline(&self, order: &OrderId, e: &TimelineEvent) -> Result<(), StoreError> {
        self.put(timeline_item(order, e).to_attrs()?, None, None, None).await
    }

    // ----- idempotency and webhook dedupe ---------------------------------------------------

    pub async fn get_idempotency(
        &self,
        customer: &CustomerId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let item = self.get::<IdempotencyRecord>(&keys::idempotency(customer, key), true).await?;
        let now = Utc::now().timestamp();
        // TTL deletion lags; an expired record no longer counts.
        Ok(item.filter(|i| i.expires_at.is_none_or(|t| t > now)).map(|i| i.data))
    }

    /// The idempotency record as a transaction item that fails if the key was used.
    pub fn put_idempotency(&self, customer: &CustomerId, key: &str, r: &IdempotencyRecord) -> Result<TxOp, StoreError> {
        let mut op = self.put_new(&idempotency_item(customer, key, r))?;
        op.role = TxRole::Idempotency;
        Ok(op)
    }

    /// Whether a provider's webhook event id was already received.
    pub async fn webhook_seen(&self, provider: &str, event_id: &str) -> Result<bool, StoreError> {
        Ok(self.get::<WebhookRecord>(&keys::webhook_event(provider, event_id), true).await?.is_some())
    }

    /// Records a provider's webhook event id; `false` when it was seen before (a replay).
    pub async fn record_webhook_event(
        &self,
        provider: &str,
        event_id: &str,
        ttl_days: i64,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let item =
            Item::new(keys::webhook_event(provider, event_id), ENTITY_WEBHOOK, WebhookRecord { received_at: now })
                .ttl((now + chrono::Duration::days(ttl_days)).timestamp());
        match self.put(item.to_attrs()?, Some("attribute_not_exists(PK)"), None, None).await {
            Ok(()) => Ok(true),
            Err(StoreError::StaleVersion) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// The table key of an item or of a keys-only index entry.
fn table_key(a: &Attrs) -> Option<Key> {
    Some(Key { pk: a.get(keys::PK)?.as_s().ok()?.clone(), sk: a.get(keys::SK)?.as_s().ok()?.clone() })
}

/// The newest `limit + 1` entries of a keys-only index across shards, by their index sort key,
/// without the cursor's own entry: only those are read from the table.
fn newest_index_entries(mut all: Vec<Attrs>, sk_attr: &str, limit: i32, exclude_sk: Option<&str>) -> Vec<Attrs> {
    let sk = |a: &Attrs| a.get(sk_attr).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    all.retain(|a| Some(sk(a).as_str()) != exclude_sk);
    all.sort_by_key(|a| std::cmp::Reverse(sk(a)));
    all.truncate(usize::try_from(limit).unwrap_or(0) + 1);
    all
}

fn page_by_created(mut all: Vec<Order>, limit: i32, exclude_sk: Option<&str>) -> Page<Order> {
    all.retain(|o| Some(keys::order_created_sk(&o.created_at, &o.id).as_str()) != exclude_sk);
    all.sort_by_key(|o| std::cmp::Reverse(keys::order_created_sk(&o.created_at, &o.id)));
    let limit = usize::try_from(limit).unwrap_or(0);
    let next_cursor = if all.len() > limit {
        all.truncate(limit);
        all.last().map(|o| encode_cursor(&keys::order_created_sk(&o.created_at, &o.id)))
    } else {
        None
    };
    Page { items: all, next_cursor }
}

fn map_cancellation(roles: &[TxRole], reasons: &[aws_sdk_dynamodb::types::CancellationReason]) -> StoreError {
    let mut short = Vec::new();
    let mut moved = Vec::new();
    let mut first: Option<StoreError> = None;
    for (role, reason) in roles.iter().zip(reasons) {
        match reason.code().unwrap_or("None") {
            "None" | "" => {}
            "ConditionalCheckFailed" => match role {
                TxRole::StockTake(s, l) => short.push((s.clone(), l.clone())),
                TxRole::StockMove(s, l) => moved.push((s.clone(), l.clone())),
                TxRole::Idempotency => first = Some(StoreError::IdempotencyKeyUsed),
                TxRole::Versioned => {
                    first.get_or_insert(StoreError::StaleVersion);
                }
                TxRole::NewItem => {
                    first.get_or_insert(StoreError::AlreadyExists);
                }
                TxRole::CartConversion => {
                    first.get_or_insert(StoreError::CartConverted);
                }
                TxRole::Other => {
                    first.get_or_insert(StoreError::StaleVersion);
                }
            },
            "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded" => {
                first.get_or_insert(StoreError::Conflict);
            }
            other => {
                first.get_or_insert(StoreError::Dynamo(format!("transaction cancelled: {other}")));
            }
        }
    }
    // A used idempotency key explains everything else; then versions; then stock.
    match first {
        Some(e @ StoreError::IdempotencyKeyUsed) => e,
        Some(e @ (StoreError::StaleVersion | StoreError::AlreadyExists | StoreError::CartConverted)) => e,
        _ if !short.is_empty() => StoreError::OutOfStock(short),
        _ if !moved.is_empty() => StoreError::StockPrecondition(moved),
        Some(e) => e,
        None => StoreError::Conflict,
    }
}
