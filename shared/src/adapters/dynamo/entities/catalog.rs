//! Products and locations; reads of single products and locations, and the location list,
//! go through the per-process catalog cache (`cache`).

use super::super::cache;
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

/// Cache keys.
const LOCATIONS: &str = "locations";
fn product_key(sku: &Sku) -> String {
    format!("product#{sku}")
}
fn location_key(id: &LocationId) -> String {
    format!("location#{id}")
}

#[async_trait::async_trait]
impl CatalogRepository for DynamoStore {
    async fn put_product(&self, p: &Product) -> Result<(), StoreError> {
        let res = self.put_item(&product_item(p)).await;
        cache::invalidate(&self.table, &[&product_key(&p.sku)]);
        res
    }

    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        Ok(self.get_products(std::slice::from_ref(sku)).await?.remove(sku))
    }

    async fn list_products(&self) -> Result<Vec<Product>, StoreError> {
        self.list_gsi1(keys::PRODUCTS_GSI1PK).await
    }

    async fn get_products(&self, skus: &[Sku]) -> Result<HashMap<Sku, Product>, StoreError> {
        let mut unique: Vec<&Sku> = skus.iter().collect();
        unique.sort();
        unique.dedup();
        let mut out = HashMap::new();
        unique.retain(|s| match cache::get::<Product>(&self.table, &product_key(s)) {
            Some(p) => {
                out.insert((*s).clone(), p);
                false
            }
            None => true,
        });
        if unique.is_empty() {
            return Ok(out);
        }
        for attrs in self.batch_get(unique.iter().map(|s| key_attrs(&keys::product(s))).collect()).await? {
            let p: Item<Product> = from_attrs(attrs).map_err(mapping)?;
            cache::put(&self.table, &product_key(&p.data.sku), &p.data);
            out.insert(p.data.sku.clone(), p.data);
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl LocationRepository for DynamoStore {
    async fn put_location(&self, l: &Location) -> Result<(), StoreError> {
        let res = self.put_item(&location_item(l)).await;
        cache::invalidate(&self.table, &[&location_key(&l.id), LOCATIONS]);
        res
    }

    async fn get_location(&self, id: &LocationId) -> Result<Option<Location>, StoreError> {
        if let Some(l) = cache::get::<Location>(&self.table, &location_key(id)) {
            return Ok(Some(l));
        }
        let l = self.get::<Location>(&keys::location(id), false).await?.map(|i| i.data);
        if let Some(l) = &l {
            cache::put(&self.table, &location_key(id), l);
        }
        Ok(l)
    }

    async fn list_locations(&self) -> Result<Vec<Location>, StoreError> {
        if let Some(all) = cache::get::<Vec<Location>>(&self.table, LOCATIONS) {
            return Ok(all);
        }
        let all: Vec<Location> = self.list_gsi1(keys::LOCATIONS_GSI1PK).await?;
        cache::put(&self.table, LOCATIONS, &all);
        Ok(all)
    }
}
