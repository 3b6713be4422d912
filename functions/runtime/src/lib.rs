//! What every function's `main` needs: JSON logs, the typed configuration read once at cold
//! start (`config`), the one composition root (`wiring`), and the runners that map each event
//! source to its use-case: Step Functions tasks, SQS batches with partial failures, the table
//! stream for after-commit effects.

pub mod config;
pub mod consumers;
#[cfg(feature = "dev-auth")]
pub mod devjwt;
pub mod http;
pub mod stream;
pub mod wiring;

pub use stream::{
    STREAM_RECORD_BUDGET, StreamWork, do_stream_work, effects_batch, effects_batch_until, stream_batch, stream_work,
};

pub use config::{Config, ConfigError};
pub use consumers::{analytics_batch, integration_batch, run_analytics, run_integration};
pub use wiring::Ports;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use oms_shared::app::effects::EffectError;
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
