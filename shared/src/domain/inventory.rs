//! Inventory control per SKU × location, kept on the stock's base item: the warehouse system's
//! counts in order (each carries its sequence number; one older than the last applied changes
//! nothing), adjustments with a reason code, the drift a count found (what the WMS counted less
//! what the OMS had on hand), and the safety stock the OMS does not promise. Held and allocated
//! units stay where they are through every count: a count sets on hand, never below them.

use super::stock::StockRecord;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const MAX_ON_HAND: i64 = 10_000_000;
/// The largest WMS sequence number (below 2^53, so every JSON client reads it exactly).
pub const MAX_SEQUENCE: u64 = 8_999_999_999_999_999;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountReason {
    /// A full count from the WMS (`PUT /v1/admin/stock/...`).
    Count,
    CycleCount,
    Damaged,
    Found,
    Theft,
    Received,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastCount {
    pub reason: CountReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    pub on_hand_before: i64,
    pub on_hand_after: i64,
    /// A count's difference to what the OMS had on hand (0 for adjustments: they say why).
    pub drift: i64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockControl {
    /// Units kept back: never promised to orders or shown as available to storefronts.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub safety_stock: i64,
    /// Units kept back from one channel on top of `safety_stock` (a marketplace feed that
    /// must not sell the last units the web shop promises).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub channel_safety_stock: std::collections::BTreeMap<super::order::Channel, i64>,
    /// The highest WMS sequence number applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<LastCount>,
    /// Below this many promisable units the location is low on the SKU: one `inventory.low`
    /// alert each time it goes below, none while it stays there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_point: Option<i64>,
    /// The least worth ordering when low (the suggestion never goes under it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_quantity: Option<i64>,
    /// Since when the location is below its reorder point (set by the alert's own write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_since: Option<DateTime<Utc>>,
    /// How many times it went below: the alerts' sequence (their ids follow it).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub low_crossings: u64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

/// A location crossing its reorder point, as the stock stream sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    /// Went below: the `n`th alert (`n` = crossings so far + 1).
    Below { n: u64 },
    /// Back at or above it: the low mark is cleared (no alert).
    Recovered { crossings: u64 },
}

/// Whether a SKU at a location crossed its reorder point since the mark was last set.
pub fn crossing(r: &StockRecord) -> Option<Crossing> {
    let c = r.control.as_ref()?;
    let point = c.reorder_point?;
    let low = promisable(r) < point;
    match (low, c.low_since.is_some()) {
        (true, false) => Some(Crossing::Below { n: c.low_crossings + 1 }),
        (false, true) => Some(Crossing::Recovered { crossings: c.low_crossings }),
        _ => None,
    }
}

/// What to order for a location that is low: back to twice its reorder point, at least the
/// reorder quantity.
pub fn suggested_quantity(r: &StockRecord) -> i64 {
    let c = r.control.clone().unwrap_or_default();
    let point = c.reorder_point.unwrap_or(0);
    (2 * point - promisable(r)).max(c.reorder_quantity.unwrap_or(0)).max(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// On hand as counted.
    Set(i64),
    /// Units added (found, received) or taken (damaged, theft).
    Delta(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockCount {
    pub target: Target,
    pub sequence: Option<u64>,
    pub reason: CountReason,
    pub safety_stock: Option<i64>,
    /// Channels' own safety stock (each given channel set; 0 removes it).
    pub channel_safety_stock: Option<std::collections::BTreeMap<super::order::Channel, i64>>,
    /// A new reorder point and quantity (each unchanged when absent).
    pub reorder_point: Option<i64>,
    pub reorder_quantity: Option<i64>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    #[error("on hand would be {0}: between 0 and {MAX_ON_HAND}")]
    OutOfRange(i64),
}

/// What a count does to the stock as it is (`current`: summed over shards): the on hand to set
/// and the control to keep, or `None` when the count is older than the last one applied.
pub fn plan(current: Option<&StockRecord>, c: &StockCount) -> Result<Option<(i64, StockControl)>, CountError> {
    let mut control = current.and_then(|r| r.control.clone()).unwrap_or_default();
    if let (Some(new), Some(last)) = (c.sequence, control.sequence)
        && new <= last
    {
        return Ok(None);
    }
    let before = current.map_or(0, |r| r.level.on_hand);
    let after = match c.target {
        Target::Set(n) => n,
        Target::Delta(d) => before.saturating_add(d),
    };
    if !(0..=MAX_ON_HAND).contains(&after) {
        return Err(CountError::OutOfRange(after));
    }
    // The first count of a new item sets it up: no drift.
    let drift = match (c.target, current) {
        (Target::Set(n), Some(_)) => n - before,
        _ => 0,
    };
    control.sequence = c.sequence.max(control.sequence);
    if let Some(s) = c.safety_stock {
        control.safety_stock = s;
    }
    for (ch, units) in c.channel_safety_stock.iter().flatten() {
        if *units == 0 {
            control.channel_safety_stock.remove(ch);
        } else {
            control.channel_safety_stock.insert(*ch, *units);
        }
    }
    if c.reorder_point.is_some() {
        control.reorder_point = c.reorder_point;
    }
    if c.reorder_quantity.is_some() {
        control.reorder_quantity = c.reorder_quantity;
    }
    control.last = Some(LastCount {
        reason: c.reason,
        sequence: c.sequence,
        on_hand_before: before,
        on_hand_after: after,
        drift,
        at: c.at,
    });
    Ok(Some((after, control)))
}

/// What a location may promise of a SKU: available less the safety stock, never below zero.
pub fn promisable(r: &StockRecord) -> i64 {
    (r.level.available - r.control.as_ref().map_or(0, |c| c.safety_stock)).max(0)
}

/// Units kept back from `channel` (the safety stock and the channel's own; `None`: any
/// channel, the location's safety stock only).
pub fn kept_back(c: Option<&StockControl>, channel: Option<super::order::Channel>) -> i64 {
    c.map_or(0, |c| c.safety_stock + channel.and_then(|ch| c.channel_safety_stock.get(&ch)).copied().unwrap_or(0))
}

/// What a location may promise of a SKU to orders of `channel`.
pub fn promisable_for(r: &StockRecord, channel: Option<super::order::Channel>) -> i64 {
    (r.level.available - kept_back(r.control.as_ref(), channel)).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::stock::StockLevel;
    use crate::domain::{LocationId, Sku};

    fn rec(on_hand: i64, held: i64) -> StockRecord {
        let level = StockLevel { on_hand, available: on_hand - held, held, allocated: 0 };
        StockRecord::new(Sku::parse("A").unwrap(), LocationId::parse("WH").unwrap(), level)
    }

    fn count(target: Target, sequence: Option<u64>) -> StockCount {
        StockCount {
            target,
            sequence,
            reason: CountReason::Count,
            safety_stock: None,
            channel_safety_stock: None,
            reorder_point: None,
            reorder_quantity: None,
            at: Utc::now(),
        }
    }

    #[test]
    fn counts_apply_in_sequence_and_record_their_drift() {
        let mut r = rec(10, 3);
        let (on_hand, control) = plan(Some(&r), &count(Target::Set(8), Some(5))).unwrap().unwrap();
        assert_eq!((on_hand, control.sequence, control.last.as_ref().map(|l| l.drift)), (8, Some(5), Some(-2)));
        r.control = Some(control);
        assert_eq!(plan(Some(&r), &count(Target::Set(20), Some(4))).unwrap(), None, "an older count");
        assert_eq!(plan(Some(&r), &count(Target::Set(20), Some(5))).unwrap(), None, "the same count again");
        let (after, c) = plan(Some(&r), &count(Target::Delta(-2), None)).unwrap().unwrap();
        assert_eq!((after, c.sequence, c.last.map(|l| l.drift)), (8, Some(5), Some(0)));
        assert!(plan(Some(&r), &count(Target::Delta(-11), None)).is_err());
    }

    #[test]
    fn one_crossing_per_dip_below_the_reorder_point() {
        let mut r = rec(10, 0);
        r.control = Some(StockControl { reorder_point: Some(5), reorder_quantity: Some(20), ..Default::default() });
        assert_eq!(crossing(&r), None);
        r.level.available = 4;
        assert_eq!(crossing(&r), Some(Crossing::Below { n: 1 }));
        assert_eq!(suggested_quantity(&r), 20);
        if let Some(c) = r.control.as_mut() {
            c.low_since = Some(Utc::now());
            c.low_crossings = 1;
        }
        r.level.available = 2;
        assert_eq!(crossing(&r), None, "still low: no second alert");
        r.level.available = 6;
        assert_eq!(crossing(&r), Some(Crossing::Recovered { crossings: 1 }));
    }

    #[test]
    fn safety_stock_is_never_promised() {
        let mut r = rec(10, 3);
        r.control = Some(StockControl { safety_stock: 5, ..Default::default() });
        assert_eq!(promisable(&r), 2);
        r.control = Some(StockControl { safety_stock: 50, ..Default::default() });
        assert_eq!(promisable(&r), 0);
    }
}
