//! Shipments (GSI3 by carrier tracking number) and their label documents.

use super::super::item::{Item, from_attrs};
use super::super::keys;
use super::super::table::{DynamoStore, entity_of, table_key};
use super::{ENTITY_LABEL, ENTITY_RETURN, ENTITY_SHIPMENT};
use crate::adapters::dynamo::errors::mapping;
use crate::domain::{LabelDoc, LocationId, OrderId, Shipment, ShipmentId};
use crate::ports::{ShipmentRepository, StoreError, Tracked};

pub fn shipment_item(sh: &Shipment) -> Item<&Shipment> {
    let mut item = Item::new(keys::shipment(&sh.order_id, &sh.id), ENTITY_SHIPMENT, sh);
    if let (Some(c), Some(t)) = (&sh.carrier, &sh.tracking_number) {
        item = item.gsi3(keys::tracking_gsi3pk(c, t), keys::TRACKING_GSI3SK.into());
    }
    // On its location's pick list while it needs the packer (a sparse partition).
    if sh.on_pick_list() {
        item = item.gsi2(keys::picks_gsi2pk(&sh.location_id), format!("{}#{}", keys::timestamp(&sh.updated_at), sh.id));
    }
    item
}

pub fn label_item(l: &LabelDoc) -> Item<&LabelDoc> {
    Item::new(keys::label(&l.order_id, &l.shipment_id), ENTITY_LABEL, l)
}

#[async_trait::async_trait]
impl ShipmentRepository for DynamoStore {
    async fn get_shipment(&self, order: &OrderId, id: &ShipmentId) -> Result<Option<Shipment>, StoreError> {
        Ok(self.get::<Shipment>(&keys::shipment(order, id), true).await?.map(|i| i.data))
    }

    async fn shipments_of_order(&self, order: &OrderId) -> Result<Vec<Shipment>, StoreError> {
        let pk = keys::order_pk(order);
        Self::all(self.query_all("", keys::PK, &pk, Some((keys::SK, keys::SHIPMENT_SK_PREFIX)), true).await?)
    }

    async fn get_label(&self, order: &OrderId, shipment: &ShipmentId) -> Result<Option<LabelDoc>, StoreError> {
        Ok(self.get::<LabelDoc>(&keys::label(order, shipment), false).await?.map(|i| i.data))
    }

    async fn picks(&self, location: &LocationId, limit: usize) -> Result<Vec<Shipment>, StoreError> {
        let pk = keys::picks_gsi2pk(location);
        let mut entries = self.query_all(keys::GSI2, keys::GSI2PK, &pk, None, false).await?;
        entries.truncate(limit);
        // The index lags the table: read the items, keep those still on the list.
        let all: Vec<Shipment> = Self::all(self.hydrate(entries).await?)?;
        Ok(all.into_iter().filter(Shipment::on_pick_list).collect())
    }

    async fn tracked(&self, carrier: &str, tracking_number: &str) -> Result<Option<Tracked>, StoreError> {
        let pk = keys::tracking_gsi3pk(carrier, tracking_number);
        let entries = self.query_all(keys::GSI3, keys::GSI3PK, &pk, None, false).await?;
        let Some(key) = entries.first().and_then(table_key) else { return Ok(None) };
        // The index is keys-only and eventually consistent: read the item itself.
        let Some(a) = self.get_attrs(&key, true).await? else { return Ok(None) };
        Ok(Some(if entity_of(&a) == ENTITY_RETURN {
            Tracked::Return(from_attrs(a).map_err(mapping)?.data)
        } else {
            Tracked::Shipment(from_attrs(a).map_err(mapping)?.data)
        }))
    }
}
