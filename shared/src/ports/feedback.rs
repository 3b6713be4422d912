use super::StoreError;
use crate::domain::OrderId;
use crate::domain::feedback::Feedback;
use chrono::{DateTime, Utc};

/// After-delivery surveys: one per order, written by the order changes that make it due (at
/// delivery), send it and record the answer (`OrderChange::feedback`, versioned).
#[async_trait::async_trait]
pub trait FeedbackRepository: Send + Sync {
    async fn get_feedback(&self, order: &OrderId) -> Result<Option<Feedback>, StoreError>;
    /// Surveys due before `cutoff` and not sent yet (an index holds only those).
    async fn due_feedback(&self, cutoff: DateTime<Utc>) -> Result<Vec<Feedback>, StoreError>;
    /// Surveys answered in `[from, to)`.
    async fn answered_feedback(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Feedback>, StoreError>;
}
