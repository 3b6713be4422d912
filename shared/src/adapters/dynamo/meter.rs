//! The capacity meter for benchmarks: an SDK interceptor attached to the DynamoDB client
//! (`aws::dynamodb_client_metered`), never code in the production request path. It asks every
//! request for its consumed capacity and adds it up, with writes broken down by kind. With a
//! billing model loaded it bills transactions from item images as AWS does, because DynamoDB
//! Local's figures for `TransactWriteItems` do not follow the billing rules (see `billing`);
//! the images come from the writes it has seen, so a benchmark meters from an empty table.

use super::billing::{Action, Image, IndexModel, Projected, TableModel};
use super::keys::{self, Key};
use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
    BeforeSerializationInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::{
    batch_get_item::{BatchGetItemInput, BatchGetItemOutput},
    delete_item::{DeleteItemInput, DeleteItemOutput},
    get_item::{GetItemInput, GetItemOutput},
    put_item::{PutItemInput, PutItemOutput},
    query::{QueryInput, QueryOutput},
    transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput},
    update_item::{UpdateItemInput, UpdateItemOutput},
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ProjectionType, ReturnConsumedCapacity};
use aws_smithy_runtime_api::client::interceptors::context::Input;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Counts read and write capacity units consumed (thousandths).
#[derive(Debug, Default)]
pub struct CapacityMeter {
    read_milli: AtomicU64,
    write_milli: AtomicU64,
    writes_by_kind: Mutex<BTreeMap<String, (u64, u64)>>,
    reads_by_kind: Mutex<BTreeMap<String, (u64, u64)>>,
    billing: OnceLock<TableModel>,
    images: Mutex<HashMap<Key, Image>>,
    local_reported_tx_milli: AtomicU64,
}

impl CapacityMeter {
    fn add_write(&self, kind: String, milli: u64) {
        self.write_milli.fetch_add(milli, Ordering::Relaxed);
        count(&self.writes_by_kind, kind, milli);
    }
    fn add_read(&self, kind: String, milli: u64) {
        self.read_milli.fetch_add(milli, Ordering::Relaxed);
        count(&self.reads_by_kind, kind, milli);
    }
    /// Read requests and read milli-units so far, by kind (`get ORDER`, `query GSI1 CUSTOMER`).
    pub fn reads_by_kind(&self) -> BTreeMap<String, (u64, u64)> {
        self.reads_by_kind.lock().map(|m| m.clone()).unwrap_or_default()
    }
    /// (read, write) capacity units consumed so far, in thousandths.
    pub fn milli_units(&self) -> (u64, u64) {
        (self.read_milli.load(Ordering::Relaxed), self.write_milli.load(Ordering::Relaxed))
    }
    /// Write requests and write milli-units so far, by kind (`single put ORDER`, `tx[...]`).
    pub fn writes_by_kind(&self) -> BTreeMap<String, (u64, u64)> {
        self.writes_by_kind.lock().map(|m| m.clone()).unwrap_or_default()
    }
    /// Write milli-units DynamoDB Local reported for transactions that were billed from images.
    pub fn local_reported_tx_milli(&self) -> u64 {
        self.local_reported_tx_milli.load(Ordering::Relaxed)
    }
    /// Bills transactions from images from now on.
    pub fn bill_transactions_exactly(&self, model: TableModel) {
        let _ = self.billing.set(model);
    }
    pub fn billing_model(&self) -> Option<&TableModel> {
        self.billing.get()
    }
    fn remember(&self, key: Key, image: Option<Image>) {
        if self.billing.get().is_none() {
            return;
        }
        if let Ok(mut m) = self.images.lock() {
            match image {
                Some(i) => m.insert(key, i),
                None => m.remove(&key),
            };
        }
    }
    fn image(&self, key: &Key) -> Option<Image> {
        self.images.lock().ok().and_then(|m| m.get(key).cloned())
    }
}

/// One more request of a kind, with its milli-units.
fn count(by_kind: &Mutex<BTreeMap<String, (u64, u64)>>, kind: String, milli: u64) {
    if let Ok(mut m) = by_kind.lock() {
        let e = m.entry(kind).or_default();
        e.0 += 1;
        e.1 += milli;
    }
}

