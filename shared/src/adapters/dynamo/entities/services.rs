//! Technician windows (`SLOTS#<region> / D#<YYYY-MM-DD>#<HHMM>`): capacity, booked and free
//! minutes as numbers, so a visit's booking is one conditional update in the order's
//! transaction (`free >= minutes`), never a read-modify-write.

use super::super::errors::TxRole;
use super::super::item::{key_attrs, n, s};
use super::super::keys::Key;
use super::super::table::DynamoStore;
use super::super::tx::TxOp;
use super::ENTITY_SERVICE_WINDOW;
use crate::domain::service::{SlotBooking, SlotId, Window};
use crate::ports::{ServiceCapacityRepository, StoreError};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use chrono::NaiveDate;
use std::collections::HashMap;

fn window_key(slot: &SlotId) -> Key {
    Key {
        pk: format!("SLOTS#{}", slot.region),
        sk: format!("D#{}#{:02}{:02}", slot.date.format("%Y-%m-%d"), slot.start / 60, slot.start % 60),
    }
}

fn num(a: &HashMap<String, AttributeValue>, k: &str) -> Result<i64, StoreError> {
    a.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::Mapping(format!("service window without {k}")))
}

fn window_of(region: &str, a: &HashMap<String, AttributeValue>) -> Result<Window, StoreError> {
    let sk = a.get("SK").and_then(|v| v.as_s().ok()).ok_or_else(|| StoreError::Mapping("no SK".into()))?;
    let (date, start) = sk
        .strip_prefix("D#")
        .and_then(|r| r.split_once('#'))
        .ok_or_else(|| StoreError::Mapping(format!("service window key {sk}")))?;
    let slot = SlotId::parse(&format!("{region}.{}.{start}", date.replace('-', "")))
        .ok_or_else(|| StoreError::Mapping(format!("service window key {sk}")))?;
    let skills = a.get("skills").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or("[]");
    let int = |k: &str| num(a, k).and_then(|v| u32::try_from(v.max(0)).map_err(|e| StoreError::Mapping(e.to_string())));
    Ok(Window {
        slot,
        end: u16::try_from(num(a, "end")?).map_err(|e| StoreError::Mapping(e.to_string()))?,
        capacity_minutes: int("capacity")?,
        booked_minutes: int("booked")?,
        skills: serde_json::from_str(skills).map_err(|e| StoreError::Mapping(e.to_string()))?,
    })
}

impl DynamoStore {
    /// A visit's minutes held (on condition they are free) or given back.
    pub(in crate::adapters::dynamo) fn slot_booking_op(&self, b: &SlotBooking) -> Result<TxOp, StoreError> {
        let m = i64::from(b.minutes);
        let mut u = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(&window_key(&b.slot))))
            .update_expression("SET #b = #b + :d, #f = #f - :d")
            .expression_attribute_names("#b", "booked")
            .expression_attribute_names("#f", "free")
            .expression_attribute_values(":d", n(if b.hold { m } else { -m }));
        u = if b.hold {
            u.condition_expression("attribute_exists(PK) AND #f >= :m").expression_attribute_values(":m", n(m))
        } else {
            u.condition_expression("attribute_exists(PK)")
        };
        let update = u.build().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(TxOp {
            item: TransactWriteItem::builder().update(update).build(),
            role: TxRole::SlotBooking(b.slot.to_string()),
        })
    }
}

#[async_trait::async_trait]
impl ServiceCapacityRepository for DynamoStore {
    async fn windows(&self, region: &str, from: NaiveDate, to: NaiveDate) -> Result<Vec<Window>, StoreError> {
        let lower = format!("D#{}", from.format("%Y-%m-%d"));
        let upper = format!("D#{}#9999", to.format("%Y-%m-%d"));
        let items = self.query_all_from(&format!("SLOTS#{region}"), &lower, true).await?;
        items
            .iter()
            .filter(|a| a.get("SK").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.as_str() <= upper.as_str()))
            .map(|a| window_of(region, a))
            .collect()
    }

    async fn window(&self, slot: &SlotId) -> Result<Option<Window>, StoreError> {
        self.get_attrs(&window_key(slot), true).await?.map(|a| window_of(&slot.region, &a)).transpose()
    }

    async fn put_day(&self, read: &[Window], next: &[Window]) -> Result<(), StoreError> {
        let mut ops = Vec::new();
        for w in next {
            let mut item = key_attrs(&window_key(&w.slot));
            item.insert("entity".into(), s(ENTITY_SERVICE_WINDOW));
            item.insert("end".into(), n(w.end));
            item.insert("capacity".into(), n(w.capacity_minutes));
            item.insert("booked".into(), n(w.booked_minutes));
            item.insert("free".into(), n(i64::from(w.capacity_minutes) - i64::from(w.booked_minutes)));
            let skills = serde_json::to_string(&w.skills).map_err(|e| StoreError::Mapping(e.to_string()))?;
            item.insert("skills".into(), s(skills));
            let mut p = Put::builder().table_name(&self.table).set_item(Some(item));
            p = match read.iter().find(|r| r.slot == w.slot) {
                Some(r) => p
                    .condition_expression("#b = :b")
                    .expression_attribute_names("#b", "booked")
                    .expression_attribute_values(":b", n(r.booked_minutes)),
                None => p.condition_expression("attribute_not_exists(PK)"),
            };
            let put = p.build().map_err(|e| StoreError::Unavailable(e.to_string()))?;
            ops.push(TxOp { item: TransactWriteItem::builder().put(put).build(), role: TxRole::Versioned });
        }
        for r in read.iter().filter(|r| !next.iter().any(|w| w.slot == r.slot)) {
            let d = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key_attrs(&window_key(&r.slot))))
                .condition_expression("#b = :zero")
                .expression_attribute_names("#b", "booked")
                .expression_attribute_values(":zero", n(0))
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            ops.push(TxOp { item: TransactWriteItem::builder().delete(d).build(), role: TxRole::Versioned });
        }
        if ops.is_empty() {
            return Ok(());
        }
        self.transact(ops).await
    }
}
