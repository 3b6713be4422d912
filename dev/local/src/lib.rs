//! The local runner: the whole OMS on one machine. DynamoDB Local (and moto) started by the
//! harness unless endpoints are given, the table created from `infra/template.yaml`, demo data
//! seeded, the function routers served behind an API Gateway emulation with dev JWTs.

pub mod gateway;
pub mod jwt;
pub mod seed;
pub mod stream;
pub mod workflow;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use oms_shared::adapters::dynamo::DynamoStore;
use oms_shared::adapters::sandbox::{SandboxCarrier, SandboxPayments};
use oms_shared::adapters::sqs::SqsQueue;
use oms_shared::app::Oms;
use oms_shared::app::fulfillment::Fulfillment;
use oms_shared::domain::validation::Limits;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use workflow::Workflow;

pub struct Config {
    pub addr: SocketAddr,
    pub table: String,
    pub seed: bool,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let port: u16 =
            std::env::var("OMS_PORT").ok().map(|p| p.parse()).transpose().context("OMS_PORT")?.unwrap_or(3000);
        let host = std::env::var("OMS_HOST").unwrap_or_else(|_| "127.0.0.1".into());
        Ok(Config {
            addr: format!("{host}:{port}").parse().context("OMS_HOST/OMS_PORT")?,
            table: std::env::var("TABLE_NAME").unwrap_or_else(|_| "oms-local".into()),
            seed: std::env::var("OMS_SEED").map(|v| v != "0").unwrap_or(true),
        })
    }
}

/// A running local stack.
pub struct Local {
    pub oms: Oms,
    pub fulfillment: Fulfillment,
    pub workflow: Arc<Workflow>,
    pub payments: Arc<SandboxPayments>,
    pub carrier: Arc<SandboxCarrier>,
    pub sqs: aws_sdk_sqs::Client,
    /// Template logical id -> local queue URL.
    pub queues: HashMap<String, String>,
    pub issuer: jwt::DevIssuer,
    pub dynamodb_endpoint: String,
    pub moto_endpoint: String,
    pub table: String,
}

/// How to start the local stack.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub seed: bool,
    /// Start workflows from the table's stream, as the pipe does on AWS.
    pub stream: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { seed: true, stream: true }
    }
}

/// Creates every SQS queue the template declares as `{prefix}-{LogicalId}`, with its redrive
/// policy, and returns logical id -> URL.
async fn create_queues(sqs: &aws_sdk_sqs::Client, prefix: &str) -> anyhow::Result<HashMap<String, String>> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let t = oms_harness::template()?;
    let resources = t.get("Resources").and_then(|r| r.as_mapping()).context("Resources")?;
    let mut queues: Vec<(String, serde_yaml_ng::Value)> = resources
        .iter()
        .filter(|(_, v)| v.get("Type").and_then(|x| x.as_str()) == Some("AWS::SQS::Queue"))
        .map(|(k, v)| (k.as_str().unwrap_or("").to_owned(), v.get("Properties").cloned().unwrap_or_default()))
        .collect();
    // Dead-letter queues first: the others point at them.
    queues.sort_by_key(|(_, p)| p.get("RedrivePolicy").is_some());
    let mut urls = HashMap::new();
    let mut arns = HashMap::new();
    for (logical, props) in queues {
        let mut req = sqs.create_queue().queue_name(format!("{prefix}-{logical}"));
        if let Some(v) = props.get("VisibilityTimeout").and_then(|v| v.as_u64()) {
            req = req.attributes(A::VisibilityTimeout, v.to_string());
        }
        if let Some(r) = props.get("RedrivePolicy") {
            let dlq = match r.get("deadLetterTargetArn") {
                Some(serde_yaml_ng::Value::Tagged(t)) => {
                    t.value.as_str().unwrap_or("").split('.').next().unwrap_or("").to_owned()
                }
                _ => String::new(),
            };
            let max = r.get("maxReceiveCount").and_then(|v| v.as_u64()).unwrap_or(5);
            let arn: &String =
                arns.get(&dlq).with_context(|| format!("{logical}: dead-letter queue {dlq} not created"))?;
            req = req.attributes(
                A::RedrivePolicy,
                serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": max}).to_string(),
            );
        }
        let url = req.send().await.with_context(|| format!("creating queue {logical}"))?.queue_url.unwrap_or_default();
        let attrs = sqs.get_queue_attributes().queue_url(&url).attribute_names(A::QueueArn).send().await?;
        let arn = attrs.attributes().and_then(|a| a.get(&A::QueueArn)).cloned().unwrap_or_default();
        arns.insert(logical.clone(), arn);
        urls.insert(logical, url);
    }
    Ok(urls)
}

