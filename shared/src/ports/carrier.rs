//! The parcel carrier port: rates, labels, voids.

/// A parcel carrier: rate, buy and void labels. Calls carry idempotency keys per shipment.
#[async_trait::async_trait]
pub trait Carrier: Send + Sync {
    fn name(&self) -> &str;
    async fn rates(&self, parcel: &Parcel) -> Result<Vec<Rate>, CarrierError>;
    async fn buy_label(&self, parcel: &Parcel, rate: &Rate, idempotency_key: &str) -> Result<Label, CarrierError>;
    async fn void_label(&self, label_id: &str) -> Result<(), CarrierError>;
    /// A bought label's document (4x6 PDF), fetched when someone asks for it: the carrier's
    /// copy at its URL, or (the sandbox) rendered again from the same parcel and label.
    async fn label_document(&self, label: &LabelSource) -> Result<Vec<u8>, CarrierError>;
}

/// What a label document is fetched or rendered from: the parcel it was bought for and what
/// the purchase returned.
#[derive(Debug, Clone)]
pub struct LabelSource {
    /// The carrier that sold the label (a deployment may have several).
    pub carrier: String,
    pub parcel: Parcel,
    pub tracking_number: String,
    pub service: String,
    pub document_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Parcel {
    pub shipment_id: crate::domain::ShipmentId,
    /// Where the parcel ships from (a location's street address, or the customer's for a
    /// return).
    pub from: crate::domain::Address,
    pub to: crate::domain::Address,
    pub weight_grams: u32,
    /// Length, width and height in millimetres, when the parcel was measured (packed).
    pub dimensions_mm: Option<[u32; 3]>,
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    /// The carrier quoting it (rates of several carriers are shopped together).
    pub carrier: String,
    pub id: String,
    pub service: String,
    pub cost: crate::domain::Money,
    pub transit_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The carrier that sold it.
    pub carrier: String,
    pub id: String,
    pub tracking_number: String,
    pub service: String,
    /// Where the carrier keeps the label document (4x6 PDF), when it keeps one; the document
    /// itself is fetched on request (`Carrier::label_document`), not stored by the OMS.
    pub document_url: Option<String>,
    pub estimated_delivery_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CarrierError {
    #[error("carrier unavailable: {0}")]
    Transient(String),
    #[error("carrier refused the shipment: {0}")]
    Rejected(String),
}
