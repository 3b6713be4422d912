//! SQS adapter for the `Queue` port.

use crate::ports::Queue;

#[derive(Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        SqsQueue { client, url: url.into() }
    }
    pub fn url(&self) -> &str {
        &self.url
    }
}

#[async_trait::async_trait]
impl Queue for SqsQueue {
    async fn send(&self, body: &str) -> Result<(), String> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("sqs send: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))
    }

    async fn send_delayed(&self, body: &str, delay_secs: u32) -> Result<(), String> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(i32::try_from(delay_secs.min(900)).unwrap_or(900))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("sqs send: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))
    }
}
