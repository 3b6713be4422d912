//! Write units as AWS bills them, from an item's image before and after a write. Used by the
//! cost benchmark for transactions, because DynamoDB Local's `ConsumedCapacity` for
//! `TransactWriteItems` does not follow the billing rules (it reports one figure per request
//! that is neither per item nor per kilobyte), while its figures for single writes do.
//!
//! The rules applied (DynamoDB developer guide, "capacity unit consumption"):
//! - a write costs one unit per started kilobyte of the larger of the two images;
//! - every item of a transaction is written twice (prepare and commit): two units per
//!   kilobyte, and a `ConditionCheck` is billed like a write of the item it checks;
//! - each global secondary index holding the item pays for its projected image: a put when the
//!   item enters the index, a delete when it leaves, both when its index key changes, one write
//!   when projected attributes change, nothing when none does. Index writes are propagated
//!   outside the transaction and cost what the same write costs outside one: the 2x factor
//!   applies to the table arm alone (measured against DynamoDB in eu-west-2 and written up in
//!   nubo-db/dynoxide pull request 188; until decision 11 this model also doubled them).

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Image = HashMap<String, AttributeValue>;

/// What a global secondary index keeps of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projected {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct IndexModel {
    pub name: String,
    pub key_attributes: Vec<String>,
    pub projection: Projected,
}

/// The table's key attributes and its indexes.
#[derive(Debug, Clone, Default)]
pub struct TableModel {
    pub key_attributes: Vec<String>,
    pub indexes: Vec<IndexModel>,
}

/// DynamoDB's size of a value: strings by UTF-8 length, numbers about one byte per two digits
/// plus one, 3 bytes per map or list plus one per element.
pub fn value_size(v: &AttributeValue) -> usize {
    use AttributeValue as A;
    match v {
        A::S(s) => s.len(),
        A::N(n) => n.trim_start_matches('-').len().div_ceil(2) + 1,
        A::Bool(_) | A::Null(_) => 1,
        A::B(b) => b.as_ref().len(),
        A::L(l) => 3 + l.iter().map(|x| 1 + value_size(x)).sum::<usize>(),
        A::M(m) => 3 + m.iter().map(|(k, x)| 1 + k.len() + value_size(x)).sum::<usize>(),
        A::Ss(ss) => ss.iter().map(String::len).sum(),
        A::Ns(ns) => ns.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        A::Bs(bs) => bs.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

/// Attribute names plus values.
pub fn item_size(item: &Image) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn kilobytes(bytes: usize) -> u64 {
    (bytes.div_ceil(1024)).max(1) as u64
}

/// What an action did to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Write,
    Check,
}

impl TableModel {
    fn index_key<'a>(&self, index: &IndexModel, item: &'a Image) -> Option<Vec<&'a AttributeValue>> {
        index.key_attributes.iter().map(|a| item.get(a)).collect()
    }

    fn projected(&self, index: &IndexModel, item: &Image) -> Image {
        match &index.projection {
            Projected::All => item.clone(),
            Projected::KeysOnly | Projected::Include(_) => item
                .iter()
                .filter(|(k, _)| {
                    self.key_attributes.contains(k)
                        || index.key_attributes.contains(k)
                        || matches!(&index.projection, Projected::Include(a) if a.contains(k))
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// Write units for one item of a transaction (factor 2) or a single write (factor 1).
    pub fn write_units(&self, action: Action, before: Option<&Image>, after: Option<&Image>, factor: u64) -> u64 {
        let size = |i: Option<&Image>| i.map(item_size).unwrap_or(0);
        if action == Action::Check {
            return factor * kilobytes(size(before));
        }
        let mut units = factor * kilobytes(size(before).max(size(after)));
        // Index arms are billed at the standard rate, transaction or not.
        for index in &self.indexes {
            let kb = before.and_then(|b| self.index_key(index, b));
            let ka = after.and_then(|a| self.index_key(index, a));
            let pb = before.filter(|_| kb.is_some()).map(|b| self.projected(index, b));
            let pa = after.filter(|_| ka.is_some()).map(|a| self.projected(index, a));
            units += match (&pb, &pa) {
                (None, None) => 0,
                (None, Some(a)) => kilobytes(item_size(a)),
                (Some(b), None) => kilobytes(item_size(b)),
                (Some(b), Some(a)) if kb != ka => kilobytes(item_size(b)) + kilobytes(item_size(a)),
                (Some(b), Some(a)) if b == a => 0,
                (Some(b), Some(a)) => kilobytes(item_size(b).max(item_size(a))),
            };
        }
        units
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    fn model(p: Projected) -> TableModel {
        TableModel {
            key_attributes: vec!["PK".into(), "SK".into()],
            indexes: vec![IndexModel { name: "GSI2".into(), key_attributes: vec!["G2".into()], projection: p }],
        }
    }

    fn order(status: &str, pad: usize) -> Image {
        HashMap::from([
            ("PK".into(), s("ORDER#1")),
            ("SK".into(), s("ORDER")),
            ("G2".into(), s(&format!("STATUS#{status}"))),
            ("status".into(), s(status)),
            ("lines".into(), s(&"x".repeat(pad))),
        ])
    }

    #[test]
    fn transactional_status_change_moves_the_item_between_index_partitions() {
        let (b, a) = (order("placed", 1400), order("validated", 1400));
        // Table 2 KB x 2; index (standard rate): delete 2 KB + put 2 KB.
        assert_eq!(model(Projected::All).write_units(Action::Write, Some(&b), Some(&a), 2), 4 + 4);
        // Keys only: the index images are tiny.
        assert_eq!(model(Projected::KeysOnly).write_units(Action::Write, Some(&b), Some(&a), 2), 4 + 2);
    }

    #[test]
    fn unchanged_projection_costs_the_index_nothing() {
        let (b, mut a) = (order("placed", 10), order("placed", 10));
        a.insert("note".into(), s("hello"));
        assert_eq!(model(Projected::KeysOnly).write_units(Action::Write, Some(&b), Some(&a), 1), 1);
        assert_eq!(model(Projected::All).write_units(Action::Write, Some(&b), Some(&a), 1), 2);
        assert_eq!(
            model(Projected::Include(vec!["status".into()])).write_units(Action::Write, Some(&b), Some(&a), 1),
            1
        );
    }

    #[test]
    fn new_items_and_checks() {
        let a = order("placed", 3000);
        assert_eq!(model(Projected::All).write_units(Action::Write, None, Some(&a), 2), 2 * 3 + 3);
        assert_eq!(model(Projected::All).write_units(Action::Check, Some(&a), None, 2), 2 * 3);
        let mut outside = a.clone();
        outside.remove("G2");
        assert_eq!(model(Projected::All).write_units(Action::Write, None, Some(&outside), 2), 6);
    }
}
