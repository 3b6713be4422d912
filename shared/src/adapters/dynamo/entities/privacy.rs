//! Erasure around an order: every item of the order's partition (its timeline, shipments,
//! returns, cases, outbox) has the personal strings it quotes replaced; label documents, which
//! print the address, are deleted. The order's own items are written by the one write path.

use super::super::item::Attrs;
use super::super::keys;
use super::super::table::{Condition, DynamoStore, entity_of, table_key};
use super::{ENTITY_LABEL, ENTITY_ORDER, ENTITY_ORDER_BODY, ENTITY_RETURN_LABEL};
use crate::domain::privacy::scrub;
use crate::domain::{CustomerId, OrderId};
use crate::ports::{PersonalData, StoreError};
use aws_sdk_dynamodb::types::AttributeValue;

/// Attributes that are keys or bookkeeping, never personal text.
fn structural(name: &str) -> bool {
    matches!(name, "PK" | "SK" | "entity" | "ttl") || name.starts_with("GSI")
}

fn scrub_value(v: &mut AttributeValue, needles: &[String]) -> bool {
    match v {
        AttributeValue::S(s) => match scrub(s, needles) {
            Some(clean) => {
                *s = clean;
                true
            }
            None => false,
        },
        AttributeValue::L(items) => items.iter_mut().fold(false, |c, x| scrub_value(x, needles) | c),
        AttributeValue::M(m) => m.values_mut().fold(false, |c, x| scrub_value(x, needles) | c),
        _ => false,
    }
}

/// Scrubs an item's text attributes; whether any changed.
fn scrub_item(a: &mut Attrs, needles: &[String]) -> bool {
    a.iter_mut().filter(|(k, _)| !structural(k)).fold(false, |c, (_, v)| scrub_value(v, needles) | c)
}

impl DynamoStore {
    /// Scrubs one item and writes it back on condition its index keys are still the ones read:
    /// a change record deferred into the outbox index meanwhile keeps its place (read again).
    async fn scrub_one(&self, mut a: Attrs, needles: &[String]) -> Result<bool, StoreError> {
        for attempt in 0..3 {
            if !scrub_item(&mut a, needles) {
                return Ok(false);
            }
            // Every write to a deferral moves `rev`: a deferral or the drain's progress meanwhile is not undone.
            let condition = match (a.get(keys::GSI2PK), a.get("rev")) {
                (Some(v), Some(rev)) => Condition::new("GSI2PK = :gsi2pk AND rev = :rev")
                    .value(":gsi2pk", v.clone())
                    .value(":rev", rev.clone()),
                (Some(v), None) => {
                    Condition::new("GSI2PK = :gsi2pk AND attribute_not_exists(rev)").value(":gsi2pk", v.clone())
                }
                (None, Some(rev)) => {
                    Condition::new("attribute_not_exists(GSI2PK) AND rev = :rev").value(":rev", rev.clone())
                }
                (None, None) => Condition::new("attribute_not_exists(GSI2PK) AND attribute_not_exists(rev)"),
            };
            match self.put(a.clone(), condition).await {
                Ok(()) => return Ok(true),
                Err(StoreError::StaleVersion) if attempt < 2 => {
                    let Some(k) = table_key(&a) else { return Ok(false) };
                    match self.get_attrs(&k, true).await? {
                        Some(fresh) => a = fresh,
                        None => return Ok(false),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }
}

#[async_trait::async_trait]
impl PersonalData for DynamoStore {
    async fn scrub_order_records(&self, order: &OrderId, needles: &[String]) -> Result<usize, StoreError> {
        let items = self.query_all("", keys::PK, &keys::order_pk(order), None, true).await?;
        let mut changed = 0;
        for a in items {
            match entity_of(&a) {
                ENTITY_ORDER | ENTITY_ORDER_BODY => {}
                ENTITY_LABEL | ENTITY_RETURN_LABEL => {
                    if let Some(k) = table_key(&a) {
                        self.delete(&k).await?;
                        changed += 1;
                    }
                }
                _ => changed += usize::from(self.scrub_one(a, needles).await?),
            }
        }
        Ok(changed)
    }

    async fn rewrite_idempotency(&self, customer: &CustomerId, key: &str, response: &str) -> Result<bool, StoreError> {
        let Some(mut a) = self.get_attrs(&keys::idempotency(customer, key), true).await? else {
            return Ok(false);
        };
        a.insert("response".into(), AttributeValue::S(response.to_owned()));
        self.put(a, Condition::default()).await?;
        Ok(true)
    }
}
