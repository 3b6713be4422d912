//! Customer preferences and profiles.

use super::StoreError;
use crate::domain::CustomerId;
use crate::domain::customer::{CustomerProfile, SearchKey};
use crate::domain::support::Preferences;

#[async_trait::async_trait]
pub trait PreferenceRepository: Send + Sync {
    async fn get_preferences(&self, customer: &CustomerId) -> Result<Preferences, StoreError>;
    async fn put_preferences(&self, customer: &CustomerId, p: &Preferences) -> Result<(), StoreError>;
}

/// Customer profiles and the keys they are found by.
#[async_trait::async_trait]
pub trait CustomerRepository: Send + Sync {
    async fn get_customer(&self, id: &CustomerId) -> Result<Option<CustomerProfile>, StoreError>;
    /// Writes the next version of a profile (`previous`: as read, `None` when new), refused with
    /// `StaleVersion` when it moved on; lookups for keys `previous` did not have are written
    /// first (a lookup without its profile value is harmless: results are checked against the
    /// profile). The profile's `version` is set by the caller (previous + 1).
    async fn save_customer(&self, p: &CustomerProfile, previous: Option<&CustomerProfile>) -> Result<(), StoreError>;
    /// Customers with a lookup under this key (a name token: every token it begins), at most `limit`.
    async fn find_customers(&self, key: &SearchKey, limit: usize) -> Result<Vec<CustomerId>, StoreError>;
    /// Erasure: the profile and its lookups.
    async fn delete_customer(&self, id: &CustomerId) -> Result<(), StoreError>;
}
