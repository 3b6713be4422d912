//! Local stand-ins for the Lambda event source mappings and the scheduler: poll moto SQS, hand
//! the consumers real `SqsEvent` batches, delete only the successes (failures come back after
//! the visibility timeout and reach the DLQ after `maxReceiveCount`), and tick the reminders.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::MessageSystemAttributeName;
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

/// Receives one batch and returns it as the event Lambda would deliver.
pub async fn receive_batch(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    arn: &str,
    visibility_secs: i32,
) -> anyhow::Result<SqsEvent> {
    let res = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .visibility_timeout(visibility_secs)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await?;
    let mut event = SqsEvent::default();
    for m in res.messages.unwrap_or_default() {
        let mut msg = SqsMessage::default();
        msg.message_id = m.message_id.clone();
        msg.receipt_handle = m.receipt_handle.clone();
        msg.body = m.body.clone();
        msg.md5_of_body = m.md5_of_body.clone();
        msg.event_source = Some("aws:sqs".into());
        msg.event_source_arn = Some(arn.to_owned());
        msg.aws_region = Some("us-east-1".into());
        let attrs: HashMap<String, String> =
            m.attributes.unwrap_or_default().into_iter().map(|(k, v)| (k.as_str().to_owned(), v)).collect();
        msg.attributes = attrs;
        event.records.push(msg);
    }
    Ok(event)
}

/// Deletes every message of the batch that the consumer did not report as failed.
pub async fn settle(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    event: &SqsEvent,
    response: &SqsBatchResponse,
) -> anyhow::Result<()> {
    // As the event source mapping does: the processed messages of a batch in one request.
    let mut entries = Vec::new();
    for (i, r) in event.records.iter().enumerate() {
        let id = r.message_id.clone().unwrap_or_default();
        if response.batch_item_failures.iter().any(|f| f.item_identifier == id) {
            continue;
        }
        if let Some(h) = &r.receipt_handle {
            entries.push(
                aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(h)
                    .build()?,
            );
        }
    }
    if !entries.is_empty() {
        sqs.delete_message_batch().queue_url(url).set_entries(Some(entries)).send().await?;
    }
    Ok(())
}

/// Polls `url` forever, calling `consume` with each batch.
pub async fn poll<F, Fut>(sqs: aws_sdk_sqs::Client, url: String, arn: String, visibility_secs: i32, consume: F)
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    loop {
        match receive_batch(&sqs, &url, &arn, visibility_secs).await {
            Ok(event) if !event.records.is_empty() => {
                let response = consume(event.clone()).await;
                if let Err(e) = settle(&sqs, &url, &event, &response).await {
                    tracing::warn!(error = %e, "could not delete processed messages");
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "queue poll failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}
