//! Customer preferences.

use super::StoreError;
use crate::domain::CustomerId;
use crate::domain::support::Preferences;

#[async_trait::async_trait]
pub trait PreferenceRepository: Send + Sync {
    async fn get_preferences(&self, customer: &CustomerId) -> Result<Preferences, StoreError>;
    async fn put_preferences(&self, customer: &CustomerId, p: &Preferences) -> Result<(), StoreError>;
}
