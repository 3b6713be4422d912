use super::StoreError;
use crate::domain::service::{SlotId, Window};
use chrono::NaiveDate;

/// Technicians' capacity: a region's windows per day. Their booked minutes move only with
/// orders (`OrderChange::slot_bookings`, the free minutes as the condition).
#[async_trait::async_trait]
pub trait ServiceCapacityRepository: Send + Sync {
    /// A region's windows from `from` to `to` (both included), by day and start.
    async fn windows(&self, region: &str, from: NaiveDate, to: NaiveDate) -> Result<Vec<Window>, StoreError>;
    async fn window(&self, slot: &SlotId) -> Result<Option<Window>, StoreError>;
    /// Sets a day's windows: each of `next` on condition its booked minutes are still those of
    /// `read` (a new one: absent); each of `read` not in `next` is removed on condition nothing
    /// is booked in it. `StaleVersion` when a booking moved meanwhile.
    async fn put_day(&self, read: &[Window], next: &[Window]) -> Result<(), StoreError>;
}
