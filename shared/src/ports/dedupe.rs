//! Dedupe of provider events (webhooks) and of mail.

use super::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailClaim {
    Claimed,
    AlreadySent,
    InFlight,
}

/// Webhook event ids seen per provider (with a TTL).
#[async_trait::async_trait]
pub trait ProviderEventDedupe: Send + Sync {
    async fn webhook_seen(&self, provider: &str, event_id: &str) -> Result<bool, StoreError>;
    /// Records the event id; `false` when it was seen before (a replay).
    async fn record_webhook_event(&self, provider: &str, event_id: &str, ttl_days: i64) -> Result<bool, StoreError>;
}

/// One mail per dedupe key: a claim with a lease (a crash between send and record can be
/// taken over once the lease ends), then sent.
#[async_trait::async_trait]
pub trait MailDedupe: Send + Sync {
    async fn claim_mail(&self, dedupe_key: &str, lease_secs: i64) -> Result<MailClaim, StoreError>;
    async fn mark_mail_sent(&self, dedupe_key: &str) -> Result<(), StoreError>;
}

/// Failed attempts at a secret (a pickup code) per subject within a window: past a limit the
/// subject is locked until the window ends, so a code cannot be guessed by trying them all.
#[async_trait::async_trait]
pub trait AttemptCounter: Send + Sync {
    /// Failures recorded for `subject` in its current window (0 when none or the window ended).
    async fn failures(&self, subject: &str) -> Result<u32, StoreError>;
    /// Records one more failure and returns the count; a window starts at the first failure
    /// and lasts `window_secs`.
    async fn record_failure(&self, subject: &str, window_secs: i64) -> Result<u32, StoreError>;
}
