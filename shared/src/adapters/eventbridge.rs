//! EventBridge adapter for the `EventBus` port: `PutEvents` on the OMS bus, ten entries per
//! call (the API's limit), each entry's `DetailType` the event type and `Detail` the envelope.

use crate::domain::events::{DomainEvent, EVENT_SOURCE};
use crate::ports::EventBus;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

#[derive(Clone)]
pub struct EventBridgeBus {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgeBus {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        EventBridgeBus { client, bus: bus.into() }
    }
}

#[async_trait::async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), String> {
        for chunk in events.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for e in chunk {
                let detail = serde_json::to_string(e).map_err(|e| e.to_string())?;
                entries.push(
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(EVENT_SOURCE)
                        .detail_type(&e.kind)
                        .detail(detail)
                        .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(e.occurred_at.timestamp_millis()))
                        .build(),
                );
            }
            let out = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| format!("eventbridge put: {}", aws_sdk_eventbridge::error::DisplayErrorContext(&e)))?;
            // A partial failure: the caller publishes the whole set again (consumers dedupe).
            if out.failed_entry_count() > 0 {
                let why = out.entries().iter().find_map(|r| r.error_code()).unwrap_or("unknown").to_owned();
                return Err(format!("eventbridge rejected {} event(s): {why}", out.failed_entry_count()));
            }
        }
        Ok(())
    }
}
