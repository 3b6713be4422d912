//! Narrow traits the use-cases need from the outside world.

use chrono::{DateTime, Utc};

/// Time, injectable so tests can move it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Starts the fulfillment workflow for a placed order. Implementations must be idempotent per
/// order (a second start for the same order is a no-op).
#[async_trait::async_trait]
pub trait WorkflowStarter: Send + Sync {
    async fn start(&self, order_id: &crate::domain::OrderId) -> Result<(), String>;
}

/// A payment provider with manual capture. Every call carries an idempotency key derived from
/// the order so that a retried step never charges twice.
#[async_trait::async_trait]
pub trait PaymentGateway: Send + Sync {
    async fn authorize(&self, req: &AuthorizeRequest) -> Result<Authorization, PaymentError>;
    /// Captures part or all of an authorization; `final_capture` releases what is left.
    async fn capture(
        &self,
        authorization_id: &str,
        amount: &crate::domain::Money,
        idempotency_key: &str,
        final_capture: bool,
    ) -> Result<(), PaymentError>;
    async fn void(&self, authorization_id: &str, idempotency_key: &str) -> Result<(), PaymentError>;
    async fn refund(
        &self,
        authorization_id: &str,
        amount: &crate::domain::Money,
        idempotency_key: &str,
    ) -> Result<String, PaymentError>;
}

#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub token: String,
    pub amount: crate::domain::Money,
    pub idempotency_key: String,
    pub order_id: crate::domain::OrderId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The card or account said no: a business outcome, not retried.
    #[error("payment declined: {0}")]
    Declined(String),
    /// The provider is unavailable or timed out: retry with the same idempotency key.
    #[error("payment provider unavailable: {0}")]
    Transient(String),
    /// Our request was wrong (for example capture of a voided authorization).
    #[error("payment request rejected: {0}")]
    Rejected(String),
}

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

/// A message queue (SQS): at-least-once delivery; consumers deduplicate.
#[async_trait::async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, body: &str) -> Result<(), String>;
}

/// Sends e-mail (SES v2).
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// `transactional` or `marketing`, for the provider's suppression and reporting.
    pub category: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("mail provider unavailable: {0}")]
    Transient(String),
    #[error("mail rejected: {0}")]
    Rejected(String),
}
