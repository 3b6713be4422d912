//! A message queue (SQS).

/// A message queue (SQS): at-least-once delivery; consumers deduplicate.
#[async_trait::async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, body: &str) -> Result<(), String>;
    /// Sends a message that becomes visible after `delay_secs` (at most 900, SQS's limit).
    async fn send_delayed(&self, body: &str, delay_secs: u32) -> Result<(), String> {
        let _ = delay_secs;
        self.send(body).await
    }
}
