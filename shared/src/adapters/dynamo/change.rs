//! The one write path: an `OrderChange` becomes one `TransactWriteItems` whose conditions are
//! the change's (order and entity versions, new items absent, stock guards, idempotency key,
//! cart version, provider event unseen), with its record (timeline entries and the effects to
//! run after it) inside; a change with more stock
//! items than one transaction holds is split safely (`parts`). Documents (label PDFs)
//! are written first on their own: write-once, keyed by what they belong to, and unreferenced
//! until the transaction commits.

use super::entities::carts::cart_item;
use super::entities::cases::case_item;
use super::entities::dedupe::{WEBHOOK_TTL_DAYS, idempotency_item, webhook_item};
use super::entities::orders::{PaymentRef, order_items, payment_ref_item};
use super::entities::records::{ChangeRecord, change_record_id, change_record_item};
use super::entities::returns::{return_label_item, rma_item};
use super::entities::shipments::{label_item, shipment_item};
use super::errors::TxRole;
use super::item::Item;
use super::parts::{MAX_OTHER_ITEMS, MAX_TX_ITEMS};
use super::table::DynamoStore;
use super::tx::TxOp;
use crate::domain::{Order, OrderChange, OrderId, Write};
use crate::ports::{OrderChanges, StoreError};
use crate::retry::{Backoff, retry};
use serde::Serialize;

impl DynamoStore {
    fn write_op<T, F>(&self, w: &Write<T>, item: F) -> Result<TxOp, StoreError>
    where
        F: Fn(&T) -> Item<&T>,
        for<'a> &'a T: Serialize,
    {
        match w {
            Write::Create(v) => self.put_new(&item(v)),
            Write::Update { value, expected_version } => self.put_versioned(&item(value), *expected_version),
            Write::Replace(v) => self.put_plain(&item(v)),
        }
    }

    /// An order write: its state item always (under the change's condition), its body when
    /// new or touched by the change.
    fn order_ops(&self, w: &Write<Order>) -> Result<Vec<TxOp>, StoreError> {
        let o = w.value();
        let (state, body) = order_items(o)?;
        Ok(match w {
            Write::Create(_) => vec![
                self.put_attrs_op(state, Some(("attribute_not_exists(PK)", 0)), TxRole::NewItem)?,
                self.put_attrs_op(body, Some(("attribute_not_exists(PK)", 0)), TxRole::NewItem)?,
            ],
            Write::Update { expected_version, .. } => {
                let mut ops =
                    vec![self.put_attrs_op(state, Some(("version", *expected_version)), TxRole::Versioned)?];
                if o.body_changed() {
                    ops.push(self.put_attrs_op(body, None, TxRole::Other)?);
                }
                ops
            }
            Write::Replace(_) => {
                vec![self.put_attrs_op(state, None, TxRole::Other)?, self.put_attrs_op(body, None, TxRole::Other)?]
            }
        })
    }

