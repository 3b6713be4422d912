//! Customer-service cases.

use super::StoreError;
use crate::domain::support::{Case, CaseStatus};
use crate::domain::{CaseId, OrderId};

#[async_trait::async_trait]
pub trait CaseRepository: Send + Sync {
    async fn get_case(&self, id: &CaseId) -> Result<Option<Case>, StoreError>;
    async fn cases_of_order(&self, order: &OrderId) -> Result<Vec<Case>, StoreError>;
    /// Cases in a status (the agents' queue), oldest first.
    async fn cases_by_status(&self, status: CaseStatus) -> Result<Vec<Case>, StoreError>;
}
