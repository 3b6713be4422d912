//! Promotions (`PROMO#<id> / PROMO`, listed under GSI1 `PROMOTIONS`, read through the catalog
//! cache), their use counters (`PROMO#<id> / USES` and `/ USES#<customer>`: one item per
//! promotion is the lock every redemption goes through, whatever code it was entered with), and
//! adjustment approvals (`APPROVAL#<id> / APPROVAL`, listed under GSI1 `APPROVALS#<status>`).

use super::super::cache;
use super::super::errors::TxRole;
use super::super::item::{Item, key_attrs, n, s};
use super::super::keys::Key;
use super::super::table::DynamoStore;
use super::super::tx::TxOp;
use super::{ENTITY_APPROVAL, ENTITY_PROMOTION, ENTITY_PROMOTION_CODE, ENTITY_PROMOTION_USES};
use crate::adapters::dynamo::errors::mapping;
use crate::domain::CustomerId;
use crate::domain::adjustment::{Approval, ApprovalStatus};
use crate::domain::promotion::{Promotion, PromotionUse};
use crate::ports::{PromotionRepository, StoreError};
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};

const PROMOTIONS_GSI1PK: &str = "PROMOTIONS";
const CACHE_KEY: &str = "promotions";

pub fn promotion_key(id: &str) -> Key {
    Key { pk: format!("PROMO#{id}"), sk: "PROMO".into() }
}

fn code_key(code: &str) -> Key {
    Key { pk: format!("PROMOCODE#{code}"), sk: "CODE".into() }
}

fn uses_key(id: &str, customer: Option<&CustomerId>) -> Key {
    let sk = match customer {
        Some(c) => format!("USES#{c}"),
        None => "USES".into(),
    };
    Key { pk: format!("PROMO#{id}"), sk }
}

pub fn promotion_item(p: &Promotion) -> Item<&Promotion> {
    Item::new(promotion_key(&p.id), ENTITY_PROMOTION, p).gsi1(PROMOTIONS_GSI1PK.into(), format!("PROMO#{}", p.id))
}

pub fn approval_item(a: &Approval) -> Item<&Approval> {
    let status = serde_json::to_value(a.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    Item::new(Key { pk: format!("APPROVAL#{}", a.id), sk: "APPROVAL".into() }, ENTITY_APPROVAL, a)
        .gsi1(format!("APPROVALS#{status}"), format!("{}#{}", a.created_at.to_rfc3339(), a.id))
}

impl DynamoStore {
    /// The counter updates of one use: the promotion's and the customer's, each refused past
    /// its limit (a release has no condition: it only gives back what a hold took).
    pub(in crate::adapters::dynamo) fn promotion_use_ops(&self, u: &PromotionUse) -> Result<Vec<TxOp>, StoreError> {
        if u.delta > 0 && (u.limit == Some(0) || u.per_customer_limit == Some(0)) {
            return Err(StoreError::PromotionExhausted(u.promotion_id.clone()));
        }
        let mut ops = Vec::new();
        for (customer, limit) in [(None, u.limit), (Some(&u.customer), u.per_customer_limit)] {
            // The customer's counter moves with every use (a limit set later counts the uses
            // before it; a release gives back exactly what a hold took).
            let mut b = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key_attrs(&uses_key(&u.promotion_id, customer))))
                .update_expression("SET uses = if_not_exists(uses, :zero) + :d, entity = :e")
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":d", n(u.delta))
                .expression_attribute_values(":e", s(ENTITY_PROMOTION_USES));
            if let (true, Some(l)) = (u.delta > 0, limit) {
                b = b
                    .condition_expression("attribute_not_exists(uses) OR uses < :lim")
                    .expression_attribute_values(":lim", n(l));
            }
            let update = b.build().map_err(|e| StoreError::Unavailable(e.to_string()))?;
            ops.push(TxOp {
                item: TransactWriteItem::builder().update(update).build(),
                role: TxRole::PromotionUse(u.promotion_id.clone()),
            });
        }
        Ok(ops)
    }

    async fn uses(&self, key: &Key) -> Result<u32, StoreError> {
        let out = self.get_attrs(key, true).await?;
        Ok(out
            .and_then(|a| a.get("uses").and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok()))
            .map_or(0, |v| u32::try_from(v.max(0)).unwrap_or(u32::MAX)))
    }
}

