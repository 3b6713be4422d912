//! Shipments, their label documents, and carrier tracking numbers.

use super::StoreError;
use crate::domain::returns::Rma;
use crate::domain::{LabelDoc, LocationId, OrderId, Shipment, ShipmentId};

/// What a carrier tracking number points at.
#[derive(Debug, Clone)]
pub enum Tracked {
    Shipment(Shipment),
    Return(Rma),
}

#[async_trait::async_trait]
pub trait ShipmentRepository: Send + Sync {
    async fn get_shipment(&self, order: &OrderId, id: &ShipmentId) -> Result<Option<Shipment>, StoreError>;
    async fn shipments_of_order(&self, order: &OrderId) -> Result<Vec<Shipment>, StoreError>;
    async fn get_label(&self, order: &OrderId, shipment: &ShipmentId) -> Result<Option<LabelDoc>, StoreError>;
    /// A shipment or a return parcel, by carrier and tracking number.
    async fn tracked(&self, carrier: &str, tracking_number: &str) -> Result<Option<Tracked>, StoreError>;
    /// A location's pick list: its shipments released for picking (`picking`) or packed with
    /// the label still to buy, oldest first, at most `limit`.
    async fn picks(&self, location: &LocationId, limit: usize) -> Result<Vec<Shipment>, StoreError>;
}
