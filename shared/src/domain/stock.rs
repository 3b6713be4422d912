//! Stock of one SKU at one location. Invariant: `on_hand = available + held + allocated`.
//! Placement *holds* units; allocation turns holds into *allocated* units; shipping removes
//! allocated units from on-hand; returns *restock*.
//!
//! A hot SKU's stock at a location may be split over several shard items (each with its own
//! partition key, so the partition write limit applies per shard): every shard keeps the
//! invariant on its own, a reservation remembers the shard it took units from, and reads sum
//! the shards.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockLevel {
    pub on_hand: i64,
    pub available: i64,
    pub held: i64,
    pub allocated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("not enough available stock: wanted {wanted}, available {available}")]
    OutOfStock { wanted: i64, available: i64 },
    #[error("not enough held stock to {op}")]
    NotHeld { op: &'static str },
    #[error("not enough allocated stock to {op}")]
    NotAllocated { op: &'static str },
    #[error("quantity must be positive")]
    NonPositive,
    #[error("on hand cannot go below held + allocated ({committed})")]
    BelowCommitted { committed: i64 },
}

/// The stock of one SKU at one location, with the version that guards counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockRecord {
    pub sku: super::ids::Sku,
    pub location_id: super::ids::LocationId,
    #[serde(flatten)]
    pub level: StockLevel,
    pub version: u64,
    /// Which shard item this is (0: the base item, which also carries `shards`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shard: u16,
    /// How many shard items the stock is split over (on shard 0).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub shards: u16,
    /// Counts, adjustments and safety stock (on shard 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<super::inventory::StockControl>,
}

pub(crate) fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

pub(crate) fn is_zero(v: &u16) -> bool {
    *v == 0
}
fn is_one(v: &u16) -> bool {
    *v == 1
}
fn one() -> u16 {
    1
}

/// Most shard items a stock item may be split over.
pub const MAX_STOCK_SHARDS: u16 = 32;

impl StockRecord {
    pub fn new(sku: super::ids::Sku, location_id: super::ids::LocationId, level: StockLevel) -> Self {
        StockRecord { sku, location_id, level, version: 1, shard: 0, shards: 1, control: None }
    }
}

/// The levels of a SKU at a location summed over its shards.
pub fn summed(records: &[StockRecord]) -> StockLevel {
    records.iter().fold(StockLevel::default(), |a, r| StockLevel {
        on_hand: a.on_hand + r.level.on_hand,
        available: a.available + r.level.available,
        held: a.held + r.level.held,
        allocated: a.allocated + r.level.allocated,
    })
}

/// What a count or a change of shard count writes: for each shard, its next level (`None`:
/// the shard item goes). Held and allocated units stay on the shard that has them; available
/// units are spread evenly. Refused when on-hand would fall below what is committed, or when a
/// shard that would go still has committed units.
pub fn rebalance(
    current: &[StockRecord],
    on_hand: Option<i64>,
    shards: Option<u16>,
) -> Result<Vec<(u16, Option<StockLevel>)>, StockError> {
    let now_shards = current.iter().map(|r| r.shard + 1).max().unwrap_or(1).max(1);
    let n = shards.unwrap_or(now_shards).clamp(1, MAX_STOCK_SHARDS);
    let total = summed(current);
    let target = on_hand.unwrap_or(total.on_hand);
    let committed = total.held + total.allocated;
    if target < committed {
        return Err(StockError::BelowCommitted { committed });
    }
    if target < 0 {
        return Err(StockError::NonPositive);
    }
    let level_of = |k: u16| current.iter().find(|r| r.shard == k).map(|r| r.level).unwrap_or_default();
    for k in n..now_shards {
        let l = level_of(k);
        if l.held + l.allocated > 0 {
            return Err(StockError::BelowCommitted { committed: l.held + l.allocated });
        }
    }
    let free = target - committed;
    let per = free / i64::from(n);
    let extra = free % i64::from(n);
    let mut out = Vec::new();
    for k in 0..n.max(now_shards) {
        if k >= n {
            out.push((k, None));
            continue;
        }
        let l = level_of(k);
        let available = per + i64::from(i64::from(k) < extra);
        out.push((
            k,
            Some(StockLevel {
                on_hand: available + l.held + l.allocated,
                available,
                held: l.held,
                allocated: l.allocated,
            }),
        ));
    }
    Ok(out)
}

/// A SKU's stock records (every shard at every location) summed per location, by location id.
pub fn per_location(records: Vec<StockRecord>) -> Vec<StockRecord> {
    let mut by_location: std::collections::BTreeMap<super::LocationId, Vec<StockRecord>> = Default::default();
    for r in records {
        by_location.entry(r.location_id.clone()).or_default().push(r);
    }
    by_location.values().filter_map(|shards| total(shards)).collect()
}

/// A SKU's stock at a location summed over its shards: shard 0's version and shard count.
pub fn total(shards: &[StockRecord]) -> Option<StockRecord> {
    let base = shards.iter().find(|r| r.shard == 0)?;
    Some(StockRecord { level: summed(shards), ..base.clone() })
}

/// One shard item a count or a re-sharding writes: its next record (`None`: the item goes),
/// and the version it was read at (`None`: a new item).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardWrite {
    pub shard: u16,
    pub record: Option<StockRecord>,
    pub read_version: Option<u64>,
}

