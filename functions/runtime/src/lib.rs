//! What every function's `main` needs: JSON logs, typed configuration read once at cold start
//! (a missing variable fails the cold start, not a request), AWS clients built once, and the
//! step runner that maps step errors to the names Step Functions' Retry and Catch match.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use oms_shared::adapters::aws;
use oms_shared::adapters::dynamo::DynamoStore;
use oms_shared::adapters::easypost::EasyPostCarrier;
use oms_shared::adapters::http::HttpClient;
use oms_shared::adapters::sandbox::{SandboxCarrier, SandboxPayments};
use oms_shared::adapters::sqs::SqsQueue;
use oms_shared::adapters::stripe::StripeGateway;
use oms_shared::app::Oms;
use oms_shared::app::fulfillment::{Fulfillment, StepError};
use oms_shared::domain::validation::Limits;
use oms_shared::ports::{Carrier, PaymentGateway, SystemClock};
use serde_json::Value;
use std::sync::Arc;

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

fn var(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

/// Configuration from the environment, read once.
pub struct Config {
    pub table: String,
    pub dynamodb_endpoint: Option<String>,
    pub sqs_endpoint: Option<String>,
    pub notifications_queue_url: Option<String>,
    pub payment_provider: String,
    pub carrier_provider: String,
}

impl Config {
    pub fn from_env() -> Result<Self, Error> {
        Ok(Config {
            table: var("TABLE_NAME")?,
            dynamodb_endpoint: std::env::var("DYNAMODB_ENDPOINT").ok(),
            sqs_endpoint: std::env::var("SQS_ENDPOINT").ok(),
            notifications_queue_url: std::env::var("NOTIFICATIONS_QUEUE_URL").ok(),
            payment_provider: std::env::var("PAYMENT_PROVIDER").unwrap_or_else(|_| "sandbox".into()),
            carrier_provider: std::env::var("CARRIER_PROVIDER").unwrap_or_else(|_| "sandbox".into()),
        })
    }

    fn local(&self) -> bool {
        self.dynamodb_endpoint.is_some()
    }
}

pub async fn oms(cfg: &Config) -> Oms {
    let conf = aws::load_config(cfg.local()).await;
    let client = aws::dynamodb_client(&conf, cfg.dynamodb_endpoint.as_deref());
    let store = DynamoStore::new(client, cfg.table.clone());
    // The connection is opened during init, where a cold start already waits.
    if !store.warm_up(std::time::Duration::from_secs(2)).await {
        tracing::warn!(table = %cfg.table, "DynamoDB warm-up did not complete; the first request will connect");
    }
    Oms::new(store, Arc::new(SystemClock))
}

fn http() -> Result<HttpClient, Error> {
    HttpClient::new(std::time::Duration::from_secs(10)).map_err(|e| e.to_string().into())
}

fn payments(cfg: &Config) -> Result<Arc<dyn PaymentGateway>, Error> {
    match cfg.payment_provider.as_str() {
        "sandbox" => Ok(Arc::new(SandboxPayments::new())),
        "stripe" => Ok(Arc::new(StripeGateway::new(http()?, var("STRIPE_API_BASE")?, var("STRIPE_SECRET_KEY")?))),
        other => Err(format!("PAYMENT_PROVIDER {other} is not supported by this build").into()),
    }
}

fn carrier(cfg: &Config) -> Result<Arc<dyn Carrier>, Error> {
    match cfg.carrier_provider.as_str() {
        "sandbox" => Ok(Arc::new(SandboxCarrier::new())),
        "easypost" => Ok(Arc::new(EasyPostCarrier::new(http()?, var("EASYPOST_API_BASE")?, var("EASYPOST_API_KEY")?))),
        other => Err(format!("CARRIER_PROVIDER {other} is not supported by this build").into()),
    }
}

pub async fn fulfillment(cfg: &Config) -> Result<Fulfillment, Error> {
    let conf = aws::load_config(cfg.local()).await;
    let queue_url = cfg.notifications_queue_url.clone().ok_or("NOTIFICATIONS_QUEUE_URL is not set")?;
    let sqs = aws::sqs_client(&conf, cfg.sqs_endpoint.as_deref());
    let payments = payments(cfg)?;
    Ok(Fulfillment {
        oms: oms(cfg).await.with_payments(payments.clone()),
        payments,
        carrier: carrier(cfg)?,
        notifications: Arc::new(SqsQueue::new(sqs, queue_url)),
        limits: Limits::default(),
    })
}

/// The error Step Functions sees: `errorType` is the step error's name.
pub fn diagnostic(e: StepError) -> Diagnostic {
    Diagnostic { error_type: e.name.to_owned(), error_message: e.message }
}

/// Runs one fulfillment step function (named as its crate under `functions/`).
pub async fn run_step(function: &'static str) -> Result<(), Error> {
    init_tracing();
    let cfg = Config::from_env()?;
    let f = fulfillment(&cfg).await?;
    let f = &f;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        f.dispatch(function, event.payload).await.map_err(diagnostic)
    }))
    .await
}

// ----- SQS consumers, webhooks, notifier, reminders ------------------------------------------

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use oms_shared::adapters::ses::SesMailer;
use oms_shared::app::fulfillment::Notification;
use oms_shared::app::notify::{Notifier, NotifyError, Templates};
use oms_shared::app::reminders::{Reminders, parse_stages};
use oms_shared::app::tracking::{Tracking, TrackingError, TrackingUpdate};
use oms_shared::app::webhooks::Webhooks;
use tracing::Instrument;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

