//! Products and shop settings.

use super::StoreError;
use crate::domain::rules::Rules;
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

/// Shop settings the use cases follow: the versioned rules (`domain::rules`).
#[async_trait::async_trait]
pub trait SettingsRepository: Send + Sync {
    /// The rules in force: the latest version, or version 0 (the defaults) before any save.
    /// May be up to `CATALOG_TTL` old in another process (placement reads it for every order).
    async fn current_rules(&self) -> Result<Rules, StoreError>;
    /// One version as it was saved (`None` when there is no such version; 0 is the defaults).
    async fn rules_version(&self, version: u32) -> Result<Option<Rules>, StoreError>;
    /// Saves `r` as a new version, on condition that version does not exist yet
    /// (`StaleVersion` when another save took it).
    async fn put_rules(&self, r: &Rules) -> Result<(), StoreError>;
    /// The newest versions first (at most `max`).
    async fn rules_history(&self, max: usize) -> Result<Vec<Rules>, StoreError>;
}