/// Starts (or connects to) DynamoDB Local and moto, creates the table and queues when missing,
/// seeds demo data, and (with `stream`) starts workflows from the table's stream.
pub async fn start(table: &str, opts: Options) -> anyhow::Result<Local> {
    let endpoint = oms_harness::dynamodb_endpoint().await?;
    let moto = oms_harness::moto_endpoint().await?;
    let client = oms_harness::dynamodb_client(&endpoint).await;
    let exists = client.describe_table().table_name(table).send().await.is_ok();
    if !exists {
        oms_harness::create_table(&client, table).await?;
    }
    let conf = oms_shared::adapters::aws::load_config(true).await;
    let sqs = oms_shared::adapters::aws::sqs_client(&conf, Some(&moto));
    let queues = create_queues(&sqs, table).await?;
    let payments = Arc::new(SandboxPayments::new());
    let carrier = Arc::new(SandboxCarrier::new());
    let store = DynamoStore::new(client.clone(), table);
    let oms = Oms::new(store, Arc::new(oms_shared::ports::SystemClock)).with_payments(payments.clone());
    let notifications = queues.get("NotificationsQueue").cloned().context("NotificationsQueue")?;
    let fulfillment = Fulfillment {
        oms: oms.clone(),
        payments: payments.clone(),
        carrier: carrier.clone(),
        notifications: Arc::new(SqsQueue::new(sqs.clone(), notifications)),
        limits: Limits::default(),
    };
    let workflow = Arc::new(Workflow::load(fulfillment.clone(), sqs.clone(), &queues)?);
    if opts.seed {
        seed::seed(&oms).await?;
    }
    if opts.stream {
        let desc = client.describe_table().table_name(table).send().await?;
        let arn = desc.table().and_then(|t| t.latest_stream_arn()).context("the table has no stream")?.to_owned();
        let mut b = aws_sdk_dynamodbstreams::config::Builder::from(&conf);
        b = b.endpoint_url(&endpoint);
        let streams = aws_sdk_dynamodbstreams::Client::from_conf(b.build());
        tokio::spawn(stream::poll(streams, arn, workflow.clone()));
    }
    Ok(Local {
        oms,
        fulfillment,
        workflow,
        payments,
        carrier,
        sqs,
        queues,
        issuer: jwt::DevIssuer::random(),
        dynamodb_endpoint: endpoint,
        moto_endpoint: moto,
        table: table.to_owned(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    sub: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    ttl_seconds: Option<i64>,
}

/// The HTTP app: `POST /dev/token` (local only) plus every function route behind the gateway.
pub fn app(local: &Local) -> Router {
    let placement = placement::router(local.oms.clone());
    let issuer = local.issuer.clone();
    let token_issuer = local.issuer.clone();
    Router::new()
        .route(
            "/dev/token",
            post(move |body: axum::body::Bytes| {
                let issuer = token_issuer.clone();
                async move {
                    match serde_json::from_slice::<TokenRequest>(&body) {
                        Ok(t) if !t.sub.is_empty() => {
                            let token = issuer.issue(&t.sub, &t.scope, t.ttl_seconds.unwrap_or(3600).clamp(1, 86_400));
                            axum::Json(serde_json::json!({ "token": token })).into_response()
                        }
                        _ => (
                            StatusCode::BAD_REQUEST,
                            [("content-type", "application/problem+json")],
                            r#"{"type":"urn:oms:problem:invalid-request","title":"Send {\"sub\": \"...\", \"scope\": \"...\"}","status":400}"#,
                        )
                            .into_response(),
                    }
                }
            }),
        )
        .fallback(move |req: Request<Body>| {
            let (router, issuer) = (placement.clone(), issuer.clone());
            async move { gateway::handle(router, issuer, req).await }
        })
}

/// Serves the app until Ctrl-C.
pub async fn serve(local: &Local, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    axum::serve(listener, app(local))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// Serves on an already-bound listener in the background (tests).
pub async fn spawn(local: &Local) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = app(local);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

/// What runs where, printed at start.
pub fn banner(local: &Local, cfg: &Config) -> String {
    format!(
        "OMS local runner\n\
         \x20 HTTP API        http://{addr}  (storefront + admin routes under /v1)\n\
         \x20 dev tokens      POST http://{addr}/dev/token {{\"sub\":\"cust-1\",\"scope\":\"\"}}  (scope \"oms/admin\" for admin routes)\n\
         \x20 DynamoDB Local  {ddb}  table {table}\n\
         \x20 moto (SQS)      {moto}  notifications queue {queue}\n\
         \x20 workflow        infra/statemachines/fulfillment.asl.json, started from the table stream\n\
         \x20 demo data       {seed}\n\
         Press Ctrl-C to stop.",
        addr = cfg.addr,
        ddb = local.dynamodb_endpoint,
        table = local.table,
        moto = local.moto_endpoint,
        queue = local.queues.get("NotificationsQueue").map(String::as_str).unwrap_or("-"),
        seed = if cfg.seed { seed::summary() } else { "not seeded (OMS_SEED=0)".into() },
    )
}
