//! The e-mail port (SES v2).

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
    /// One-click unsubscribe link (marketing mail): `List-Unsubscribe` and
    /// `List-Unsubscribe-Post` headers (RFC 8058).
    pub unsubscribe: Option<String>,
    /// Files sent with the mail (an invoice's PDF).
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("mail provider unavailable: {0}")]
    Transient(String),
    #[error("mail rejected: {0}")]
    Rejected(String),
}
