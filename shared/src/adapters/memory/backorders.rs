//! Backorder requests in memory: per SKU in arrival order, with the units waiting.

use super::MemoryStore;
use crate::domain::Sku;
use crate::domain::backorder::Backorder;
use crate::ports::{BackorderRepository, StoreError};

impl MemoryStore {
    /// A request's next version on condition it is at `expected`; settling lowers the units.
    fn put_backorder(&self, next: &Backorder, expected: u64, settle: bool) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        let key = (next.sku.clone(), next.backorder_id.clone());
        if s.backorders.get(&key).map(|b| b.version) != Some(expected) {
            return Err(StoreError::StaleVersion);
        }
        if settle {
            *s.backorder_units.entry(next.sku.clone()).or_default() -= i64::from(next.quantity);
        }
        s.backorders.insert(key, next.clone());
        Ok(())
    }
}

#[async_trait::async_trait]
impl BackorderRepository for MemoryStore {
    async fn add_backorder(&self, b: &Backorder, limit: u32) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        let key = (b.sku.clone(), b.backorder_id.clone());
        if s.backorders.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        let units = s.backorder_units.get(&b.sku).copied().unwrap_or(0);
        if units + i64::from(b.quantity) > i64::from(limit) {
            return Err(StoreError::BackorderFull(b.sku.to_string()));
        }
        s.backorder_units.insert(b.sku.clone(), units + i64::from(b.quantity));
        s.backorders.insert(key, b.clone());
        Ok(())
    }

    async fn backorders(&self, sku: &Sku) -> Result<Vec<Backorder>, StoreError> {
        Ok(self.lock()?.backorders.iter().filter(|((k, _), _)| k == sku).map(|(_, b)| b.clone()).collect())
    }

    async fn get_backorder(&self, sku: &Sku, id: &str) -> Result<Option<Backorder>, StoreError> {
        Ok(self.lock()?.backorders.get(&(sku.clone(), id.to_owned())).cloned())
    }

    async fn update_backorder(&self, next: &Backorder, expected: u64) -> Result<(), StoreError> {
        self.put_backorder(next, expected, false)
    }

    async fn settle_backorder(&self, next: &Backorder, expected: u64) -> Result<(), StoreError> {
        self.put_backorder(next, expected, true)
    }

    async fn backordered_units(&self, sku: &Sku) -> Result<u32, StoreError> {
        let u = self.lock()?.backorder_units.get(sku).copied().unwrap_or(0);
        Ok(u32::try_from(u.max(0)).unwrap_or(u32::MAX))
    }
}
