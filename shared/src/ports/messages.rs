//! Text messages and app notifications (Amazon SNS: SMS to a phone number, mobile push to a
//! platform endpoint).

use crate::domain::messaging::MessageChannel;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    pub channel: MessageChannel,
    /// A phone number (E.164) for SMS, a device's push token for push.
    pub to: String,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("message provider unavailable: {0}")]
    Transient(String),
    #[error("message rejected: {0}")]
    Rejected(String),
    /// The number replied STOP: the provider will not deliver to it.
    #[error("the recipient opted out")]
    OptedOut,
}

#[async_trait::async_trait]
pub trait MessageSender: Send + Sync {
    async fn send(&self, m: &OutboundMessage) -> Result<(), MessageError>;
}
