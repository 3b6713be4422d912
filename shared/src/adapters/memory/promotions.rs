//! Promotions and approvals in memory (their use counters move with order changes: `change`).

use super::MemoryStore;
use crate::domain::CustomerId;
use crate::ports::StoreError;

#[async_trait::async_trait]
impl crate::ports::PromotionRepository for MemoryStore {
    async fn get_promotion(&self, id: &str) -> Result<Option<crate::domain::promotion::Promotion>, StoreError> {
        Ok(self.lock()?.promotions.get(id).cloned())
    }

    async fn put_promotion(&self, p: &crate::domain::promotion::Promotion, expected: u64) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        if s.promotions.get(&p.id).map_or(0, |c| c.version) != expected {
            return Err(StoreError::StaleVersion);
        }
        // A code names one promotion.
        if s.promotions.values().any(|o| o.id != p.id && o.codes.iter().any(|c| p.codes.contains(c))) {
            return Err(StoreError::AlreadyExists);
        }
        s.promotions.insert(p.id.clone(), p.clone());
        Ok(())
    }

    async fn list_promotions(&self) -> Result<Vec<crate::domain::promotion::Promotion>, StoreError> {
        Ok(self.lock()?.promotions.values().cloned().collect())
    }

    async fn promotion_uses(&self, id: &str, customer: Option<&CustomerId>) -> Result<(u32, u32), StoreError> {
        let s = self.lock()?;
        let get = |c: Option<CustomerId>| {
            s.promotion_uses.get(&(id.to_owned(), c)).map_or(0, |v| u32::try_from((*v).max(0)).unwrap_or(u32::MAX))
        };
        Ok((get(None), customer.map_or(0, |c| get(Some(c.clone())))))
    }

    async fn get_approval(&self, id: &str) -> Result<Option<crate::domain::adjustment::Approval>, StoreError> {
        Ok(self.lock()?.approvals.get(id).cloned())
    }

    async fn approvals(
        &self,
        status: crate::domain::adjustment::ApprovalStatus,
        limit: usize,
    ) -> Result<Vec<crate::domain::adjustment::Approval>, StoreError> {
        let mut all: Vec<_> = self.lock()?.approvals.values().filter(|a| a.status == status).cloned().collect();
        all.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        all.truncate(limit);
        Ok(all)
    }
}
