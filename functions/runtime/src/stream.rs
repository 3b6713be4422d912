//! The effects function's table stream batch: what each record asks (a customer profile, a
//! change's effects, its integration events, a webhook replay, a stock level) and the batch
//! handler that does it in order, deferring effects it cannot run and events the bus refuses
//! (decision 11).

use oms_shared::adapters::dynamo::keys;
use oms_shared::app::effects::{EffectError, Effects};
use oms_shared::app::events::ChangeEvents;
use serde_json::{Value, json};
use tracing::Instrument;

/// What one table stream record asks of the effects function.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamWork {
    /// The stream sequence number (what a partial batch failure reports).
    pub seq: String,
    /// An order body written (placed or edited): its customer's profile learns from it.
    pub body: Option<oms_shared::domain::OrderId>,
    /// A change record with effects (or an outbox item of before): its effects to dispatch.
    pub outbox: Option<(oms_shared::domain::OrderId, String)>,
    /// Those effects as the record's new image holds them (dispatched without a read).
    pub entry: Option<oms_shared::domain::OutboxEntry>,
    /// A change record that announced integration events.
    pub events: Option<ChangeEvents>,
    /// A webhook replay an agent asked for.
    pub replay: Option<oms_shared::domain::webhooks::ReplayRequest>,
    /// A stock item whose available units moved: its SKU and location's `inventory.changed`.
    pub stock: Option<(oms_shared::domain::Sku, oms_shared::domain::LocationId)>,
}

