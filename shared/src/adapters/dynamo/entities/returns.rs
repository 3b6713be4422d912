//! Returns (RMAs: GSI1 by id, GSI3 by return tracking number) and return label documents.

use super::super::item::Item;
use super::super::keys;
use super::super::table::DynamoStore;
use super::{ENTITY_RETURN, ENTITY_RETURN_LABEL};
use crate::domain::returns::Rma;
use crate::domain::{OrderId, ReturnId, ReturnLabelDoc};
use crate::ports::{ReturnRepository, StoreError};

pub fn rma_item(r: &Rma) -> Item<&Rma> {
    let mut item = Item::new(keys::rma(&r.order_id, &r.id), ENTITY_RETURN, r)
        .gsi1(keys::rma_gsi1pk(&r.id), keys::RMA_GSI1SK.into());
    if let Some(l) = &r.label {
        item = item.gsi3(keys::tracking_gsi3pk(&l.carrier, &l.tracking_number), keys::RETURN_TRACKING_GSI3SK.into());
    }
    item
}

pub fn return_label_item<'a>(order: &OrderId, id: &ReturnId, doc: &'a ReturnLabelDoc) -> Item<&'a ReturnLabelDoc> {
    Item::new(keys::return_label(order, id), ENTITY_RETURN_LABEL, doc)
}

#[async_trait::async_trait]
impl ReturnRepository for DynamoStore {
    async fn get_rma(&self, id: &ReturnId) -> Result<Option<Rma>, StoreError> {
        self.get_by_gsi1(&keys::rma_gsi1pk(id)).await
    }

    async fn returns_of_order(&self, order: &OrderId) -> Result<Vec<Rma>, StoreError> {
        let pk = keys::order_pk(order);
        Self::all(self.query_all("", keys::PK, &pk, Some((keys::SK, keys::RETURN_SK_PREFIX)), true).await?)
    }

    async fn get_return_label(&self, order: &OrderId, id: &ReturnId) -> Result<Option<ReturnLabelDoc>, StoreError> {
        Ok(self.get::<ReturnLabelDoc>(&keys::return_label(order, id), false).await?.map(|i| i.data))
    }
}
