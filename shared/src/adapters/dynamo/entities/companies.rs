//! Business accounts (`COMPANY#<id> / COMPANY`): versioned, written by the order changes that
//! draw or give back credit and by staff's own updates.

use super::super::item::{Item, n};
use super::super::keys::Key;
use super::super::table::{Condition, DynamoStore};
use super::ENTITY_COMPANY;
use crate::adapters::dynamo::errors::mapping;
use crate::domain::company::Company;
use crate::ports::{CompanyRepository, StoreError};

pub fn company_key(id: &str) -> Key {
    Key { pk: format!("COMPANY#{id}"), sk: "COMPANY".into() }
}

pub fn company_item(c: &Company) -> Item<&Company> {
    Item::new(company_key(&c.id), ENTITY_COMPANY, c)
}

#[async_trait::async_trait]
impl CompanyRepository for DynamoStore {
    async fn get_company(&self, id: &str) -> Result<Option<Company>, StoreError> {
        Ok(self.get::<Company>(&company_key(id), true).await?.map(|i| i.data))
    }

    async fn put_company(&self, company: &Company, expected: u64) -> Result<(), StoreError> {
        let attrs = company_item(company).to_attrs().map_err(mapping)?;
        let condition = match expected {
            0 => Condition::new("attribute_not_exists(PK)"),
            v => Condition::new("version = :v").value(":v", n(v)),
        };
        self.put(attrs, condition).await
    }
}
