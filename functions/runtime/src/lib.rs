//! What every function's `main` needs: JSON logs, the typed configuration read once at cold
//! start (`config`), the one composition root (`wiring`), and the runners that map each event
//! source to its use-case: Step Functions tasks, SQS batches with partial failures, the table
//! stream for after-commit effects.

pub mod config;
pub mod consumers;
#[cfg(feature = "dev-auth")]
pub mod devjwt;
pub mod http;
pub mod wiring;

pub use config::{Config, ConfigError};
pub use consumers::{analytics_batch, integration_batch, run_analytics, run_integration};
pub use wiring::Ports;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use oms_shared::adapters::dynamo::keys;
use oms_shared::app::effects::{EffectError, Effects};
use oms_shared::app::events::ChangeEvents;
use oms_shared::app::fulfillment::{Notification, StepError};
use oms_shared::app::notify::{Notifier, NotifyError};
use oms_shared::app::tracking::{Tracking, TrackingError, TrackingUpdate};
use oms_shared::app::webhook_delivery::WebhookDispatcher;
use serde_json::{Value, json};
use tracing::Instrument;

pub type Error = lambda_runtime::Error;

/// JSON logs for CloudWatch; level from `RUST_LOG`.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_current_span(false)
        .without_time()
        .init();
}

/// Cold start: logs, the configuration and the adapters. A missing variable stops here.
/// A batch response that reports these message ids as failed (SQS redelivers only them).
pub fn failed_messages(ids: impl IntoIterator<Item = String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for id in ids {
        let mut f = BatchItemFailure::default();
        f.item_identifier = id;
        response.batch_item_failures.push(f);
    }
    response
}

pub async fn init() -> Result<(Config, Ports), Error> {
    init_tracing();
    let cfg = Config::from_env();
    let ports = Ports::from_config(&cfg).await?;
    Ok((cfg, ports))
}

/// The error Step Functions sees: `errorType` is the step error's name.
pub fn diagnostic(e: StepError) -> Diagnostic {
    Diagnostic { error_type: e.name.to_owned(), error_message: e.message }
}

/// Runs one fulfillment step function (named as its crate under `functions/`).
pub async fn run_step(function: &'static str) -> Result<(), Error> {
    let (_, ports) = init().await?;
    let f = wiring::fulfillment(&ports);
    let f = &f;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        f.dispatch(function, event.payload).await.map_err(diagnostic)
    }))
    .await
}

/// Runs `handle` on every record; failed records are reported so SQS redelivers only them.
pub async fn sqs_batch<'a, F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>> + 'a,
{
    let mut failed = Vec::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!("message", message_id = %id, receive_count = record.attributes.get("ApproximateReceiveCount").map(String::as_str).unwrap_or(""));
        let res = handle(record.body.unwrap_or_default()).instrument(span.clone()).await;
        if let Err(e) = res {
            span.in_scope(|| tracing::warn!(error = %e, "message failed"));
            failed.push(id);
        }
    }
    failed_messages(failed)
}

pub async fn tracking_batch(t: &Tracking, event: SqsEvent) -> SqsBatchResponse {
    sqs_batch(event, |body| async move {
        let update: TrackingUpdate =
            serde_json::from_str(&body).map_err(|e| format!("malformed tracking message: {e}"))?;
        Box::pin(t.apply(&update)).await.map(|_| ()).map_err(|e| match e {
            TrackingError::Transient(m) => format!("transient: {m}"),
            TrackingError::Permanent(m) => format!("permanent: {m}"),
        })
    })
    .await
}

pub async fn notifier_batch(n: &Notifier, event: SqsEvent) -> SqsBatchResponse {
    sqs_batch(event, |body| async move {
        let msg: Notification = serde_json::from_str(&body).map_err(|e| format!("malformed notification: {e}"))?;
        Box::pin(n.handle(&msg)).await.map(|_| ()).map_err(|e| match e {
            NotifyError::Transient(m) => format!("transient: {m}"),
            NotifyError::Permanent(m) => format!("permanent: {m}"),
        })
    })
    .await
}

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
            w.entry = oms_shared::adapters::dynamo::entities::outbox::entry_from_image(img)
                .filter(|e| change.as_ref().is_some_and(|(o, id)| *o == e.order_id && *id == e.id));
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

