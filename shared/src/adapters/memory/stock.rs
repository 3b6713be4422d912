//! Stock per SKU × location in memory: counts, re-sharding and moves under the store's lock.

use super::MemoryStore;
use crate::domain::stock::total;
use crate::domain::*;
use crate::ports::*;

#[async_trait::async_trait]
impl StockRepository for MemoryStore {
    async fn get_stock(&self, sku: &Sku, location: &LocationId) -> Result<Option<StockRecord>, StoreError> {
        let shards = self.read(|s| shards_of(s, sku, location))?;
        Ok(total(&shards))
    }

    async fn stock_for_sku(&self, sku: &Sku) -> Result<Vec<StockRecord>, StoreError> {
        self.read(|s| s.stock.iter().filter(|((s, _, _), _)| s == sku).map(|(_, r)| r.clone()).collect())
    }

    async fn set_on_hand(&self, sku: &Sku, location: &LocationId, on_hand: i64) -> Result<StockRecord, StoreError> {
        self.rebalance(sku, location, Some(on_hand), None)
    }

    async fn set_shards(&self, sku: &Sku, location: &LocationId, shards: u16) -> Result<StockRecord, StoreError> {
        self.rebalance(sku, location, None, Some(shards))
    }

    async fn count_stock(
        &self,
        sku: &Sku,
        location: &LocationId,
        count: &crate::domain::inventory::StockCount,
    ) -> Result<Counted, StoreError> {
        self.rebalance_counted(sku, location, None, None, Some(count))
    }

    async fn mark_low(
        &self,
        sku: &Sku,
        location: &LocationId,
        low: Option<(u64, chrono::DateTime<chrono::Utc>)>,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock()?;
        let Some(r) = s.stock.get_mut(&(sku.clone(), location.clone(), 0)) else { return Ok(false) };
        let Some(c) = r.control.as_mut() else { return Ok(false) };
        match (low, c.low_since.is_some()) {
            (Some((n, at)), false) => {
                c.low_since = Some(at);
                c.low_crossings = n;
            }
            (None, true) => c.low_since = None,
            _ => return Ok(false),
        }
        r.version += 1;
        Ok(true)
    }

    async fn apply_stock_move(&self, m: &StockMovement) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        let k = (m.sku.clone(), m.location_id.clone());
        let sk = (m.sku.clone(), m.location_id.clone(), m.shard);
        let next = s.stock.get(&sk).and_then(|r| StockDelta::of(m).apply(r.level).map(|l| (l, r.version + 1)));
        match next {
            Some((level, version)) => {
                if let Some(r) = s.stock.get_mut(&sk) {
                    r.level = level;
                    r.version = version;
                }
                Ok(())
            }
            None if m.movement == StockMove::Hold => Err(StoreError::OutOfStock(vec![k])),
            None => Err(StoreError::StockPrecondition(vec![k])),
        }
    }
}

fn shards_of(s: &super::State, sku: &Sku, location: &LocationId) -> Vec<StockRecord> {
    s.stock.iter().filter(|((a, b, _), _)| a == sku && b == location).map(|(_, r)| r.clone()).collect()
}

impl MemoryStore {
    fn rebalance(
        &self,
        sku: &Sku,
        location: &LocationId,
        on_hand: Option<i64>,
        shards: Option<u16>,
    ) -> Result<StockRecord, StoreError> {
        Ok(self.rebalance_counted(sku, location, on_hand, shards, None)?.record)
    }

    fn rebalance_counted(
        &self,
        sku: &Sku,
        location: &LocationId,
        on_hand: Option<i64>,
        shards: Option<u16>,
        count: Option<&crate::domain::inventory::StockCount>,
    ) -> Result<Counted, StoreError> {
        let mut s = self.lock()?;
        let current = shards_of(&s, sku, location);
        let refused = || StoreError::StockPrecondition(vec![(sku.clone(), location.clone())]);
        let (on_hand, control) = match count {
            None => (on_hand, None),
            Some(c) => match crate::domain::inventory::plan(total(&current).as_ref(), c).map_err(|_| refused())? {
                None => {
                    let record = total(&current)
                        .unwrap_or_else(|| StockRecord::new(sku.clone(), location.clone(), Default::default()));
                    return Ok(Counted { record, applied: false });
                }
                Some((n, ctl)) => (Some(n), Some(ctl)),
            },
        };
        let mut writes =
            crate::domain::stock::rebalanced(sku, location, &current, on_hand, shards).map_err(|_| refused())?;
        if let Some(base) = writes.iter_mut().find(|w| w.shard == 0).and_then(|w| w.record.as_mut())
            && control.is_some()
        {
            base.control = control;
        }
        for w in writes {
            let key = (sku.clone(), location.clone(), w.shard);
            match w.record {
                Some(rec) => {
                    s.stock.insert(key, rec);
                }
                None => {
                    s.stock.remove(&key);
                }
            }
        }
        let record = total(&shards_of(&s, sku, location))
            .unwrap_or_else(|| StockRecord::new(sku.clone(), location.clone(), Default::default()));
        Ok(Counted { record, applied: true })
    }
}