/// The billing model of a live table (its key attributes and index projections).
pub async fn billing_model(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<TableModel, BoxError> {
    let out = client.describe_table().table_name(table).send().await?;
    let t = out.table().ok_or("no such table")?;
    let names = |ks: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Vec<String> {
        ks.iter().map(|k| k.attribute_name().to_owned()).collect()
    };
    Ok(TableModel {
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
    })
}

/// The interceptor that feeds a `CapacityMeter`.
#[derive(Debug, Clone)]
pub struct MeterInterceptor(pub Arc<CapacityMeter>);

/// Capacity units arrive from the SDK as floating point (its type): they become integer
/// milli-units here, at the boundary, and nothing else in the meter is a float.
fn milli(units: Option<f64>) -> u64 {
    units.map(|v| (v * 1000.0).round().max(0.0) as u64).unwrap_or(0)
}

fn key_of(a: &Image) -> Option<Key> {
    Some(Key { pk: a.get(keys::PK)?.as_s().ok()?.clone(), sk: a.get(keys::SK)?.as_s().ok()?.clone() })
}

fn kind_of(a: &Image) -> String {
    a.get(keys::SK)
        .and_then(|v| v.as_s().ok())
        .map(|sk| sk.split('#').next().unwrap_or(sk).to_owned())
        .unwrap_or_default()
}

/// What a write request will do, captured before it runs.
#[derive(Debug, Clone)]
struct PendingWrite {
    kind: String,
    /// (key, action, image before, image after)
    items: Vec<(Key, Action, Option<Image>, Option<Image>)>,
}

impl Storable for PendingWrite {
    type Storer = StoreReplace<Self>;
}

/// What a read request is, captured before it runs.
#[derive(Debug, Clone)]
struct PendingRead(String);

impl Storable for PendingRead {
    type Storer = StoreReplace<Self>;
}

fn prefix(s: &str) -> &str {
    s.split('#').next().unwrap_or(s)
}

fn read_kind(i: &Input) -> Option<String> {
    if let Some(g) = i.downcast_ref::<GetItemInput>() {
        let key = key_of(g.key()?)?;
        return Some(format!("get {}", prefix(&key.sk)));
    }
    if let Some(q) = i.downcast_ref::<QueryInput>() {
        let pk = q.expression_attribute_values().and_then(|v| v.get(":pk")).and_then(|v| v.as_s().ok());
        let sk = q
            .expression_attribute_values()
            .and_then(|v| v.get(":sk").or_else(|| v.get(":lo")))
            .and_then(|v| v.as_s().ok());
        return Some(format!(
            "query {} {} {}",
            q.index_name().unwrap_or("table"),
            pk.map(|p| prefix(p)).unwrap_or("?"),
            sk.map(|p| prefix(p)).unwrap_or("")
        ));
    }
    if let Some(b) = i.downcast_ref::<BatchGetItemInput>() {
        let mut kinds: Vec<String> = b
            .request_items()?
            .values()
            .flat_map(|k| k.keys().iter().filter_map(key_of).map(|k| prefix(&k.sk).to_owned()))
            .collect();
        kinds.sort();
        kinds.dedup();
        return Some(format!("batchget {}", kinds.join(",")));
    }
    None
}

impl MeterInterceptor {
    fn pending(&self, i: &Input) -> Option<PendingWrite> {
        let m = &self.0;
        if let Some(t) = i.downcast_ref::<TransactWriteItemsInput>() {
            let mut kinds = Vec::new();
            let mut items = Vec::new();
            for it in t.transact_items() {
                let (verb, key, after, action) = if let Some(p) = it.put() {
                    ("put", key_of(p.item())?, Some(p.item().clone()), Action::Write)
                } else if let Some(u) = it.update() {
                    let k = key_of(u.key())?;
                    let img = m.image(&k);
                    ("update", k, img, Action::Write)
                } else if let Some(d) = it.delete() {
                    ("delete", key_of(d.key())?, None, Action::Write)
                } else {
                    let c = it.condition_check()?;
                    let k = key_of(c.key())?;
                    let img = m.image(&k);
                    ("check", k, img, Action::Check)
                };
                kinds.push(format!("{verb} {}", key.sk.split('#').next().unwrap_or("")));
                let before = m.image(&key);
                items.push((key, action, before, after));
            }
            kinds.sort();
            return Some(PendingWrite { kind: format!("tx[{}]", kinds.join(", ")), items });
        }
        if let Some(p) = i.downcast_ref::<PutItemInput>() {
            let img = p.item()?.clone();
            let key = key_of(&img)?;
            return Some(PendingWrite {
                kind: format!("single put {}", kind_of(&img)),
                items: vec![(key, Action::Write, None, Some(img))],
            });
        }
        if let Some(d) = i.downcast_ref::<DeleteItemInput>() {
            let key = key_of(d.key()?)?;
            return Some(PendingWrite {
                kind: format!("single delete {}", key.sk.split('#').next().unwrap_or("")),
                items: vec![(key, Action::Write, None, None)],
            });
        }
        if let Some(u) = i.downcast_ref::<UpdateItemInput>() {
            let key = key_of(u.key()?)?;
            return Some(PendingWrite {
                kind: format!("single update {}", key.sk.split('#').next().unwrap_or("")),
                items: vec![],
            });
        }
        None
    }
}

/// Asks every request for its consumed capacity.
fn set_total(i: &mut Input) {
    macro_rules! total {
        ($($t:ty),+) => {
            $(if let Some(x) = i.downcast_mut::<$t>() {
                x.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
                return;
            })+
        };
    }
    total!(
        GetItemInput,
        PutItemInput,
        UpdateItemInput,
        DeleteItemInput,
        QueryInput,
        BatchGetItemInput,
        TransactWriteItemsInput
    );
}

/// The write milli-units a single-item write output reports.
fn single_write(out: &aws_smithy_runtime_api::client::interceptors::context::Output) -> Option<u64> {
    macro_rules! units {
        ($($t:ty),+) => {
            $(if let Some(o) = out.downcast_ref::<$t>() {
                return Some(milli(o.consumed_capacity().and_then(|c| c.capacity_units())));
            })+
        };
    }
    units!(PutItemOutput, DeleteItemOutput, UpdateItemOutput);
    None
}

impl Intercept for MeterInterceptor {
    fn name(&self) -> &'static str {
        "capacity-meter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        set_total(context.input_mut());
        Ok(())
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(p) = self.pending(context.input()) {
            cfg.interceptor_state().store_put(p);
        }
        if let Some(k) = read_kind(context.input()) {
            cfg.interceptor_state().store_put(PendingRead(k));
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(out) = context.output_or_error() else { return Ok(()) };
        let m = &self.0;
        let kind = cfg.load::<PendingRead>().map(|k| k.0.clone()).unwrap_or_default();
        let read = |c: Option<&ConsumedCapacity>| {
            if let Some(c) = c {
                m.add_read(kind.clone(), milli(c.capacity_units()));
            }
        };
        if let Some(o) = out.downcast_ref::<GetItemOutput>() {
            read(o.consumed_capacity());
        } else if let Some(o) = out.downcast_ref::<QueryOutput>() {
            read(o.consumed_capacity());
        } else if let Some(o) = out.downcast_ref::<BatchGetItemOutput>() {
            o.consumed_capacity().iter().for_each(|c| read(Some(c)));
        }
        let Some(p) = cfg.load::<PendingWrite>().cloned() else { return Ok(()) };
        let reported: u64 = if let Some(o) = out.downcast_ref::<TransactWriteItemsOutput>() {
            o.consumed_capacity().iter().map(|c| milli(c.capacity_units())).sum()
        } else if let Some(units) = single_write(out) {
            units
        } else {
            return Ok(());
        };
        let exact = out.downcast_ref::<TransactWriteItemsOutput>().is_some() && m.billing.get().is_some();
        let total = match m.billing.get() {
            Some(model) if exact => {
                m.local_reported_tx_milli.fetch_add(reported, Ordering::Relaxed);
                p.items.iter().map(|(_, a, b, after)| model.write_units(*a, b.as_ref(), after.as_ref(), 2)).sum::<u64>()
                    * 1000
            }
            _ => reported,
        };
        m.add_write(p.kind, total);
        for (key, action, _, after) in p.items {
            if action == Action::Write {
                m.remember(key, after);
            }
        }
        Ok(())
    }
}
