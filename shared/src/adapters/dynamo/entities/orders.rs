//! Orders: two items per order, the state item (status, payment, reservations, version; GSI1
//! by customer, GSI2 by status sharded, GSI3 by e-mail) and the write-once body (lines,
//! addresses, delivery, totals), which only edits and erasure rewrite: a write is billed on
//! the whole item, so status changes no longer pay for the lines. Plus the order's timeline
//! entries, and the payment reference that leads a dispute back to it.

use super::super::cursor::{decode_cursor, encode_cursor, newest_index_entries, page_by_created};
use super::super::item::{Attrs, Item, from_attrs, key_attrs, s};
use super::super::keys;
use super::super::table::{DynamoStore, entity_of};
use super::{ENTITY_EVENT, ENTITY_ORDER, ENTITY_ORDER_BODY, ENTITY_PAYMENT, ENTITY_SHIPMENT};
use crate::adapters::dynamo::errors::{mapping, sdk};
use crate::domain::{CustomerId, Email, Order, OrderId, OrderStatus, Shipment, StoredBody, TimelineEvent};
use crate::ports::{Listing, OrderRepository, OrderView, Page, StoreError};
use crate::retry::{Backoff, retry};
use aws_sdk_dynamodb::types::Select;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub fn order_item(o: &Order) -> Item<&Order> {
    let created = keys::order_created_sk(&o.created_at, &o.id);
    Item::new(keys::order(&o.id), ENTITY_ORDER, o)
        .gsi1(keys::customer_gsi1pk(&o.customer), keys::order_gsi1sk(&o.id))
        .gsi2(keys::order_status_gsi2pk(o.status, &o.id), created.clone())
        .gsi3(keys::email_gsi3pk(&o.email), created)
}

/// Keys, index keys and bookkeeping: they stay on the state item.
fn structural(name: &str) -> bool {
    matches!(name, "PK" | "SK" | "entity" | "expiresAt") || name.starts_with("GSI")
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
    o.stored_body = StoredBody(Some(digest));
    Ok(o)
}

/// A timeline entry; `seq` (its position in its change, then a ULID) keeps entries at the same
/// instant apart and in the order they were written.
pub fn timeline_item<'a>(order: &OrderId, e: &'a TimelineEvent, seq: &str) -> Item<&'a TimelineEvent> {
    Item::new(keys::timeline_event(order, &e.at, seq), ENTITY_EVENT, e)
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
    /// Orders behind index entries (their state items), with their bodies, in index order.
    async fn orders(&self, index_items: Vec<Attrs>) -> Result<Vec<Order>, StoreError> {
        let states = self.hydrate(index_items).await?;
        let body_keys: Vec<Attrs> = states
            .iter()
            .filter_map(|a| a.get(keys::PK).and_then(|v| v.as_s().ok()))
            .map(|pk| key_attrs(&keys::Key { pk: pk.clone(), sk: keys::ORDER_BODY_SK.into() }))
            .collect();
        let mut bodies: std::collections::HashMap<String, Attrs> = self
            .batch_get(body_keys)
            .await?
            .into_iter()
            .filter_map(|a| Some((a.get(keys::PK)?.as_s().ok()?.clone(), a)))
            .collect();
        let mut out = Vec::with_capacity(states.len());
        for st in states {
            let pk = st.get(keys::PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
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
            Some(c) => decode_cursor(c, "2")?,
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
        let (mut state, mut body) = (None, None);
        let mut shipments = Vec::new();
        let mut timeline = Vec::new();
        for a in items {
            match entity_of(&a) {
                ENTITY_ORDER => state = Some(a),
                ENTITY_ORDER_BODY => body = Some(a),
                ENTITY_SHIPMENT => shipments.push(from_attrs::<Shipment>(a).map_err(mapping)?.data),
                ENTITY_EVENT => timeline.push(from_attrs::<TimelineEvent>(a).map_err(mapping)?.data),
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

    async fn orders_of_customer(&self, customer: &CustomerId, l: Listing<'_>) -> Result<Page<Order>, StoreError> {
        let upper = match l.cursor {
            Some(c) => decode_cursor(c, keys::ORDER_GSI1SK_PREFIX)?,
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
        let shards = (0..keys::STATUS_SHARDS).map(|s| keys::order_status_gsi2pk_shard(status, s)).collect();
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
        Self::all(self.query_all("", keys::PK, &pk, Some((keys::SK, keys::EVENT_SK_PREFIX)), true).await?)
    }

    async fn order_for_payment(&self, authorization_id: &str) -> Result<Option<OrderId>, StoreError> {
        Ok(self.get::<PaymentRef>(&keys::payment(authorization_id), false).await?.map(|i| i.data.order_id))
    }
}
