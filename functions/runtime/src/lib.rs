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
    Oms::new(DynamoStore::new(client, cfg.table.clone()), Arc::new(SystemClock))
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
