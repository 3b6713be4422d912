//! Carts: by id, by customer (GSI1), and idle carts through a sparse GSI2 partition per shard.

use super::super::item::{Item, n};
use super::super::keys;
use super::super::table::{Condition, DynamoStore};
use super::ENTITY_CART;
use crate::adapters::dynamo::errors::mapping;
use crate::domain::{Cart, CartId, CustomerId};
use crate::ports::{CartRepository, StoreError};
use chrono::{DateTime, Utc};

pub fn cart_item(c: &Cart) -> Item<&Cart> {
    let mut item = Item::new(keys::cart(&c.id), ENTITY_CART, c)
        .gsi1(keys::customer_gsi1pk(&c.customer), keys::cart_gsi1sk(&c.id))
        .ttl(c.expires_at().timestamp());
    if !c.items.is_empty() && c.email.is_some() && c.converted_order.is_none() {
        item = item.gsi2(keys::idle_cart_gsi2pk(&c.id), keys::idle_cart_gsi2sk(&c.last_activity, &c.id));
    }
    item
}

#[async_trait::async_trait]
impl CartRepository for DynamoStore {
    async fn save_cart(&self, cart: &mut Cart) -> Result<(), StoreError> {
        let expected = cart.version;
        cart.version += 1;
        let attrs = cart_item(cart).to_attrs().map_err(mapping);
        let res = match attrs {
            Ok(a) if expected == 0 => self.put(a, Condition::new("attribute_not_exists(PK)")).await,
            Ok(a) => self.put(a, Condition::new("version = :v").value(":v", n(expected))).await,
            Err(e) => Err(e),
        };
        if res.is_err() {
            cart.version = expected;
        }
        res
    }

    async fn get_cart(&self, id: &CartId) -> Result<Option<Cart>, StoreError> {
        Ok(self.get::<Cart>(&keys::cart(id), true).await?.map(|i| i.data))
    }

    async fn carts_of_customer(&self, customer: &CustomerId) -> Result<Vec<Cart>, StoreError> {
        let pk = keys::customer_gsi1pk(customer);
        let items = self
            .query_all(keys::GSI1, keys::GSI1PK, &pk, Some((keys::GSI1SK, keys::CART_GSI1SK_PREFIX)), false)
            .await?;
        let mut carts: Vec<Cart> = Self::all(self.hydrate(items).await?)?;
        carts.sort_by_key(|c| std::cmp::Reverse(c.last_activity));
        Ok(carts)
    }

    async fn idle_carts(&self, cutoff: DateTime<Utc>) -> Result<Vec<Cart>, StoreError> {
        let upper = keys::timestamp(&cutoff);
        let mut entries = Vec::new();
        for shard in 0..keys::STATUS_SHARDS {
            let pk = keys::idle_cart_gsi2pk_shard(shard);
            entries.extend(self.query_all_below(keys::GSI2, (keys::GSI2PK, &pk), (keys::GSI2SK, &upper)).await?);
        }
        Self::all(self.hydrate(entries).await?)
    }
}
