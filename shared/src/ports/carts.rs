//! Carts and the idle-cart listing behind reminders.

use super::StoreError;
use crate::domain::{Cart, CartId, CustomerId};
use chrono::{DateTime, Utc};

#[async_trait::async_trait]
pub trait CartRepository: Send + Sync {
    /// Saves a cart read at `cart.version` (0 for a new cart) and bumps the version; a
    /// concurrent change in between is `StaleVersion` (and the version is left as it was).
    async fn save_cart(&self, cart: &mut Cart) -> Result<(), StoreError>;
    async fn get_cart(&self, id: &CartId) -> Result<Option<Cart>, StoreError>;
    /// A customer's carts, most recently active first.
    async fn carts_of_customer(&self, customer: &CustomerId) -> Result<Vec<Cart>, StoreError>;
    /// Carts with items and an e-mail, not converted, idle since before `cutoff`.
    async fn idle_carts(&self, cutoff: DateTime<Utc>) -> Result<Vec<Cart>, StoreError>;
}
