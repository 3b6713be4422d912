//! Products and locations.

use super::super::item::{Item, from_attrs, key_attrs};
use super::super::keys;
use super::super::table::DynamoStore;
use super::{ENTITY_LOCATION, ENTITY_PRODUCT};
use crate::adapters::dynamo::errors::mapping;
use crate::domain::{Location, LocationId, Product, Sku};
use crate::ports::{CatalogRepository, LocationRepository, StoreError};
use std::collections::HashMap;

pub fn product_item(p: &Product) -> Item<&Product> {
    Item::new(keys::product(&p.sku), ENTITY_PRODUCT, p).gsi1(keys::PRODUCTS_GSI1PK.into(), keys::product_gsi1sk(&p.sku))
}

pub fn location_item(l: &Location) -> Item<&Location> {
    Item::new(keys::location(&l.id), ENTITY_LOCATION, l)
        .gsi1(keys::LOCATIONS_GSI1PK.into(), keys::location_gsi1sk(&l.id))
}

#[async_trait::async_trait]
impl CatalogRepository for DynamoStore {
    async fn put_product(&self, p: &Product) -> Result<(), StoreError> {
        self.put_item(&product_item(p)).await
    }

    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        Ok(self.get::<Product>(&keys::product(sku), false).await?.map(|i| i.data))
    }

    async fn list_products(&self) -> Result<Vec<Product>, StoreError> {
        self.list_gsi1(keys::PRODUCTS_GSI1PK).await
    }

    async fn get_products(&self, skus: &[Sku]) -> Result<HashMap<Sku, Product>, StoreError> {
        let mut unique: Vec<&Sku> = skus.iter().collect();
        unique.sort();
        unique.dedup();
        let mut out = HashMap::new();
        for attrs in self.batch_get(unique.iter().map(|s| key_attrs(&keys::product(s))).collect()).await? {
            let p: Item<Product> = from_attrs(attrs).map_err(mapping)?;
            out.insert(p.data.sku.clone(), p.data);
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl LocationRepository for DynamoStore {
    async fn put_location(&self, l: &Location) -> Result<(), StoreError> {
        self.put_item(&location_item(l)).await
    }

    async fn get_location(&self, id: &LocationId) -> Result<Option<Location>, StoreError> {
        Ok(self.get::<Location>(&keys::location(id), false).await?.map(|i| i.data))
    }

    async fn list_locations(&self) -> Result<Vec<Location>, StoreError> {
        self.list_gsi1(keys::LOCATIONS_GSI1PK).await
    }
}
