//! Customer-service cases: in the order's collection, GSI1 by id, GSI2 by status.

use super::super::item::Item;
use super::super::keys;
use super::super::table::DynamoStore;
use super::ENTITY_CASE;
use crate::domain::support::{Case, CaseStatus};
use crate::domain::{CaseId, OrderId};
use crate::ports::{CaseRepository, StoreError};

pub fn case_item(c: &Case) -> Item<&Case> {
    Item::new(keys::case(&c.order_id, &c.id), ENTITY_CASE, c)
        .gsi1(keys::case_gsi1pk(&c.id), keys::CASE_GSI1SK.into())
        .gsi2(keys::cases_by_status_gsi2pk(c.status.as_str()), format!("{}#{}", keys::timestamp(&c.created_at), c.id))
}

#[async_trait::async_trait]
impl CaseRepository for DynamoStore {
    async fn get_case(&self, id: &CaseId) -> Result<Option<Case>, StoreError> {
        self.get_by_gsi1(&keys::case_gsi1pk(id)).await
    }

    async fn cases_of_order(&self, order: &OrderId) -> Result<Vec<Case>, StoreError> {
        let pk = keys::order_pk(order);
        Self::all(self.query_all("", keys::PK, &pk, Some((keys::SK, keys::CASE_SK_PREFIX)), true).await?)
    }

    async fn cases_by_status(&self, status: CaseStatus) -> Result<Vec<Case>, StoreError> {
        let pk = keys::cases_by_status_gsi2pk(status.as_str());
        let items = self.query_all(keys::GSI2, keys::GSI2PK, &pk, None, false).await?;
        Self::all(self.hydrate(items).await?)
    }
}
