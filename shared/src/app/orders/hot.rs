//! Hot stock: placement attempts refused by contention on a stock item are counted per item;
//! past a threshold within a window the item is split over more shards, so buyers spread over
//! more items (and, on AWS, more partitions). Counts are per instance: every instance that sees
//! the contention raises the count, and a raise is idempotent (it only ever doubles up to the
//! cap from what the store has).

use super::super::Oms;
use crate::domain::limits::LIMITS;
use crate::domain::{LocationId, Sku};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct HotStock {
    seen: Mutex<HashMap<(Sku, LocationId), (u32, Instant)>>,
    /// Placement commits tried, and those refused by contention (a conflict, or a shard
    /// emptied between the read and the write): the conflict rate benchmarks report.
    pub commits: AtomicU64,
    pub contended_commits: AtomicU64,
    /// Of those, refused because the chosen shard (or item) had emptied since it was read.
    pub short_commits: AtomicU64,
    /// Whether hot items are split automatically (benchmarks of a fixed shard count turn it off).
    pub auto_split: AtomicBool,
}

impl Default for HotStock {
    fn default() -> Self {
        HotStock {
            seen: Mutex::default(),
            commits: AtomicU64::new(0),
            contended_commits: AtomicU64::new(0),
            short_commits: AtomicU64::new(0),
            auto_split: AtomicBool::new(true),
        }
    }
}

impl HotStock {
    /// (commits tried, commits refused by contention, of those refused by an emptied shard).
    pub fn stats(&self) -> (u64, u64, u64) {
        (
            self.commits.load(Ordering::Relaxed),
            self.contended_commits.load(Ordering::Relaxed),
            self.short_commits.load(Ordering::Relaxed),
        )
    }

    /// Counts one contended attempt on an item; true when it crossed the threshold (the count
    /// starts again).
    pub fn contended(&self, key: &(Sku, LocationId)) -> bool {
        let Ok(mut seen) = self.seen.lock() else { return false };
        let now = Instant::now();
        let window = Duration::from_secs(LIMITS.hot_stock_window_secs);
        let e = seen.entry(key.clone()).or_insert((0, now));
        if now.duration_since(e.1) > window {
            *e = (0, now);
        }
        e.0 += 1;
        if e.0 >= LIMITS.hot_stock_conflicts {
            seen.remove(key);
            return true;
        }
        false
    }
}

impl Oms {
    /// Records contention on stock items; doubles the shards of those that became hot.
    pub(super) async fn note_contention(&self, items: Vec<(Sku, LocationId)>) {
        self.hot.contended_commits.fetch_add(1, Ordering::Relaxed);
        if !self.hot.auto_split.load(Ordering::Relaxed) {
            return;
        }
        for key in items {
            if !self.hot.contended(&key) {
                continue;
            }
            let (sku, location) = &key;
            let (current, available) = match self.store.get_stock(sku, location).await {
                Ok(Some(r)) => (r.shards, r.level.available),
                _ => continue,
            };
            let next = (current.saturating_mul(2)).min(LIMITS.hot_stock_max_shards);
            // Refusals at the end of a sale are not contention: a nearly sold-out item is not
            // split (shards of a unit or two would only refuse more buyers).
            if next <= current || available < i64::from(next) * i64::from(LIMITS.hot_stock_min_units_per_shard) {
                continue;
            }
            match self.store.set_shards(sku, location, next).await {
                Ok(_) => tracing::info!(%sku, %location, shards = next, "hot stock split over more shards"),
                Err(e) => tracing::warn!(%sku, %location, error = %e, "could not split hot stock"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_becomes_hot_after_the_threshold_and_counts_again() {
        let h = HotStock::default();
        let k = (Sku::parse("A").unwrap(), LocationId::parse("L").unwrap());
        for _ in 1..LIMITS.hot_stock_conflicts {
            assert!(!h.contended(&k));
        }
        assert!(h.contended(&k));
        assert!(!h.contended(&k));
    }
}
