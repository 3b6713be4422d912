//! Products and shop settings.

use super::StoreError;
use crate::domain::confirmation::ConfirmationRule;
use crate::domain::{Product, Sku};
use std::collections::HashMap;

#[async_trait::async_trait]
pub trait CatalogRepository: Send + Sync {
    async fn put_product(&self, p: &Product) -> Result<(), StoreError>;
    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError>;
    /// Every product, by SKU (reconciliation, consoles).
    async fn list_products(&self) -> Result<Vec<Product>, StoreError>;
    /// Products for many SKUs at once; unknown SKUs are absent from the map.
    async fn get_products(&self, skus: &[Sku]) -> Result<HashMap<Sku, Product>, StoreError>;
}

/// Shop settings the use cases follow (the confirmation-call rule).
#[async_trait::async_trait]
pub trait SettingsRepository: Send + Sync {
    /// The rule, or the default (off) when none was set.
    async fn get_confirmation_rule(&self) -> Result<ConfirmationRule, StoreError>;
    async fn put_confirmation_rule(&self, r: &ConfirmationRule) -> Result<(), StoreError>;
}
