use super::StoreError;
use crate::domain::CustomerId;
use crate::domain::adjustment::{Approval, ApprovalStatus};
use crate::domain::promotion::Promotion;

/// Promotions (definitions written by staff, versioned; their use counters move only with
/// orders, `OrderChange::promotion_uses`) and adjustment approvals.
#[async_trait::async_trait]
pub trait PromotionRepository: Send + Sync {
    async fn get_promotion(&self, id: &str) -> Result<Option<Promotion>, StoreError>;
    /// `expected`: the version read, 0 for a new one.
    async fn put_promotion(&self, p: &Promotion, expected: u64) -> Result<(), StoreError>;
    /// Every promotion (a shop runs tens to hundreds).
    async fn list_promotions(&self) -> Result<Vec<Promotion>, StoreError>;
    /// Uses held: in all, and by `customer` when given.
    async fn promotion_uses(&self, id: &str, customer: Option<&CustomerId>) -> Result<(u32, u32), StoreError>;
    async fn get_approval(&self, id: &str) -> Result<Option<Approval>, StoreError>;
    /// Approvals in a status, newest first, at most `limit`.
    async fn approvals(&self, status: ApprovalStatus, limit: usize) -> Result<Vec<Approval>, StoreError>;
}
