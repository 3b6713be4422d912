//! Orders: two items per order, the state item (status, payment, reservations, version; GSI1
//! by customer, GSI2 by phase, sharded) and the write-once body (lines, addresses, delivery,
//! totals; GSI3 by e-mail), which only edits and erasure rewrite: a write is billed on
//! the whole item, so status changes no longer pay for the lines. Plus the order's timeline
//! entries, and the payment reference that leads a dispute back to it.

use super::super::cursor::{CursorKind, decode_cursor, encode_cursor, newest_index_entries, page_by_created};
use super::super::item::{Attrs, Item, from_attrs, key_attrs, s};
use super::super::keys;
use super::super::table::{DynamoStore, entity_of};
use super::records::timeline_entries;
use super::{
    ENTITY_CASE, ENTITY_EVENT, ENTITY_ORDER, ENTITY_ORDER_BODY, ENTITY_PAYMENT, ENTITY_RETURN, ENTITY_SHIPMENT,
    ENTITY_TIMELINE,
};
use crate::adapters::dynamo::errors::{mapping, sdk};
use crate::domain::returns::Rma;
use crate::domain::support::Case;
use crate::domain::{CustomerId, Email, Order, OrderId, OrderStatus, Shipment, StoredBody, TimelineEvent};
use crate::ports::{Listing, OrderFile, OrderRepository, OrderView, Page, StoreError};
use crate::retry::{Backoff, retry};
use aws_sdk_dynamodb::types::Select;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub fn order_item(o: &Order) -> Item<&Order> {
    let created = keys::order_created_sk(&o.created_at, &o.id);
    Item::new(keys::order(&o.id), ENTITY_ORDER, o)
        .gsi1(keys::customer_gsi1pk(&o.customer), keys::order_gsi1sk(&o.id))
        .gsi2(keys::order_phase_gsi2pk(o.status, &o.id), created.clone())
        .gsi3(keys::email_gsi3pk(&o.email), created)
}

/// Keys, the phase and customer indexes' keys and bookkeeping: they stay on the state item.
fn structural(name: &str) -> bool {
    matches!(name, "PK" | "SK" | "entity" | "expiresAt") || name.starts_with("GSI1") || name.starts_with("GSI2")
}

/// The e-mail index's keys go with the write-once body: the state item (written by every
/// change, billed per started kilobyte) and the body (written once, in the placement's
/// transaction) each stay under a kilobyte for a typical order.
fn body_index(name: &str) -> bool {
    name.starts_with("GSI3")
}

/// An order's two items: (state, body).
pub fn order_items(o: &Order) -> Result<(Attrs, Attrs), StoreError> {
    let all = order_item(o).to_attrs().map_err(mapping)?;
    let mut state = Attrs::new();
    let mut body = Attrs::new();
    for (k, v) in all {
        if k == "id" {
            body.insert(k.clone(), v.clone());
            state.insert(k, v);
        } else if body_index(&k) {
            body.insert(k, v);
        } else if structural(&k) || Order::STATE_FIELDS.contains(&k.as_str()) {
            state.insert(k, v);
        } else {
            body.insert(k, v);
        }
    }
    // The state names the body it goes with: a read that caught the two items of one change
    // half applied (a query is not a snapshot of a transaction) is detected and read again.
    state.insert(BODY_DIGEST.into(), s(o.body_digest().to_string()));
    let key = keys::order_body(&o.id);
    body.insert(keys::PK.into(), s(key.pk));
    body.insert(keys::SK.into(), s(key.sk));
    body.insert("entity".into(), s(ENTITY_ORDER_BODY));
    Ok((state, body))
}

const BODY_DIGEST: &str = "bodyDigest";

/// An order from its two items, stamped with what was read of its body; `Conflict` when the
/// body is not the one the state was written with (a read between the two items of a commit).
/// An order stored as one item (before the split) reads from that item alone.
pub fn order_from(state: Attrs, body: Option<Attrs>) -> Result<Order, StoreError> {
    let recorded = state.get(BODY_DIGEST).and_then(|v| v.as_s().ok()).cloned();
    // Written when the e-mail index's keys were on the state item: the next write moves them
    // to the body (rewrites it).
    let keys_on_state = state.contains_key(keys::GSI3PK);
    let Some(body) = body else {
        let o = from_attrs::<Order>(state).map_err(|_| StoreError::Conflict)?.data;
        return Ok(o);
    };
    let mut all = body;
    all.extend(state);
    let mut o = from_attrs::<Order>(all).map_err(mapping)?.data;
    let digest = o.body_digest();
    if recorded.is_some_and(|r| r != digest.to_string()) {
        return Err(StoreError::Conflict);
    }
    o.stored_body = StoredBody((!keys_on_state).then_some(digest));
    Ok(o)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRef {
    pub order_id: OrderId,
}

pub fn payment_ref_item<'a>(authorization_id: &str, r: &'a PaymentRef) -> Item<&'a PaymentRef> {
    Item::new(keys::payment(authorization_id), ENTITY_PAYMENT, r)
}

