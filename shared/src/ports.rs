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
    async fn capture(
        &self,
        authorization_id: &str,
        amount: &crate::domain::Money,
        idempotency_key: &str,
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