    fn change_ops(&self, change: &OrderChange, order_id: Option<&OrderId>) -> Result<Vec<TxOp>, StoreError> {
        let mut ops = Vec::new();
        if let Some(w) = &change.order {
            ops.extend(self.order_ops(w)?);
        }
        for w in &change.shipments {
            ops.push(self.write_op(w, shipment_item)?);
        }
        for w in &change.returns {
            ops.push(self.write_op(w, rma_item)?);
        }
        for w in &change.cases {
            ops.push(self.write_op(w, case_item)?);
        }
        if let Some((customer, key, record)) = &change.idempotency {
            ops.push(self.put_claim(&idempotency_item(customer, key, record), TxRole::Idempotency)?);
        }
        if let Some((cart, expected)) = &change.cart {
            let mut op = self.put_versioned(&cart_item(cart), *expected)?;
            op.role = TxRole::CartConversion;
            ops.push(op);
        }
        if let Some(w) = &change.feedback {
            ops.push(self.write_op(w, super::entities::feedback::feedback_item)?);
        }
        if let Some(w) = &change.company {
            ops.push(self.write_op(w, super::entities::companies::company_item)?);
        }
        for u in &change.promotion_uses {
            ops.extend(self.promotion_use_ops(u)?);
        }
        for b in &crate::domain::service::net(&change.slot_bookings) {
            ops.push(self.slot_booking_op(b)?);
        }
        if let Some(w) = &change.approval {
            ops.push(self.write_op(w, super::entities::promotions::approval_item)?);
        }
        for d in &change.documents {
            ops.extend(self.document_ops(d)?);
        }
        if let Some(ev) = &change.provider_event {
            let item = webhook_item(&ev.provider, &ev.event_id, self.clock.now(), WEBHOOK_TTL_DAYS);
            ops.push(self.put_claim(&item, TxRole::ProviderEvent)?);
        }
        if !change.timeline.is_empty() || !change.effects.is_empty() {
            let order_id = order_id.ok_or(StoreError::Mapping("timeline entries and effects need an order".into()))?;
            // One record per change: its entries in the order they were written and its effects
            // (pending in the outbox index until dispatched).
            let now = self.clock.now();
            let at = change.timeline.first().map(|e| e.at).unwrap_or(now);
            let record = ChangeRecord::of(change, now);
            let id = change_record_id(&at, &ulid::Ulid::new().to_string());
            ops.push(self.put_new(&change_record_item(order_id, &record, &id))?);
        }
        Ok(ops)
    }
}

#[async_trait::async_trait]
impl OrderChanges for DynamoStore {
    #[tracing::instrument(skip_all, fields(order_id = ?change.order_id))]
    async fn commit(&self, change: &OrderChange) -> Result<(), StoreError> {
        let order_id = change.order_id.clone().or_else(|| change.next_order().map(|o| o.id.clone()));
        for l in &change.labels {
            self.put_item(&label_item(l)).await?;
        }
        for (id, doc) in &change.return_labels {
            let order_id = order_id.as_ref().ok_or(StoreError::Mapping("a return label needs an order".into()))?;
            self.put_item(&return_label_item(order_id, id, doc)).await?;
        }
        // Payment references are lookups (authorization -> order), write-once and harmless if
        // the change is refused (the step voids that authorization): put first, on their own,
        // at single-write price, like documents.
        if !change.payment_refs.is_empty() {
            let order_id = order_id.as_ref().ok_or(StoreError::Mapping("a payment reference needs an order".into()))?;
            if change.payment_refs.len() > MAX_OTHER_ITEMS {
                return Err(StoreError::TooLarge(change.payment_refs.len()));
            }
            for auth in &change.payment_refs {
                self.put_item(&payment_ref_item(auth, &PaymentRef { order_id: order_id.clone() })).await?;
            }
        }
        let mut ops = self.change_ops(change, order_id.as_ref())?;
        if ops.len() > MAX_OTHER_ITEMS {
            return Err(StoreError::TooLarge(ops.len()));
        }
        let deltas = change.stock_deltas();
        if ops.len() + deltas.len() > MAX_TX_ITEMS {
            let order_id = order_id.as_ref().ok_or(StoreError::TooLarge(ops.len() + deltas.len()))?;
            return self.commit_in_parts(ops, deltas, order_id).await;
        }
        for d in &deltas {
            ops.push(self.stock_update(d)?);
        }
        let items: Vec<_> = ops.iter().map(|o| (o.item.clone(), o.role.clone())).collect();
        retry(Backoff::CONTENTION, StoreError::is_retryable, || {
            let ops = items.iter().map(|(item, role)| TxOp { item: item.clone(), role: role.clone() }).collect();
            self.transact(ops)
        })
        .await
    }

    async fn finish_interrupted(&self, older_than: chrono::DateTime<chrono::Utc>) -> Result<usize, StoreError> {
        self.finish_interrupted_parts(older_than).await
    }
}
