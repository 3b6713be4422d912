//! Products.

use super::StoreError;
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