impl DynamoStore {
    /// Orders behind index entries (a state item's or a body's: the customer and phase
    /// indexes are on the state, the e-mail index on the write-once body), in index order: one
    /// batch read of both items per order.
    async fn orders(&self, index_items: Vec<Attrs>) -> Result<Vec<Order>, StoreError> {
        let mut pks: Vec<String> =
            index_items.iter().filter_map(|a| a.get(keys::PK).and_then(|v| v.as_s().ok()).cloned()).collect();
        let mut seen = std::collections::HashSet::new();
        pks.retain(|pk| seen.insert(pk.clone()));
        let wanted: Vec<Attrs> = pks
            .iter()
            .flat_map(|pk| {
                [keys::ORDER_SK, keys::ORDER_BODY_SK].map(|sk| key_attrs(&keys::Key { pk: pk.clone(), sk: sk.into() }))
            })
            .collect();
        let mut states: std::collections::HashMap<String, Attrs> = std::collections::HashMap::new();
        let mut bodies: std::collections::HashMap<String, Attrs> = std::collections::HashMap::new();
        for a in self.batch_get(wanted).await? {
            let Some(pk) = a.get(keys::PK).and_then(|v| v.as_s().ok()).cloned() else { continue };
            match entity_of(&a) {
                ENTITY_ORDER => states.insert(pk, a),
                ENTITY_ORDER_BODY => bodies.insert(pk, a),
                _ => None,
            };
        }
        let mut out = Vec::with_capacity(pks.len());
        for pk in pks {
            // Deleted since the index was read: skipped.
            let Some(st) = states.remove(&pk) else { continue };
            // A pair the eventually consistent reads caught apart: read the order consistently.
            match order_from(st, bodies.remove(&pk)) {
                Ok(o) => out.push(o),
                Err(StoreError::Conflict) => {
                    let id = pk.trim_start_matches("ORDER#");
                    if let Some(o) =
                        self.get_order(&OrderId::parse(id).map_err(|e| StoreError::Mapping(e.to_string()))?).await?
                    {
                        out.push(o);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// An order's view from the items of its partition that were read.
    async fn view_from(&self, id: &OrderId, items: Vec<Attrs>) -> Result<Option<OrderView>, StoreError> {
        let (mut state, mut body) = (None, None);
        let mut shipments = Vec::new();
        let mut timeline = Vec::new();
        for a in items {
            match entity_of(&a) {
                ENTITY_ORDER => state = Some(a),
                ENTITY_ORDER_BODY => body = Some(a),
                ENTITY_SHIPMENT => shipments.push(from_attrs::<Shipment>(a).map_err(mapping)?.data),
                ENTITY_EVENT | ENTITY_TIMELINE => timeline_entries(a, &mut timeline)?,
                _ => {}
            }
        }
        let order = match state.map(|st| order_from(st, body)).transpose() {
            Ok(o) => o,
            // Caught between a commit's items: the order read on its own, consistently.
            Err(StoreError::Conflict) => self.get_order(id).await?,
            Err(e) => return Err(e),
        };
        Ok(order.map(|order| OrderView { order, shipments, timeline }))
    }

    async fn query_orders_index(
        &self,
        index: IndexSpec,
        pk: String,
        bounds: (&str, &str),
        limit: i32,
    ) -> Result<Vec<Attrs>, StoreError> {
        let res = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index.name)
            .key_condition_expression(format!("{} = :pk AND {} BETWEEN :lo AND :hi", index.pk, index.sk))
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":lo", s(bounds.0))
            .expression_attribute_values(":hi", s(bounds.1))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await
            .map_err(sdk)?;
        Ok(res.items.unwrap_or_default())
    }

    /// A page of orders from index partitions sorted by creation (`created#id`), merged
    /// newest first; only the page's orders are read from the table.
    async fn orders_by_created(
        &self,
        index: IndexSpec,
        partitions: Vec<String>,
        l: Listing<'_>,
    ) -> Result<Page<Order>, StoreError> {
        let upper = match l.cursor {
            Some(c) => decode_cursor(c, CursorKind::Created)?,
            None => "9".to_owned(),
        };
        let lower = l.from.map(|f| keys::timestamp(&f)).unwrap_or_else(|| "0".into());
        let mut all = Vec::new();
        for pk in partitions {
            all.extend(self.query_orders_index(index, pk, (&lower, &upper), l.read_limit()).await?);
        }
        let exclude = l.cursor.map(|_| upper.as_str());
        let page = newest_index_entries(all, index.sk, l.limit, exclude);
        Ok(page_by_created(self.orders(page).await?, l.limit, exclude))
    }
}

/// How many index batches one filtered status listing reads at most.
const MAX_FILTERED_BATCHES: usize = 10;

/// An index and its key attributes.
#[derive(Debug, Clone, Copy)]
struct IndexSpec {
    name: &'static str,
    pk: &'static str,
    sk: &'static str,
}

impl IndexSpec {
    const GSI1: IndexSpec = IndexSpec { name: keys::GSI1, pk: keys::GSI1PK, sk: keys::GSI1SK };
    const GSI2: IndexSpec = IndexSpec { name: keys::GSI2, pk: keys::GSI2PK, sk: keys::GSI2SK };
    const GSI3: IndexSpec = IndexSpec { name: keys::GSI3, pk: keys::GSI3PK, sk: keys::GSI3SK };
}

#[async_trait::async_trait]
impl OrderRepository for DynamoStore {
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        // One consistent query reads both items (`ORDER` and `ORDER#BODY`); read again if it
        // caught a commit between them.
        retry(
            Backoff::CONTENTION,
            |e| matches!(e, StoreError::Conflict),
            || async {
                let items =
                    self.query_all("", keys::PK, &keys::order_pk(id), Some((keys::SK, keys::ORDER_SK)), true).await?;
                let (mut state, mut body) = (None, None);
                for a in items {
                    match entity_of(&a) {
                        ENTITY_ORDER => state = Some(a),
                        ENTITY_ORDER_BODY => body = Some(a),
                        _ => {}
                    }
                }
                state.map(|st| order_from(st, body)).transpose()
            },
        )
        .await
    }

    async fn get_order_view(&self, id: &OrderId) -> Result<Option<OrderView>, StoreError> {
        let items = self.query_all("", keys::PK, &keys::order_pk(id), None, true).await?;
        self.view_from(id, items).await
    }

    async fn get_order_file(&self, id: &OrderId) -> Result<Option<OrderFile>, StoreError> {
        // The whole partition in one query: returns and cases are in it with the order.
        let items = self.query_all("", keys::PK, &keys::order_pk(id), None, true).await?;
        let (mut returns, mut cases, mut rest) = (Vec::new(), Vec::new(), Vec::new());
        for a in items {
            match entity_of(&a) {
                ENTITY_RETURN => returns.push(from_attrs::<Rma>(a).map_err(mapping)?.data),
                ENTITY_CASE => cases.push(from_attrs::<Case>(a).map_err(mapping)?.data),
                _ => rest.push(a),
            }
        }
        Ok(self.view_from(id, rest).await?.map(|view| OrderFile { view, returns, cases }))
    }

    async fn get_order_with_shipments(&self, id: &OrderId) -> Result<Option<OrderView>, StoreError> {
        // Sort keys from `ORDER` on: the state, the body, returns and shipments; not the
        // change records (`EVENT#...`) nor cases.
        let items = self.query_all_from(&keys::order_pk(id), keys::ORDER_SK, true).await?;
        self.view_from(id, items).await
    }

    async fn get_order_with_shipments_eventually(&self, id: &OrderId) -> Result<Option<OrderView>, StoreError> {
        // A pair of state and body from different commits is read again consistently
        // (`view_from`), as a torn consistent read is.
        let items = self.query_all_from(&keys::order_pk(id), keys::ORDER_SK, false).await?;
        self.view_from(id, items).await
    }

    async fn orders_of_customer(&self, customer: &CustomerId, l: Listing<'_>) -> Result<Page<Order>, StoreError> {
        let upper = match l.cursor {
            Some(c) => decode_cursor(c, CursorKind::CustomerOrder)?,
            // '~' sorts after every ULID character.
            None => format!("{}~", keys::ORDER_GSI1SK_PREFIX),
        };
        let pk = keys::customer_gsi1pk(customer);
        let bounds = (keys::ORDER_GSI1SK_PREFIX, upper.as_str());
        let items = self.query_orders_index(IndexSpec::GSI1, pk, bounds, l.read_limit()).await?;
        let mut orders: Vec<Order> = self.orders(items).await?;
        // BETWEEN is inclusive: skip the cursor's own item.
        orders.retain(|o| l.cursor.is_none() || keys::order_gsi1sk(&o.id) != upper);
        let limit = usize::try_from(l.limit).unwrap_or(0);
        let next_cursor = (orders.len() > limit).then(|| {
            orders.truncate(limit);
            orders.last().map(|o| encode_cursor(&keys::order_gsi1sk(&o.id)))
        });
        Ok(Page { items: orders, next_cursor: next_cursor.flatten() })
    }

    async fn orders_by_status(&self, status: OrderStatus, l: Listing<'_>) -> Result<Page<Order>, StoreError> {
        let phase = keys::order_phase(status);
        let shards = || (0..keys::STATUS_SHARDS).map(|s| keys::order_phase_gsi2pk_shard(phase, s)).collect();
        if keys::phase_is_one_status(status) {
            return self.orders_by_created(IndexSpec::GSI2, shards(), l).await;
        }
        // The phase's orders newest first, filtered to the status, batch after batch; a page
        // that scanned its budget without filling returns what it found and where it stopped.
        let batch = l.limit.max(50);
        let mut found = Vec::new();
        let mut cursor = l.cursor.map(str::to_owned);
        for _ in 0..MAX_FILTERED_BATCHES {
            let listing = Listing { from: l.from, limit: batch, cursor: cursor.as_deref() };
            let page = self.orders_by_created(IndexSpec::GSI2, shards(), listing).await?;
            let last = page.items.last().map(|o| encode_cursor(&keys::order_created_sk(&o.created_at, &o.id)));
            found.extend(page.items.into_iter().filter(|o| o.status == status));
            let limit = usize::try_from(l.limit).unwrap_or(0);
            if found.len() > limit {
                found.truncate(limit);
                let next = found.last().map(|o| encode_cursor(&keys::order_created_sk(&o.created_at, &o.id)));
                return Ok(Page { items: found, next_cursor: next });
            }
            match page.next_cursor {
                Some(_) => cursor = last,
                None => return Ok(Page { items: found, next_cursor: None }),
            }
        }
        Ok(Page { items: found, next_cursor: cursor })
    }

    async fn all_orders(&self, l: Listing<'_>) -> Result<Page<Order>, StoreError> {
        let shards = keys::ORDER_PHASES
            .iter()
            .flat_map(|p| (0..keys::STATUS_SHARDS).map(move |s| keys::order_phase_gsi2pk_shard(p, s)))
            .collect();
        self.orders_by_created(IndexSpec::GSI2, shards, l).await
    }

    async fn orders_by_email(&self, email: &Email, l: Listing<'_>) -> Result<Page<Order>, StoreError> {
        self.orders_by_created(IndexSpec::GSI3, vec![keys::email_gsi3pk(email)], l).await
    }

    async fn count_orders_by_email_since(&self, email: &Email, since: DateTime<Utc>) -> Result<usize, StoreError> {
        let res = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI3)
            .key_condition_expression("GSI3PK = :pk AND GSI3SK >= :lo")
            .expression_attribute_values(":pk", s(keys::email_gsi3pk(email)))
            .expression_attribute_values(":lo", s(keys::timestamp(&since)))
            .select(Select::Count)
            .send()
            .await
            .map_err(sdk)?;
        Ok(usize::try_from(res.count).unwrap_or(0))
    }

    async fn timeline(&self, order: &OrderId) -> Result<Vec<TimelineEvent>, StoreError> {
        let pk = keys::order_pk(order);
        let mut out = Vec::new();
        for a in self.query_all("", keys::PK, &pk, Some((keys::SK, keys::EVENT_SK_PREFIX)), true).await? {
            timeline_entries(a, &mut out)?;
        }
        Ok(out)
    }

    async fn order_for_payment(&self, authorization_id: &str) -> Result<Option<OrderId>, StoreError> {
        Ok(self.get::<PaymentRef>(&keys::payment(authorization_id), false).await?.map(|i| i.data.order_id))
    }
}
