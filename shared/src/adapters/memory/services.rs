//! Technician windows in memory (their booked minutes move with order changes: `change`).

use super::MemoryStore;
use crate::domain::service::{SlotId, Window};
use crate::ports::{ServiceCapacityRepository, StoreError};
use chrono::NaiveDate;

#[async_trait::async_trait]
impl ServiceCapacityRepository for MemoryStore {
    async fn windows(&self, region: &str, from: NaiveDate, to: NaiveDate) -> Result<Vec<Window>, StoreError> {
        Ok(self
            .lock()?
            .windows
            .values()
            .filter(|w| w.slot.region == region && (from..=to).contains(&w.slot.date))
            .cloned()
            .collect())
    }

    async fn window(&self, slot: &SlotId) -> Result<Option<Window>, StoreError> {
        Ok(self.lock()?.windows.get(slot).cloned())
    }

    async fn put_day(&self, read: &[Window], next: &[Window]) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        for w in next {
            let now = s.windows.get(&w.slot).map(|x| x.booked_minutes);
            if now != read.iter().find(|r| r.slot == w.slot).map(|r| r.booked_minutes) {
                return Err(StoreError::StaleVersion);
            }
        }
        let removed: Vec<&Window> = read.iter().filter(|r| !next.iter().any(|w| w.slot == r.slot)).collect();
        if removed.iter().any(|r| s.windows.get(&r.slot).is_some_and(|x| x.booked_minutes > 0)) {
            return Err(StoreError::StaleVersion);
        }
        for r in removed {
            s.windows.remove(&r.slot);
        }
        for w in next {
            s.windows.insert(w.slot.clone(), w.clone());
        }
        Ok(())
    }
}
