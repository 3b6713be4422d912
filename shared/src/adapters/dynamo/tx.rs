//! Transaction items and `TransactWriteItems`, with each item's role so a cancellation maps to
//! the refusal it stands for.

use super::errors::{TxRole, map_cancellation, mapping, sdk};
use super::item::{Attrs, Item, key_attrs, n};
use super::keys::{self, Key};
use super::table::DynamoStore;
use crate::domain::StockDelta;
use crate::ports::StoreError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{CancellationReason, Delete, Put, TransactWriteItem, Update};
use serde::Serialize;

/// One write inside a transaction.
pub struct TxOp {
    pub item: TransactWriteItem,
    pub role: TxRole,
}

fn built<T>(r: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Unavailable(e.to_string()))
}

impl DynamoStore {
    fn put_op<T: Serialize>(
        &self,
        item: &Item<T>,
        condition: Option<(&str, u64)>,
        role: TxRole,
    ) -> Result<TxOp, StoreError> {
        self.put_attrs_op(item.to_attrs().map_err(mapping)?, condition, role)
    }

    /// A put of an item already mapped to attributes, under a condition (`("version", v)`:
    /// the stored version is `v`; any other text: that condition expression).
    pub fn put_attrs_op(&self, attrs: Attrs, condition: Option<(&str, u64)>, role: TxRole) -> Result<TxOp, StoreError> {
        let mut p = Put::builder().table_name(&self.table).set_item(Some(attrs));
        match condition {
            Some(("version", v)) => {
                p = p.condition_expression("version = :v").expression_attribute_values(":v", n(v));
            }
            Some((expr, _)) => p = p.condition_expression(expr),
            None => {}
        }
        Ok(TxOp { item: TransactWriteItem::builder().put(built(p.build())?).build(), role })
    }

    /// A new item: refused when one exists under the key.
    pub fn put_new<T: Serialize>(&self, item: &Item<T>) -> Result<TxOp, StoreError> {
        self.put_op(item, Some(("attribute_not_exists(PK)", 0)), TxRole::NewItem)
    }

    /// A new item whose existence means the change already happened (idempotency key, event id).
    pub fn put_claim<T: Serialize>(&self, item: &Item<T>, role: TxRole) -> Result<TxOp, StoreError> {
        self.put_op(item, Some(("attribute_not_exists(PK)", 0)), role)
    }

    /// The first item of a sequence (a document series): refused, as a stale read, when one
    /// exists.
    pub fn put_first<T: Serialize>(&self, item: &Item<T>) -> Result<TxOp, StoreError> {
        self.put_op(item, Some(("attribute_not_exists(PK)", 0)), TxRole::Versioned)
    }

    pub fn put_plain<T: Serialize>(&self, item: &Item<T>) -> Result<TxOp, StoreError> {
        self.put_op(item, None, TxRole::Other)
    }

    /// Put guarded by `version = :expected` (optimistic concurrency).
    pub fn put_versioned<T: Serialize>(&self, item: &Item<T>, expected_version: u64) -> Result<TxOp, StoreError> {
        self.put_op(item, Some(("version", expected_version)), TxRole::Versioned)
    }

    pub fn delete_op(&self, key: &Key) -> Result<TxOp, StoreError> {
        let d = Delete::builder().table_name(&self.table).set_key(Some(key_attrs(key)));
        Ok(TxOp { item: TransactWriteItem::builder().delete(built(d.build())?).build(), role: TxRole::Other })
    }

    /// The conditional update for one stock item's net delta: every counter it lowers must
    /// stay at or above zero, and the item must exist.
    pub fn stock_update(&self, d: &StockDelta) -> Result<TxOp, StoreError> {
        let l = d.delta;
        let fields = [("onHand", l.on_hand), ("available", l.available), ("held", l.held), ("allocated", l.allocated)];
        let mut u = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(&keys::stock_shard(&d.sku, &d.location_id, d.shard))))
            .update_expression(
                "SET onHand = onHand + :d0, available = available + :d1, held = held + :d2, \
                 allocated = allocated + :d3, version = version + :one",
            )
            .expression_attribute_values(":one", n(1));
        let mut condition = vec!["attribute_exists(PK)".to_owned()];
        for (i, (name, delta)) in fields.iter().enumerate() {
            u = u.expression_attribute_values(format!(":d{i}"), n(delta));
            if *delta < 0 {
                // A hold leaves the safety stock kept back from its channel.
                let least = if *name == "available" { d.available_needed() } else { -delta };
                condition.push(format!("{name} >= :m{i}"));
                u = u.expression_attribute_values(format!(":m{i}"), n(least));
            }
        }
        let u = u.condition_expression(condition.join(" AND "));
        let role = if d.takes_available {
            TxRole::StockTake(d.sku.clone(), d.location_id.clone())
        } else {
            TxRole::StockMove(d.sku.clone(), d.location_id.clone())
        };
        Ok(TxOp { item: TransactWriteItem::builder().update(built(u.build())?).build(), role })
    }

    /// One conditional put on its own; a failed condition maps by the item's role, as in a
    /// transaction.
    async fn put_alone(&self, op: TxOp) -> Result<(), StoreError> {
        let p = op.item.put.ok_or(StoreError::Mapping("not a put".into()))?;
        let res = self
            .client
            .put_item()
            .table_name(p.table_name)
            .set_item(Some(p.item))
            .set_condition_expression(p.condition_expression)
            .set_expression_attribute_names(p.expression_attribute_names)
            .set_expression_attribute_values(p.expression_attribute_values)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {
                let reason = CancellationReason::builder().code("ConditionalCheckFailed").build();
                Err(map_cancellation(&[op.role], &[reason]))
            }
            Err(e) => Err(sdk(e)),
        }
    }

    /// Runs a transaction, mapping cancellation reasons to domain errors by each item's role.
    pub async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        if ops.len() > 100 {
            return Err(StoreError::TooLarge(ops.len()));
        }
        if ops.is_empty() {
            return Ok(());
        }
        // One item needs no transaction: the same put under the same condition, billed once
        // instead of twice (prepare and commit).
        let ops = match <[TxOp; 1]>::try_from(ops) {
            Ok([op]) if op.item.put().is_some() => return self.put_alone(op).await,
            Ok([op]) => vec![op],
            Err(ops) => ops,
        };
        let roles: Vec<TxRole> = ops.iter().map(|o| o.role.clone()).collect();
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(ops.into_iter().map(|o| o.item).collect()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) => {
                let reasons = e.as_service_error().and_then(|se| match se {
                    TransactWriteItemsError::TransactionCanceledException(tc) => {
                        Some(tc.cancellation_reasons().to_vec())
                    }
                    _ => None,
                });
                match reasons {
                    Some(r) => Err(map_cancellation(&roles, &r)),
                    None => Err(sdk(e)),
                }
            }
        }
    }
}
