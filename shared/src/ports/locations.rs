//! Warehouses and stores.

use super::StoreError;
use crate::domain::{Location, LocationId};

#[async_trait::async_trait]
pub trait LocationRepository: Send + Sync {
    async fn put_location(&self, l: &Location) -> Result<(), StoreError>;
    async fn get_location(&self, id: &LocationId) -> Result<Option<Location>, StoreError>;
    /// Every location, by id.
    async fn list_locations(&self) -> Result<Vec<Location>, StoreError>;
}
