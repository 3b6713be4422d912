//! The systems integration events are delivered to: the ERP (transaction documents), the CRM
//! (customer activity) and the loyalty programme (points; the promotions issue reads members'
//! tiers from the same port). Each call is idempotent at the receiver by the document's key.

use crate::domain::integrations::{CrmActivity, ErpDocument, LoyaltyTransaction};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrationError {
    /// Worth retrying: a timeout, a connection error, 408, 429 or a 5xx.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The receiver refused the document (another 4xx): retrying sends the same refusal; the
    /// message goes to the consumer's DLQ after its receives, with an alarm.
    #[error("refused: {0}")]
    Refused(String),
}

#[async_trait::async_trait]
pub trait Erp: Send + Sync {
    /// Creates or replaces a document by its number (a sales order only by a higher revision).
    async fn put_document(&self, doc: &ErpDocument) -> Result<(), IntegrationError>;
}

#[async_trait::async_trait]
pub trait Crm: Send + Sync {
    /// Records an activity once per `external_id`.
    async fn record_activity(&self, a: &CrmActivity) -> Result<(), IntegrationError>;
}

#[async_trait::async_trait]
pub trait Loyalty: Send + Sync {
    /// Posts points once per `reference`.
    async fn post_transaction(&self, t: &LoyaltyTransaction) -> Result<(), IntegrationError>;
    /// A member's tier (`None`: not a member).
    async fn tier(&self, member_id: &str) -> Result<Option<String>, IntegrationError>;
    /// The offers the programme makes a member now (none for a non-member).
    async fn offers(&self, member_id: &str) -> Result<Vec<crate::domain::loyalty::LoyaltyOffer>, IntegrationError>;
}
