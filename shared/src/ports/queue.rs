//! A message queue (SQS).

/// A message queue (SQS): at-least-once delivery; consumers deduplicate.
#[async_trait::async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, body: &str) -> Result<(), String>;
}
