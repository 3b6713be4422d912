//! EventBridge adapter for the `EventBus` port: `PutEvents` on the OMS bus, ten entries per
//! call (the API's limit), each entry's `DetailType` the event type and `Detail` the envelope.

use crate::domain::events::{DomainEvent, EVENT_SOURCE, InventoryEvent};
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

impl EventBridgeBus {
    /// `PutEvents` of (type, time, detail) entries, ten per call.
    async fn put(&self, entries: Vec<Entry>) -> Result<(), String> {
        for chunk in entries.chunks(10) {
            let entries = chunk
                .iter()
                .map(|(kind, at, detail)| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(EVENT_SOURCE)
                        .detail_type(kind)
                        .detail(detail)
                        .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(at.timestamp_millis()))
                        .build()
                })
                .collect();
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

/// One bus entry: the type, the time and the envelope as its detail.
fn entry<T: serde::Serialize>(kind: &str, at: chrono::DateTime<chrono::Utc>, e: &T) -> Result<Entry, String> {
    Ok((kind.to_owned(), at, serde_json::to_string(e).map_err(|e| e.to_string())?))
}

type Entry = (String, chrono::DateTime<chrono::Utc>, String);

#[async_trait::async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), String> {
        self.put(events.iter().map(|e| entry(&e.kind, e.occurred_at, e)).collect::<Result<_, _>>()?).await
    }

    async fn publish_inventory(&self, events: &[InventoryEvent]) -> Result<(), String> {
        self.put(events.iter().map(|e| entry(&e.kind, e.occurred_at, e)).collect::<Result<_, _>>()?).await
    }
}
