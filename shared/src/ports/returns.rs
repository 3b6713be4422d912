//! Returns (RMAs) and their label documents.

use super::StoreError;
use crate::domain::returns::Rma;
use crate::domain::{OrderId, ReturnId, ReturnLabelDoc};

#[async_trait::async_trait]
pub trait ReturnRepository: Send + Sync {
    async fn get_rma(&self, id: &ReturnId) -> Result<Option<Rma>, StoreError>;
    async fn returns_of_order(&self, order: &OrderId) -> Result<Vec<Rma>, StoreError>;
    async fn get_return_label(&self, order: &OrderId, id: &ReturnId) -> Result<Option<ReturnLabelDoc>, StoreError>;
}
