//! The payment provider port (manual capture, idempotency keys on every call).

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
