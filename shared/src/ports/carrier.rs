//! The parcel carrier port: rates, labels, voids.

/// A parcel carrier: rate, buy and void labels. Calls carry idempotency keys per shipment.
#[async_trait::async_trait]
pub trait Carrier: Send + Sync {
    fn name(&self) -> &str;
    async fn rates(&self, parcel: &Parcel) -> Result<Vec<Rate>, CarrierError>;
    async fn buy_label(&self, parcel: &Parcel, rate: &Rate, idempotency_key: &str) -> Result<Label, CarrierError>;
    async fn void_label(&self, label_id: &str) -> Result<(), CarrierError>;
}

#[derive(Debug, Clone)]
pub struct Parcel {
    pub shipment_id: crate::domain::ShipmentId,
    pub from_postal_code: String,
    pub from_country: crate::domain::CountryCode,
    pub to: crate::domain::Address,
    pub weight_grams: u32,
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    pub id: String,
    pub service: String,
    pub cost: crate::domain::Money,
    pub transit_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub id: String,
    pub tracking_number: String,
    pub service: String,
    /// The label document (4x6 PDF).
    pub pdf: Vec<u8>,
    pub estimated_delivery_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CarrierError {
    #[error("carrier unavailable: {0}")]
    Transient(String),
    #[error("carrier refused the shipment: {0}")]
    Rejected(String),
}