async fn queue(cfg: &Config, url_var: &str) -> Result<Arc<SqsQueue>, Error> {
    let conf = aws::load_config(cfg.local()).await;
    Ok(Arc::new(SqsQueue::new(aws::sqs_client(&conf, cfg.sqs_endpoint.as_deref()), var(url_var)?)))
}

pub async fn tracking(cfg: &Config) -> Result<Tracking, Error> {
    Ok(Tracking {
        oms: oms(cfg).await,
        payments: payments(cfg)?,
        notifications: queue(cfg, "NOTIFICATIONS_QUEUE_URL").await?,
        tracking_url: env_or("TRACKING_URL", "https://track.example.com/{tracking}"),
    })
}

pub async fn webhooks(cfg: &Config) -> Result<Webhooks, Error> {
    let secrets: Vec<String> =
        var("WEBHOOK_SECRETS")?.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    if secrets.is_empty() {
        return Err("WEBHOOK_SECRETS is empty".into());
    }
    Ok(Webhooks {
        oms: oms(cfg).await,
        queue: queue(cfg, "TRACKING_QUEUE_URL").await?,
        secrets,
        carriers: env_or("CARRIERS", "sandbox,easypost").split(',').map(|s| s.trim().to_owned()).collect(),
    })
}

pub async fn notifier(cfg: &Config) -> Result<Notifier, Error> {
    let conf = aws::load_config(cfg.local()).await;
    let ses = aws::ses_client(&conf, std::env::var("SES_ENDPOINT").ok().as_deref());
    Ok(Notifier {
        oms: oms(cfg).await,
        mailer: Arc::new(SesMailer::new(ses, var("SES_FROM")?, std::env::var("SES_CONFIGURATION_SET").ok())),
        templates: Arc::new(Templates::load()?),
        brand: env_or("BRAND", "OMS Shop"),
        unsubscribe_url: env_or("UNSUBSCRIBE_URL", "https://shop.example.com/account/preferences"),
    })
}

pub async fn reminders(cfg: &Config) -> Result<Reminders, Error> {
    Ok(Reminders {
        oms: oms(cfg).await,
        notifications: queue(cfg, "NOTIFICATIONS_QUEUE_URL").await?,
        stages: parse_stages(&env_or("REMINDER_STAGES", "4h,24h"))?,
    })
}

/// Runs `handle` on every record; failed records are reported so SQS redelivers only them.
pub async fn sqs_batch<'a, F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>> + 'a,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!("message", message_id = %id, receive_count = record.attributes.get("ApproximateReceiveCount").map(String::as_str).unwrap_or(""));
        let res = handle(record.body.unwrap_or_default()).instrument(span.clone()).await;
        if let Err(e) = res {
            span.in_scope(|| tracing::warn!(error = %e, "message failed"));
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            response.batch_item_failures.push(f);
        }
    }
    response
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

pub async fn run_tracking_consumer() -> Result<(), Error> {
    init_tracing();
    let t = tracking(&Config::from_env()?).await?;
    let t = &t;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(tracking_batch(t, e.payload).await)
    }))
    .await
}

pub async fn run_notifier() -> Result<(), Error> {
    init_tracing();
    let n = notifier(&Config::from_env()?).await?;
    let n = &n;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(notifier_batch(n, e.payload).await)
    }))
    .await
}

pub async fn run_reminders() -> Result<(), Error> {
    init_tracing();
    let r = reminders(&Config::from_env()?).await?;
    let r = &r;
    lambda_runtime::run(service_fn(move |_e: LambdaEvent<Value>| async move {
        Box::pin(r.run()).await.map(|n| serde_json::json!({"enqueued": n})).map_err(Error::from)
    }))
    .await
}

pub async fn returns(cfg: &Config) -> Result<oms_shared::app::returns::Returns, Error> {
    let payments = payments(cfg)?;
    let notifications = queue(cfg, "NOTIFICATIONS_QUEUE_URL").await?;
    Ok(oms_shared::app::returns::Returns {
        oms: oms(cfg).await.with_payments(payments.clone()).with_notifications(notifications.clone()),
        carrier: carrier(cfg)?,
        payments,
        notifications,
        label_url: env_or("RETURN_LABEL_URL", "https://shop.example.com/orders/{order}/returns/{rma}/label"),
    })
}

pub async fn disputes(cfg: &Config) -> Result<oms_shared::app::disputes::Disputes, Error> {
    let secrets: Vec<String> = var("PAYMENT_WEBHOOK_SECRETS")?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(oms_shared::app::disputes::Disputes { oms: oms(cfg).await, secrets })
}

/// The use-cases behind the storefront API: payments (to void on cancel) and notifications
/// (cancellations, agent re-sends) when configured.
pub async fn api_oms(cfg: &Config) -> Result<Oms, Error> {
    let mut o = oms(cfg).await.with_payments(payments(cfg)?);
    if std::env::var("NOTIFICATIONS_QUEUE_URL").is_ok() {
        o = o.with_notifications(queue(cfg, "NOTIFICATIONS_QUEUE_URL").await?);
    }
    Ok(o)
}