#[async_trait::async_trait]
impl PromotionRepository for DynamoStore {
    async fn get_promotion(&self, id: &str) -> Result<Option<Promotion>, StoreError> {
        Ok(self.get::<Promotion>(&promotion_key(id), true).await?.map(|i| i.data))
    }

    /// The promotion and its codes in one transaction: each code is an item naming its
    /// promotion (`PROMOCODE#<code>`), claimed on condition no other promotion holds it, so two
    /// promotions never share a code even when written at once (`AlreadyExists`); codes the
    /// promotion no longer has are released.
    async fn put_promotion(&self, p: &Promotion, expected: u64) -> Result<(), StoreError> {
        let old = match expected {
            0 => None,
            _ => self.get_promotion(&p.id).await?,
        };
        if expected > 0 && old.as_ref().map(|o| o.version) != Some(expected) {
            return Err(StoreError::StaleVersion);
        }
        let attrs = promotion_item(p).to_attrs().map_err(mapping)?;
        let condition = match expected {
            0 => ("attribute_not_exists(PK)", 0),
            v => ("version", v),
        };
        let mut ops = vec![self.put_attrs_op(attrs, Some(condition), TxRole::Versioned)?];
        let owner = |b: aws_sdk_dynamodb::types::builders::PutBuilder| {
            b.condition_expression("attribute_not_exists(PK) OR promotionId = :id")
                .expression_attribute_values(":id", s(&p.id))
        };
        for code in &p.codes {
            let key = code_key(code);
            let mut item = key_attrs(&key);
            item.insert("entity".into(), s(ENTITY_PROMOTION_CODE));
            item.insert("promotionId".into(), s(&p.id));
            let put = owner(Put::builder().table_name(&self.table).set_item(Some(item)))
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            ops.push(TxOp { item: TransactWriteItem::builder().put(put).build(), role: TxRole::NewItem });
        }
        for code in old.iter().flat_map(|o| o.codes.iter()).filter(|c| !p.codes.contains(c)) {
            let d = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key_attrs(&code_key(code))))
                .condition_expression("attribute_not_exists(PK) OR promotionId = :id")
                .expression_attribute_values(":id", s(&p.id))
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            ops.push(TxOp { item: TransactWriteItem::builder().delete(d).build(), role: TxRole::Other });
        }
        let res = self.transact(ops).await;
        cache::invalidate(&self.table, &[CACHE_KEY]);
        res
    }

    async fn list_promotions(&self) -> Result<Vec<Promotion>, StoreError> {
        if let Some(all) = cache::get::<Vec<Promotion>>(&self.table, CACHE_KEY) {
            return Ok(all);
        }
        let all: Vec<Promotion> = self.list_gsi1(PROMOTIONS_GSI1PK).await?;
        cache::put(&self.table, CACHE_KEY, &all);
        Ok(all)
    }

    async fn promotion_uses(&self, id: &str, customer: Option<&CustomerId>) -> Result<(u32, u32), StoreError> {
        let all = self.uses(&uses_key(id, None)).await?;
        let mine = match customer {
            Some(c) => self.uses(&uses_key(id, Some(c))).await?,
            None => 0,
        };
        Ok((all, mine))
    }

    async fn get_approval(&self, id: &str) -> Result<Option<Approval>, StoreError> {
        let key = Key { pk: format!("APPROVAL#{id}"), sk: "APPROVAL".into() };
        Ok(self.get::<Approval>(&key, true).await?.map(|i| i.data))
    }

    async fn approvals(&self, status: ApprovalStatus, limit: usize) -> Result<Vec<Approval>, StoreError> {
        let status = serde_json::to_value(status).map_err(|e| StoreError::Mapping(e.to_string()))?;
        let pk = format!("APPROVALS#{}", status.as_str().unwrap_or_default());
        let mut all: Vec<Approval> = self.list_gsi1(&pk).await?;
        all.reverse();
        all.truncate(limit);
        Ok(all)
    }
}