/// Does what one stream record asks: the customer profile, then the change's effects, then
/// its integration events. Each part is idempotent, so a retried record redoes it harmlessly.
/// With `hold`, the record's effects are deferred to the drain instead of run (an earlier
/// record of the same order was). Returns whether the effects were deferred.
pub async fn do_stream_work(e: &Effects, w: &StreamWork, hold: bool) -> Result<bool, EffectError> {
    if let Some(order) = &w.body {
        e.record_customer(order).await?;
    }
    let mut deferred = false;
    if let Some((order, id)) = &w.outbox {
        let span = tracing::info_span!("outbox", order_id = %order, outbox_id = %id);
        deferred = if hold {
            e.defer(order, id).instrument(span).await?;
            true
        } else {
            let ran = match &w.entry {
                Some(entry) => e.dispatch_recorded(entry).instrument(span).await?,
                None => e.dispatch(order, id).instrument(span).await?,
            };
            !ran
        };
    }
    if let Some(c) = &w.events {
        e.publish(c).await?;
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
/// a record's effects are deferred, the order's later records in the batch are deferred behind
/// it (an order's effects keep their order). Stock levels are published last, once per SKU and
/// location however many of its records the batch holds (the debounce); a failure there
/// reports that location's first record.
pub async fn effects_batch_until(e: &Effects, event: &Value, deadline: Option<std::time::Instant>) -> Value {
    let work = stream_batch(event);
    let mut held: Vec<&oms_shared::domain::OrderId> = Vec::new();
    for (i, w) in work.iter().enumerate() {
        let out_of_time =
            deadline.is_some_and(|d| d.saturating_duration_since(std::time::Instant::now()) < STREAM_RECORD_BUDGET);
        let hold = w.outbox.as_ref().is_some_and(|(o, _)| held.contains(&o));
        let failed = if out_of_time {
            Some("out of time".to_owned())
        } else {
            match do_stream_work(e, w, hold).await {
                Ok(deferred) => {
                    if let (true, Some((o, _))) = (deferred, &w.outbox) {
                        held.push(o);
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

/// The webhook dispatcher's batch: records handled at once (one slow endpoint does not hold up
/// the others), failures reported by message id.
pub async fn webhook_batch(d: &WebhookDispatcher, event: SqsEvent) -> SqsBatchResponse {
    let results = futures::future::join_all(event.records.into_iter().map(|r| async move {
        let id = r.message_id.clone().unwrap_or_default();
        (id, d.handle(r.body.as_deref().unwrap_or_default()).await)
    }))
    .await;
    failed_messages(results.into_iter().filter_map(|(id, res)| {
        let e = res.err()?;
        tracing::warn!(message_id = %id, error = %e, "webhook message failed");
        Some(id)
    }))
}

/// The webhook dispatcher: events from the bus's rule and its own retry tasks (SQS).
pub async fn run_webhook_dispatcher() -> Result<(), Error> {
    let (cfg, ports) = init().await?;
    let d = wiring::webhook_dispatcher(&ports, &cfg)?;
    let d = &d;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(webhook_batch(d, e.payload).await)
    }))
    .await
}

pub async fn run_tracking_consumer() -> Result<(), Error> {
    let (cfg, ports) = init().await?;
    let t = wiring::tracking(&ports, &cfg);
    let t = &t;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(tracking_batch(t, e.payload).await)
    }))
    .await
}

pub async fn run_notifier() -> Result<(), Error> {
    let (cfg, ports) = init().await?;
    let n = wiring::notifier(&ports, &cfg)?;
    let n = &n;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(notifier_batch(n, e.payload).await)
    }))
    .await
}