/// What a stream record (Lambda's DynamoDB JSON) asks for; `None` when nothing.
pub fn stream_work(r: &Value) -> Option<StreamWork> {
    let name = r.get("eventName").and_then(Value::as_str)?;
    let d = &r["dynamodb"];
    let (pk, sk) = (d["Keys"]["PK"]["S"].as_str()?, d["Keys"]["SK"]["S"].as_str()?);
    let img = &d["NewImage"];
    let mut w = StreamWork { seq: d["SequenceNumber"].as_str().unwrap_or_default().to_owned(), ..Default::default() };
    if matches!(name, "INSERT" | "MODIFY") && sk == keys::ORDER_BODY_SK {
        w.body = pk.strip_prefix("ORDER#").and_then(|o| oms_shared::domain::OrderId::parse(o).ok());
    }
    if name == "INSERT" {
        let change = keys::parse_outbox(pk, sk);
        // A change record announces effects with its `dispatch` attribute; records and outbox
        // items written by the release before entered the outbox index as they were written.
        if img["dispatch"]["S"].as_str() == Some(oms_shared::adapters::dynamo::entities::records::DISPATCH_EFFECTS)
            || img["GSI2PK"]["S"].as_str().is_some_and(|p| p.starts_with("OUTBOX#"))
        {
            w.outbox = change.clone();
            w.entry = change
                .as_ref()
                .and_then(|(o, id)| oms_shared::adapters::dynamo::entities::outbox::announced_entry(o, id, img));
        }
        if let (Some((order, change_id)), Some(types)) = (change, img["events"]["S"].as_str()) {
            w.events = Some(ChangeEvents {
                order,
                change_id,
                types: types.split_whitespace().map(str::to_owned).collect(),
                sequence: img["sequence"]["N"].as_str().and_then(|n| n.parse().ok()),
                occurred_at: img["createdAt"]["S"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .unwrap_or_else(chrono::Utc::now),
            });
        }
    }
    if name == "INSERT" && img["entity"]["S"].as_str() == Some("webhook_replay") {
        let since = img["since"]["S"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        if let (Some(sub), Some(since)) = (img["subscriptionId"]["S"].as_str(), since) {
            w.replay = Some(oms_shared::domain::webhooks::ReplayRequest {
                subscription_id: sub.to_owned(),
                since: since.with_timezone(&chrono::Utc),
            });
        }
    }
    if matches!(name, "INSERT" | "MODIFY")
        && img["entity"]["S"].as_str() == Some("stock")
        && (name == "INSERT" || img["available"] != d["OldImage"]["available"])
    {
        let sku = img["sku"]["S"].as_str().and_then(|s| oms_shared::domain::Sku::parse(s).ok());
        let loc = img["locationId"]["S"].as_str().and_then(|s| oms_shared::domain::LocationId::parse(s).ok());
        w.stock = sku.zip(loc);
    }
    (w.body.is_some() || w.outbox.is_some() || w.events.is_some() || w.replay.is_some() || w.stock.is_some())
        .then_some(w)
}

/// The work a batch of table stream records asks for, in stream order.
pub fn stream_batch(event: &Value) -> Vec<StreamWork> {
    event.get("Records").and_then(Value::as_array).into_iter().flatten().filter_map(stream_work).collect()
}

/// What `do_stream_work` left to the drain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deferred {
    pub effects: bool,
    pub events: bool,
}

/// Does what one stream record asks: the customer profile, then the change's effects, then
/// its integration events. Each part is idempotent, so a retried record redoes it harmlessly.
/// With `hold`, the record's effects (and events) are deferred to the drain instead of run (an
/// earlier record of the same order's were). Effects that fail, and events the bus refuses,
/// are deferred too; an error means something could not even be deferred.
pub async fn do_stream_work(e: &Effects, w: &StreamWork, hold: Deferred) -> Result<Deferred, EffectError> {
    if let Some(order) = &w.body {
        e.record_customer(order).await?;
    }
    let mut deferred = Deferred::default();
    if let Some((order, id)) = &w.outbox {
        let span = tracing::info_span!("outbox", order_id = %order, outbox_id = %id);
        deferred.effects = if hold.effects {
            e.defer(order, id).instrument(span).await?;
            true
        } else {
            !e.dispatch_announced(order, id, w.entry.as_ref()).instrument(span).await?
        };
    }
    if let Some(c) = &w.events {
        let effects = w.entry.as_ref().map_or(0, |x| x.effects.len());
        deferred.events = if hold.events {
            e.defer_events(c, effects).await?;
            true
        } else {
            !e.publish_or_defer(c, effects).await?
        };
    }
    if let Some(r) = &w.replay {
        e.request_replay(r).await?;
    }
    Ok(deferred)
}

/// Time a record needs to be started: a few provider calls at the HTTP client's 10 s timeout.
pub const STREAM_RECORD_BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

/// `effects_batch_until` with no deadline.
pub async fn effects_batch(e: &Effects, event: &Value) -> Value {
    effects_batch_until(e, event, None).await
}

/// Handles a stream batch in order; the first record that fails is reported by sequence
/// number, so the stream retries from it (nothing after it is lost; what went before is not
/// redone). The effects of that record and of every later one are deferred to the drain first,
/// so even a stream that gives up on the batch loses none; a record that cannot be started
/// before `deadline` (less than `STREAM_RECORD_BUDGET` left) is handed back the same way. Once
/// a record's effects (or events, which the bus refused) are deferred, the order's later
/// records' effects (or events) in the batch are deferred behind them (an order's effects and
/// events keep their order); a refused event does not fail the batch. Stock levels are published last, once per SKU and
/// location however many of its records the batch holds (the debounce); a failure there
/// reports that location's first record.
pub async fn effects_batch_until(e: &Effects, event: &Value, deadline: Option<std::time::Instant>) -> Value {
    let work = stream_batch(event);
    // Orders whose effects (events) an earlier record deferred: their later ones wait too.
    let mut effects_held: Vec<&oms_shared::domain::OrderId> = Vec::new();
    let mut events_held: Vec<&oms_shared::domain::OrderId> = Vec::new();
    for (i, w) in work.iter().enumerate() {
        let out_of_time =
            deadline.is_some_and(|d| d.saturating_duration_since(std::time::Instant::now()) < STREAM_RECORD_BUDGET);
        let hold = Deferred {
            effects: w.outbox.as_ref().is_some_and(|(o, _)| effects_held.contains(&o)),
            events: w.events.as_ref().is_some_and(|c| events_held.contains(&&c.order)),
        };
        let failed = if out_of_time {
            Some("out of time".to_owned())
        } else {
            match do_stream_work(e, w, hold).await {
                Ok(deferred) => {
                    if let (true, Some((o, _))) = (deferred.effects, &w.outbox) {
                        effects_held.push(o);
                    }
                    if let (true, Some(c)) = (deferred.events, &w.events) {
                        events_held.push(&c.order);
                    }
                    None
                }
                Err(err) => Some(err.to_string()),
            }
        };
        if let Some(err) = failed {
            tracing::warn!(error = %err, "stream record failed");
            for rest in &work[i..] {
                if let Some((o, id)) = &rest.outbox
                    && let Err(err) = e.defer(o, id).await
                {
                    tracing::warn!(error = %err, "effects not deferred: the stream hands them again");
                }
                if let Some(c) = &rest.events
                    && let Err(err) = e.defer_events(c, 0).await
                {
                    tracing::warn!(error = %err, "events not deferred: the stream hands them again");
                }
            }
            return json!({"batchItemFailures": [{"itemIdentifier": w.seq}]});
        }
    }
    let mut stock: Vec<(&(oms_shared::domain::Sku, oms_shared::domain::LocationId), &str)> = Vec::new();
    for w in &work {
        if let Some(k) = &w.stock
            && !stock.iter().any(|(s, _)| *s == k)
        {
            stock.push((k, &w.seq));
        }
    }
    for ((sku, loc), seq) in stock {
        if let Err(err) = e.publish_inventory(sku, loc).await {
            tracing::warn!(error = %err, "inventory event failed");
            return json!({"batchItemFailures": [{"itemIdentifier": seq}]});
        }
    }
    json!({"batchItemFailures": []})
}
