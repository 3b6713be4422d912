//! Customer profiles (`CUSTOMER#<id>` / `PROFILE`) and the lookup items they are found by
//! (`LOOKUP#...`, see `keys::customer_lookup`): written only when a profile gains a key, so a
//! returning customer's order writes nothing here.

use super::super::item::{Item, n};
use super::super::keys;
use super::super::table::{Condition, DynamoStore};
use super::ENTITY_CUSTOMER;
use crate::adapters::dynamo::errors::mapping;
use crate::domain::CustomerId;
use crate::domain::customer::{CustomerProfile, SearchKey};
use crate::ports::{CustomerRepository, StoreError};
use serde::{Deserialize, Serialize};

const ENTITY_LOOKUP: &str = "customer_lookup";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lookup {
    customer_id: CustomerId,
}

#[async_trait::async_trait]
impl CustomerRepository for DynamoStore {
    async fn get_customer(&self, id: &CustomerId) -> Result<Option<CustomerProfile>, StoreError> {
        Ok(self.get::<CustomerProfile>(&keys::customer_profile(id), true).await?.map(|i| i.data))
    }

    async fn save_customer(&self, p: &CustomerProfile, previous: Option<&CustomerProfile>) -> Result<(), StoreError> {
        let had = previous.map(CustomerProfile::search_keys).unwrap_or_default();
        for k in p.search_keys().difference(&had) {
            let item = Item::new(
                keys::customer_lookup(k, &p.customer_id),
                ENTITY_LOOKUP,
                Lookup { customer_id: p.customer_id.clone() },
            );
            self.put_item(&item).await?;
        }
        let attrs =
            Item::new(keys::customer_profile(&p.customer_id), ENTITY_CUSTOMER, p).to_attrs().map_err(mapping)?;
        let condition = match previous {
            None => Condition::new("attribute_not_exists(PK)"),
            Some(prev) => Condition::new("version = :v").value(":v", n(prev.version)),
        };
        self.put(attrs, condition).await
    }

    async fn find_customers(&self, key: &SearchKey, limit: usize) -> Result<Vec<CustomerId>, StoreError> {
        let (pk, prefix) = keys::customer_lookup_query(key);
        let items = self.query_all("", keys::PK, &pk, Some((keys::SK, &prefix)), false).await?;
        let mut out: Vec<CustomerId> = Vec::new();
        for l in Self::all::<Lookup>(items)? {
            if !out.contains(&l.customer_id) {
                out.push(l.customer_id);
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    async fn delete_customer(&self, id: &CustomerId) -> Result<(), StoreError> {
        let Some(p) = self.get_customer(id).await? else { return Ok(()) };
        for k in p.search_keys() {
            self.delete(&keys::customer_lookup(&k, id)).await?;
        }
        self.delete(&keys::customer_profile(id)).await
    }
}