pub async fn run_reminders() -> Result<(), Error> {
    let (cfg, ports) = init().await?;
    let r = wiring::reminders(&ports, &cfg)?;
    let r = &r;
    lambda_runtime::run(service_fn(move |_e: LambdaEvent<Value>| async move {
        Box::pin(r.run()).await.map(|n| json!({"enqueued": n})).map_err(Error::from)
    }))
    .await
}

/// The effects dispatcher: table stream batches (outbox inserts), and a scheduled event that
/// drains whatever a failed dispatch left pending.
pub async fn run_effects() -> Result<(), Error> {
    let (cfg, ports) = init().await?;
    let e = wiring::effects(&ports, &cfg)?;
    let e = &e;
    let oms = wiring::oms(&ports);
    let oms = &oms;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<Value>| async move {
        if ev.payload.get("Records").is_some() {
            // The invocation's deadline (epoch milliseconds) as an instant of this process.
            let left = ev.context.deadline.saturating_sub(chrono::Utc::now().timestamp_millis().max(0) as u64);
            let deadline = std::time::Instant::now() + std::time::Duration::from_millis(left);
            Ok::<_, Error>(effects_batch_until(e, &ev.payload, Some(deadline)).await)
        } else {
            let n = e.drain().await.map_err(|err: EffectError| Error::from(err.to_string()))?;
            // Orders whose confirmation call did not happen in time are released or cancelled.
            let expired = oms.expire_confirmations().await.map_err(|err| Error::from(err.to_string()))?;
            // Pickup orders: a reminder before the store stops keeping them, a cancel after.
            let pickups = oms.sweep_pickups().await.map_err(|err| Error::from(err.to_string()))?;
            // Declined orders whose payment deadline passed are cancelled.
            let unpaid = oms.sweep_payments().await.map_err(|err| Error::from(err.to_string()))?;
            // Satisfaction surveys that are due.
            let surveys = oms.sweep_feedback().await.map_err(|err| Error::from(err.to_string()))?;
            // Days of cover against sales velocity, once an hour (the first run after the hour):
            // it reads weeks of sales per SKU.
            let now = chrono::Utc::now();
            let cover = if chrono::Timelike::minute(&now) < 5 {
                e.cover_alerts(now).await.map_err(|err: EffectError| Error::from(err.to_string()))?
            } else {
                0
            };
            Ok(json!({"drained": n, "confirmationsExpired": expired,
                "pickupsReminded": pickups.reminded, "pickupsExpired": pickups.expired, "paymentsExpired": unpaid,
                "surveysSent": surveys, "coverAlerts": cover}))
        }
    }))
    .await
}

/// Scheduled reconciliation: logs the report (an error line with the count when anything
/// differs, which the template's metric filter turns into an alarm).
pub async fn run_reconciliation() -> Result<(), Error> {
    let (_, ports) = init().await?;
    let oms = wiring::oms(&ports);
    let oms = &oms;
    lambda_runtime::run(service_fn(move |_e: LambdaEvent<Value>| async move {
        let r = oms.reconcile().await.map_err(|e| Error::from(e.to_string()))?;
        Ok::<_, Error>(
            json!({"differences": r.differences(), "orders": r.orders_checked, "stockItems": r.stock_items_checked}),
        )
    }))
    .await
}

/// Form-style URL decoding (`%XX` escapes, `+` as a space): S3 event keys, query strings.
pub fn form_decode(k: &str) -> String {
    let b = k.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An S3 client (local runs point `S3_ENDPOINT` at moto, with path-style addressing as moto
/// serves buckets).
#[cfg(feature = "s3")]
pub async fn s3_client() -> aws_sdk_s3::Client {
    let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let mut b = aws_sdk_s3::config::Builder::from(&conf);
    if let Ok(endpoint) = std::env::var("S3_ENDPOINT") {
        b = b.endpoint_url(endpoint).force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(b.build())
}