/// `rebalance` as the records to write, versions bumped and the shard count on shard 0.
pub fn rebalanced(
    sku: &super::ids::Sku,
    location: &super::ids::LocationId,
    current: &[StockRecord],
    on_hand: Option<i64>,
    shards: Option<u16>,
) -> Result<Vec<ShardWrite>, StockError> {
    let next = rebalance(current, on_hand, shards)?;
    let count = u16::try_from(next.iter().filter(|(_, l)| l.is_some()).count()).unwrap_or(1);
    // The versions of shards that go are carried by the base item, so the sum of a location's
    // versions (the `sequence` of its `inventory.changed` events) only grows.
    let removed: u64 = next
        .iter()
        .filter(|(_, l)| l.is_none())
        .filter_map(|(k, _)| current.iter().find(|r| r.shard == *k).map(|r| r.version))
        .sum();
    Ok(next
        .into_iter()
        .map(|(k, level)| {
            let read_version = current.iter().find(|r| r.shard == k).map(|r| r.version);
            let record = level.map(|level| StockRecord {
                version: read_version.unwrap_or(0) + 1 + if k == 0 { removed } else { 0 },
                shard: k,
                shards: if k == 0 { count } else { 1 },
                // The base item keeps the location's counts and safety stock.
                control: if k == 0 {
                    current.iter().find(|r| r.shard == 0).and_then(|r| r.control.clone())
                } else {
                    None
                },
                ..StockRecord::new(sku.clone(), location.clone(), level)
            });
            ShardWrite { shard: k, record, read_version }
        })
        .collect())
}

/// Takes `quantity` units from shards with available units: one shard when one has enough,
/// picked with a chance proportional to what it has (`spread` is the caller's random number),
/// so shards drain evenly and buyers do not all hit one; else several shards. `None` when the
/// shards do not have that many together.
pub fn take_from_shards(quantity: u32, available: &[(u16, i64)], spread: usize) -> Option<Vec<(u16, u32)>> {
    if available.is_empty() {
        return None;
    }
    let q = i64::from(quantity);
    let enough: Vec<(u16, i64)> = available.iter().copied().filter(|(_, a)| *a >= q).collect();
    let weight: i64 = enough.iter().map(|(_, a)| *a).sum();
    if weight > 0 {
        let mut pick = i64::try_from(spread).unwrap_or(0).rem_euclid(weight);
        for (k, a) in &enough {
            if pick < *a {
                return Some(vec![(*k, quantity)]);
            }
            pick -= a;
        }
    }
    let n = available.len();
    let order: Vec<(u16, i64)> = (0..n).map(|i| available[(spread + i) % n]).collect();
    let mut left = q;
    let mut out = Vec::new();
    for (k, a) in order {
        if left == 0 {
            break;
        }
        let take = a.min(left);
        if take > 0 {
            out.push((k, u32::try_from(take).ok()?));
            left -= take;
        }
    }
    (left == 0).then_some(out)
}

impl StockLevel {
    pub fn with_on_hand(on_hand: i64) -> Result<Self, StockError> {
        StockLevel::default().set_on_hand(on_hand)
    }

    pub fn is_conserved(&self) -> bool {
        self.on_hand == self.available + self.held + self.allocated
            && self.available >= 0
            && self.held >= 0
            && self.allocated >= 0
    }

    fn positive(q: i64) -> Result<(), StockError> {
        if q <= 0 { Err(StockError::NonPositive) } else { Ok(()) }
    }

    pub fn hold(self, q: i64) -> Result<Self, StockError> {
        Self::positive(q)?;
        if self.available < q {
            return Err(StockError::OutOfStock { wanted: q, available: self.available });
        }
        Ok(StockLevel { available: self.available - q, held: self.held + q, ..self })
    }

    pub fn release_hold(self, q: i64) -> Result<Self, StockError> {
        Self::positive(q)?;
        if self.held < q {
            return Err(StockError::NotHeld { op: "release" });
        }
        Ok(StockLevel { available: self.available + q, held: self.held - q, ..self })
    }

    pub fn allocate(self, q: i64) -> Result<Self, StockError> {
        Self::positive(q)?;
        if self.held < q {
            return Err(StockError::NotHeld { op: "allocate" });
        }
        Ok(StockLevel { held: self.held - q, allocated: self.allocated + q, ..self })
    }

    pub fn release_allocation(self, q: i64) -> Result<Self, StockError> {
        Self::positive(q)?;
        if self.allocated < q {
            return Err(StockError::NotAllocated { op: "release" });
        }
        Ok(StockLevel { available: self.available + q, allocated: self.allocated - q, ..self })
    }

    pub fn ship(self, q: i64) -> Result<Self, StockError> {
        Self::positive(q)?;
        if self.allocated < q {
            return Err(StockError::NotAllocated { op: "ship" });
        }
        Ok(StockLevel { on_hand: self.on_hand - q, allocated: self.allocated - q, ..self })
    }

    pub fn restock(self, q: i64) -> Result<Self, StockError> {
        Self::positive(q)?;
        Ok(StockLevel { on_hand: self.on_hand + q, available: self.available + q, ..self })
    }

    /// A physical count: sets on-hand, keeping what is held and allocated.
    pub fn set_on_hand(self, on_hand: i64) -> Result<Self, StockError> {
        let committed = self.held + self.allocated;
        if on_hand < committed {
            return Err(StockError::BelowCommitted { committed });
        }
        Ok(StockLevel { on_hand, available: on_hand - committed, ..self })
    }
}

#[cfg(test)]
#[path = "stock_tests.rs"]
mod tests;
