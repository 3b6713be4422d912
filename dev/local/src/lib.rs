//! The local runner: the whole OMS on one machine. DynamoDB Local (and moto) started by the
//! harness unless endpoints are given, the table created from `infra/template.yaml`, demo data
//! seeded, the function routers served behind an API Gateway emulation with dev JWTs.

pub mod gateway;
/// Dev tokens (shared with the functions' `dev-auth` layer).
pub mod pages;
pub mod jwt {
    pub use oms_runtime::devjwt::*;
}
pub mod seed;
pub mod stream;
pub mod workers;
pub mod workflow;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use oms_runtime::wiring;
use oms_shared::adapters::dynamo::DynamoStore;
use oms_shared::adapters::dynamo::meter::CapacityMeter;
use oms_shared::adapters::sandbox::{SandboxCarrier, SandboxPayments};
use oms_shared::app::Oms;
use oms_shared::app::disputes::Disputes;
use oms_shared::app::effects::Effects;
use oms_shared::app::fulfillment::Fulfillment;
use oms_shared::app::notify::Notifier;
use oms_shared::app::reminders::Reminders;
use oms_shared::app::returns::Returns;
use oms_shared::app::tracking::Tracking;
use oms_shared::app::webhooks::Webhooks;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use workflow::Workflow;

/// The verified sender of local mail.
pub const MAIL_FROM: &str = "orders@oms.example";
/// The local push platform application (moto's ARN for the name `oms-local`).
pub const PUSH_APP_ARN: &str = "arn:aws:sns:us-east-1:123456789012:app/GCM/oms-local";
/// Local carrier webhook secrets (the second shows rotation: both are accepted).
pub const WEBHOOK_SECRET: &str = "local-webhook-secret";
pub const WEBHOOK_SECRET_NEXT: &str = "local-webhook-secret-next";
/// The second (economy) carrier's own webhook secret.
pub const ECONOMY_WEBHOOK_SECRET: &str = "local-economy-webhook-secret";
/// Local payment provider webhook secret (Stripe scheme).
pub const PAYMENT_WEBHOOK_SECRET: &str = "whsec_local";

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
    /// The second carrier (`Options::economy`): rates shopped with the first.
    pub economy: Arc<SandboxCarrier>,
    pub sqs: aws_sdk_sqs::Client,
    pub tracking: Tracking,
    pub notifier: Notifier,
    pub reminders: Reminders,
    pub webhooks: Webhooks,
    pub returns: Returns,
    pub disputes: Disputes,
    pub effects: Effects,
    pub webhook_dispatcher: oms_shared::app::webhook_delivery::WebhookDispatcher,
    pub analytics: oms_shared::app::analytics::Analytics,
    /// What the ERP, CRM and loyalty consumers delivered.
    pub integrations: Arc<oms_shared::adapters::sandbox::SandboxIntegrations>,
    /// The table itself, on a client that feeds `meter` (benchmarks read through it).
    pub dynamo: DynamoStore,
    pub meter: Arc<CapacityMeter>,
    /// Template logical id -> local queue URL.
    pub queues: HashMap<String, String>,
    pub issuer: jwt::DevIssuer,
    /// The variables a function needs to run against this stack (`cargo lambda watch
    /// --env-file`), dev token secret included.
    pub function_env: Vec<(String, String)>,
    pub dynamodb_endpoint: String,
    pub moto_endpoint: String,
    pub table: String,
    /// The background stream poller's progress (`Options::stream`).
    pub stream_progress: Option<Arc<stream::Progress>>,
    /// Reads the stream for effects where no poller runs (`dispatch_committed`).
    pub effects_reader: Arc<stream::EffectsReader>,
}

impl Local {
    /// Dispatches the effects committed so far, as the stream would hand them to the effects
    /// function: with the background poller, waits until it read everything and its work ended;
    /// without it, reads the stream here. Then drains what was deferred. Returns how many
    /// entries were dispatched here.
    pub async fn dispatch_committed(&self) -> anyhow::Result<usize> {
        let n = match &self.stream_progress {
            Some(p) => {
                anyhow::ensure!(p.caught_up(std::time::Duration::from_secs(60)).await, "the stream poller lags");
                0
            }
            None => self.effects_reader.dispatch(&self.effects).await?,
        };
        Ok(n + self.effects.drain().await.map_err(|e| anyhow::anyhow!(e.to_string()))?)
    }
}

/// How to start the local stack.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub seed: bool,
    /// Start workflows from the table's stream, as the pipe does on AWS.
    pub stream: bool,
    /// Poll the queues with the consumers, as the event source mappings do on AWS.
    pub workers: bool,
    /// Seconds a failed message stays invisible before redelivery (30 s+ on AWS).
    pub visibility_secs: i32,
    /// Seconds between reminder runs (`None`: only when called).
    pub reminder_tick_secs: Option<u64>,
    /// Use-cases write through the metered client (cost benchmark).
    pub metered: bool,
    /// A second carrier (`sandbox-economy`) next to `sandbox`: labels from the cheaper on time.
    pub economy: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: true,
            stream: true,
            workers: true,
            visibility_secs: 1,
            reminder_tick_secs: None,
            metered: false,
            economy: false,
        }
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

/// Creates the template's event bus in moto as `{prefix}-events` and each of its rules with
/// its SQS targets (`!GetAtt <Queue>.Arn`, the queues `create_queues` made): moto's
/// EventBridge delivers `PutEvents` to them, as the rules do on AWS.
async fn create_bus(eb: &aws_sdk_eventbridge::Client, prefix: &str) -> anyhow::Result<String> {
    use aws_sdk_eventbridge::types::Target;
    let t = oms_harness::template()?;
    let resources = t.get("Resources").and_then(|r| r.as_mapping()).context("Resources")?;
    let bus = format!("{prefix}-events");
    if eb.describe_event_bus().name(&bus).send().await.is_err() {
        eb.create_event_bus().name(&bus).send().await.context("creating the event bus")?;
    }
    for (logical, v) in resources {
        if v.get("Type").and_then(|x| x.as_str()) != Some("AWS::Events::Rule") {
            continue;
        }
        let logical = logical.as_str().unwrap_or_default();
        let props = v.get("Properties").context("rule properties")?;
        let pattern =
            serde_json::to_string(&serde_json::to_value(props.get("EventPattern").context("EventPattern")?)?)?;
        let rule = format!("{prefix}-{logical}");
        eb.put_rule().name(&rule).event_bus_name(&bus).event_pattern(pattern).send().await.context("rule")?;
        for target in props.get("Targets").and_then(|t| t.as_sequence()).into_iter().flatten() {
            let queue = match target.get("Arn") {
                Some(serde_yaml_ng::Value::Tagged(t)) => t.value.as_str().unwrap_or("").split('.').next().unwrap_or(""),
                _ => "",
            };
            let arn = format!("arn:aws:sqs:us-east-1:123456789012:{prefix}-{queue}");
            let id = target.get("Id").and_then(|i| i.as_str()).unwrap_or(queue);
            eb.put_targets()
                .rule(&rule)
                .event_bus_name(&bus)
                .targets(Target::builder().id(id).arn(arn).build()?)
                .send()
                .await
                .context("rule target")?;
        }
    }
    Ok(bus)
}

/// The configuration the local stack gives the composition root: what the template gives each
/// function on AWS, pointed at DynamoDB Local and moto.
fn local_config(
    table: &str,
    endpoint: &str,
    moto: &str,
    queues: &HashMap<String, String>,
    bus: &str,
) -> anyhow::Result<oms_runtime::Config> {
    let url = |q: &str| queues.get(q).cloned().with_context(|| format!("queue {q}"));
    let reminder_stages = std::env::var("REMINDER_STAGES").unwrap_or_else(|_| "4h,24h".into());
    let webhook_secrets = format!("{WEBHOOK_SECRET},{WEBHOOK_SECRET_NEXT}");
    let (notifications, tracking) = (url("NotificationsQueue")?, url("TrackingQueue")?);
    let webhook_queue = url("WebhookQueue")?;
    let webhook_schedule = std::env::var("WEBHOOK_RETRY_SCHEDULE")
        .unwrap_or_else(|_| oms_shared::domain::webhooks::DEFAULT_SCHEDULE.to_owned());
    let webhook_disable_after = std::env::var("WEBHOOK_DISABLE_AFTER").unwrap_or_else(|_| "5".into());
    // Links in mail point at the runner (OMS_PUBLIC_BASE_URL, else the port it serves on).
    let base = std::env::var("OMS_PUBLIC_BASE_URL").unwrap_or_else(|_| {
        format!("http://127.0.0.1:{}", std::env::var("OMS_PORT").unwrap_or_else(|_| "3000".into()))
    });
    // The shipment mail links to the shop's public tracking page (the sandbox carrier's own page
    // stays at /dev/track/{tracking}).
    let tracking_url = format!("{base}/track?number={{tracking}}");
    // A fixed local value (OMS_LINK_SIGNING_SECRET to change it), so links mailed before a
    // restart of the runner still open.
    let link_secret =
        std::env::var("OMS_LINK_SIGNING_SECRET").unwrap_or_else(|_| "local-only-link-secret-not-for-deployment".into());
    Ok(oms_runtime::Config::from_pairs([
        ("TABLE_NAME", table),
        ("DYNAMODB_ENDPOINT", endpoint),
        ("SQS_ENDPOINT", moto),
        ("SES_ENDPOINT", moto),
        ("SNS_ENDPOINT", moto),
        ("PUSH_PLATFORM_APPLICATION_ARN", PUSH_APP_ARN),
        ("EVENTS_ENDPOINT", moto),
        ("EVENT_BUS_NAME", bus),
        ("NOTIFICATIONS_QUEUE_URL", notifications.as_str()),
        ("TRACKING_QUEUE_URL", tracking.as_str()),
        ("WEBHOOK_QUEUE_URL", webhook_queue.as_str()),
        ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
        ("WEBHOOK_RETRY_SCHEDULE", webhook_schedule.as_str()),
        ("WEBHOOK_DISABLE_AFTER", webhook_disable_after.as_str()),
        ("SES_FROM", MAIL_FROM),
        ("BRAND", "OMS Demo Shop"),
        ("SELLER_NAME", "OMS Demo Shop Inc."),
        ("SELLER_ADDRESS", "1 Example Street|New York, NY 10001|US"),
        ("SELLER_TAX_ID", "US-12-3456789"),
        ("PUBLIC_BASE_URL", base.as_str()),
        ("LINK_SIGNING_SECRET", link_secret.as_str()),
        ("TRACKING_URL", tracking_url.as_str()),
        ("WEBHOOK_SECRETS", webhook_secrets.as_str()),
        ("PAYMENT_WEBHOOK_SECRETS", PAYMENT_WEBHOOK_SECRET),
        ("CARRIERS", "sandbox,sandbox-economy,easypost"),
        ("CARRIER_WEBHOOK_SECRETS", concat!("sandbox-economy=", "local-economy-webhook-secret")),
        ("REMINDER_STAGES", reminder_stages.as_str()),
        ("PAYMENT_PROVIDER", "sandbox"),
        ("CARRIER_PROVIDER", "sandbox"),
    ]))
}

/// What `cargo lambda watch` needs to run every function against this stack: the functions'
/// configuration, local AWS credentials, and the secret the dev tokens are signed with.
fn function_env(cfg: &oms_runtime::Config, issuer: &jwt::DevIssuer) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = cfg.vars().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    env.sort();
    for (k, v) in [("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")] {
        env.push((k.into(), v.into()));
    }
    env.push((jwt::SECRET_VAR.into(), issuer.secret_text()));
    env
}

/// The env file for `cargo lambda watch` (`KEY=value` lines).
pub fn env_file(local: &Local) -> String {
    let mut out = String::from("# Written by the local runner for cargo lambda watch: this run's stack.\n");
    for (k, v) in &local.function_env {
        let v = v.replace('\\', "\\\\").replace('"', "\\\"");
        out.push_str(&format!("{k}=\"{v}\"\n"));
    }
    out
}

/// Starts (or connects to) DynamoDB Local and moto, creates the table and queues when missing,
/// seeds demo data, and (with `stream`) starts workflows and dispatches effects from the
/// table's stream. The use-cases come from the same wiring as the Lambda functions.
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
    let bus = create_bus(&oms_shared::adapters::aws::eventbridge_client(&conf, Some(&moto)), table).await?;
    let issuer = jwt::DevIssuer::from_env();
    let cfg = local_config(table, &endpoint, &moto, &queues, &bus)?;
    let mut ports = oms_runtime::Ports::from_config(&cfg).await?;
    // The same sandbox adapters the configuration names, kept by type so tests can look inside.
    let payments = Arc::new(SandboxPayments::new());
    let carrier = Arc::new(SandboxCarrier::new());
    ports.payments = oms_shared::adapters::marketplace::MarketplaceSettled::over(payments.clone());
    let economy = Arc::new(SandboxCarrier::named(oms_shared::adapters::sandbox::carrier::ECONOMY));
    ports.carrier = if opts.economy {
        oms_shared::adapters::carriers::CarrierSet::of(vec![carrier.clone(), economy.clone()])
            .map_err(anyhow::Error::msg)?
    } else {
        carrier.clone()
    };
    let meter = Arc::new(CapacityMeter::default());
    let dynamo = DynamoStore::new(
        oms_shared::adapters::aws::dynamodb_client_metered(&conf, Some(&endpoint), meter.clone()),
        table,
    );
    if opts.metered {
        ports.store = Arc::new(dynamo.clone());
    }
    // SES rejects unverified senders, as on AWS.
    ports.ses.create_email_identity().email_identity(MAIL_FROM).send().await.ok();
    // The app's push platform (FCM), as it would be created once on AWS.
    ports
        .sns
        .create_platform_application()
        .name("oms-local")
        .platform("GCM")
        .attributes("PlatformCredential", "local-fcm-key")
        .send()
        .await
        .ok();
    let oms = wiring::oms(&ports);
    let fulfillment = wiring::fulfillment(&ports);
    let workflow = Arc::new(Workflow::load(fulfillment.clone(), sqs.clone(), &queues)?);
    let url = |q: &str| queues.get(q).cloned().with_context(|| format!("queue {q}"));
    let tracking = wiring::tracking(&ports, &cfg);
    let notifier = wiring::notifier(&ports, &cfg)?;
    let reminders = wiring::reminders(&ports, &cfg)?;
    let webhooks = wiring::webhooks(&ports, &cfg)?;
    let returns = wiring::returns(&ports, &cfg)?;
    let disputes = wiring::disputes(&ports, &cfg)?;
    let effects = wiring::effects(&ports, &cfg)?;
    let webhook_dispatcher = wiring::webhook_dispatcher(&ports, &cfg)?;
    let analytics = wiring::analytics(&ports);
    // The ERP, CRM and loyalty systems, offline: one receiver keeps what each consumer sends.
    let integrations = Arc::new(oms_shared::adapters::sandbox::SandboxIntegrations::default());
    if opts.workers {
        use oms_shared::app::integrations::{IntegrationConsumer, Target};
        let arn = |q: &str| format!("arn:aws:sqs:us-east-1:123456789012:{table}-{q}");
        for (queue, target) in [
            ("ErpQueue", Target::Erp(integrations.clone())),
            ("CrmQueue", Target::Crm(integrations.clone())),
            ("LoyaltyQueue", Target::Loyalty(integrations.clone())),
        ] {
            let c = IntegrationConsumer { target };
            tokio::spawn(workers::poll(sqs.clone(), url(queue)?, arn(queue), opts.visibility_secs, move |ev| {
                let c = c.clone();
                async move { oms_runtime::integration_batch(&c, ev).await }
            }));
        }
        let d = webhook_dispatcher.clone();
        tokio::spawn(workers::poll(
            sqs.clone(),
            url("WebhookQueue")?,
            format!("arn:aws:sqs:us-east-1:123456789012:{table}-WebhookQueue"),
            opts.visibility_secs,
            move |ev| {
                let d = d.clone();
                async move { oms_runtime::webhook_batch(&d, ev).await }
            },
        ));
        let arn = |q: &str| format!("arn:aws:sqs:us-east-1:123456789012:{table}-{q}");
        let t = tracking.clone();
        tokio::spawn(workers::poll(
            sqs.clone(),
            url("TrackingQueue")?,
            arn("TrackingQueue"),
            opts.visibility_secs,
            move |ev| {
                let t = t.clone();
                async move { oms_runtime::tracking_batch(&t, ev).await }
            },
        ));
        let a = analytics.clone();
        tokio::spawn(workers::poll(
            sqs.clone(),
            url("AnalyticsQueue")?,
            arn("AnalyticsQueue"),
            opts.visibility_secs,
            move |ev| {
                let a = a.clone();
                async move { oms_runtime::analytics_batch(&a, ev).await }
            },
        ));
        let n = notifier.clone();
        tokio::spawn(workers::poll(
            sqs.clone(),
            url("NotificationsQueue")?,
            arn("NotificationsQueue"),
            opts.visibility_secs,
            move |ev| {
                let n = n.clone();
                async move { oms_runtime::notifier_batch(&n, ev).await }
            },
        ));
    }
    let desc = client.describe_table().table_name(table).send().await?;
    let stream_arn = desc.table().and_then(|t| t.latest_stream_arn()).context("the table has no stream")?.to_owned();
    let streams = {
        let mut b = aws_sdk_dynamodbstreams::config::Builder::from(&conf);
        b = b.endpoint_url(&endpoint);
        aws_sdk_dynamodbstreams::Client::from_conf(b.build())
    };
    let effects_reader = Arc::new(stream::EffectsReader::new(streams.clone(), stream_arn.clone()));
    if opts.workers && !opts.stream {
        // No stream poller: effects are read from the stream here (and what failed is drained).
        let (fx, reader) = (effects.clone(), effects_reader.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                if let Err(e) = reader.dispatch(&fx).await {
                    tracing::warn!(error = %e, "effects dispatch failed");
                }
                if let Err(e) = fx.drain().await {
                    tracing::warn!(error = %e, "effects drain failed");
                }
            }
        });
    }
    if let Some(secs) = opts.reminder_tick_secs {
        let r = reminders.clone();
        let o = oms.clone();
        let fx = effects.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
                // The effects function's schedule: deferred effects are tried again.
                if let Err(e) = fx.drain().await {
                    tracing::warn!(error = %e, "effects drain failed");
                }
                if let Err(e) = r.run().await {
                    tracing::warn!(error = %e, "reminder run failed");
                }
                // The reconciliation schedule's confirmation-call timeouts.
                if let Err(e) = o.expire_confirmations().await {
                    tracing::warn!(error = %e, "confirmation timeouts failed");
                }
                if let Err(e) = o.sweep_pickups().await {
                    tracing::warn!(error = %e, "pickup sweep failed");
                }
                if let Err(e) = o.sweep_payments().await {
                    tracing::warn!(error = %e, "payment sweep failed");
                }
                if let Err(e) = o.sweep_feedback().await {
                    tracing::warn!(error = %e, "feedback sweep failed");
                }
            }
        });
    }
    if opts.seed {
        seed::seed(&oms).await?;
    }
    let stream_progress = if opts.stream {
        // Whatever an earlier run deferred goes out first.
        if let Err(e) = effects.drain().await {
            tracing::warn!(error = %e, "draining pending effects failed");
        }
        let progress = Arc::new(stream::Progress::default());
        tokio::spawn(stream::poll(streams, stream_arn, workflow.clone(), effects.clone(), progress.clone()));
        Some(progress)
    } else {
        None
    };
    Ok(Local {
        oms,
        fulfillment,
        workflow,
        payments,
        carrier,
        economy,
        sqs,
        tracking,
        notifier,
        reminders,
        webhooks,
        returns,
        disputes,
        effects,
        webhook_dispatcher,
        analytics,
        integrations,
        dynamo,
        stream_progress,
        effects_reader,
        meter,
        queues,
        function_env: function_env(&cfg, &issuer),
        issuer,
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
/// Every HTTP function's router, as API Gateway routes to them.
pub fn functions_router(local: &Local) -> Router {
    placement::router(local.oms.clone())
        .merge(tracking_webhook::router(local.webhooks.clone()))
        .merge(returns::router(local.returns.clone()))
        .merge(payment_webhook::router(local.disputes.clone()))
}

pub fn app(local: &Local) -> Router {
    let placement = functions_router(local);
    let carrier_router = placement.clone();
    let moto = local.moto_endpoint.clone();
    let issuer = local.issuer.clone();
    let token_issuer = local.issuer.clone();
    let track_store = local.oms.store.clone();
    let inbound_oms = local.oms.clone();
    let import_oms = local.oms.clone();
    let sweep_oms = local.oms.clone();
    let sweep_effects = local.effects.clone();
    let park_store = local.oms.store.clone();
    Router::new()
        // Runs the scheduled sweeps now, or as at `{"at": "<RFC 3339>"}` (a survey due in three
        // days, a payment deadline): what the effects function's schedule does on AWS.
        .route(
            "/dev/sweeps",
            post(move |body: axum::body::Bytes| {
                let mut oms = sweep_oms.clone();
                let fx = sweep_effects.clone();
                async move {
                    let given = serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| v.get("at").cloned());
                    match given.as_ref().map(|a| a.as_str().and_then(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok())) {
                        Some(Some(at)) => oms.clock = Arc::new(FixedClock(at)),
                        Some(None) => {
                            let msg = "at: an RFC 3339 time, for example 2026-12-03T12:00:00Z";
                            return (axum::http::StatusCode::BAD_REQUEST, msg).into_response();
                        }
                        None => {}
                    }
                    let surveys = oms.sweep_feedback().await.unwrap_or(0);
                    let payments = oms.sweep_payments().await.unwrap_or(0);
                    let pickups = oms.sweep_pickups().await.map(|p| p.expired).unwrap_or(0);
                    let cover = fx.cover_alerts(oms.clock.now()).await.unwrap_or(0);
                    axum::Json(serde_json::json!({"surveysSent": surveys, "paymentsExpired": payments,
                        "pickupsExpired": pickups, "coverAlerts": cover}))
                    .into_response()
                }
            }),
        )
        // A stock file as the WMS puts it on S3 (the body is the CSV): what the stock-import
        // function does with it, and its report.
        .route(
            "/dev/stock-import",
            post(move |body: axum::body::Bytes| {
                let oms = import_oms.clone();
                async move {
                    match oms.import_stock(&body).await {
                        Ok(r) => axum::Json(serde_json::json!(r)).into_response(),
                        Err(e) => (axum::http::StatusCode::BAD_REQUEST, e.to_string()).into_response(),
                    }
                }
            }),
        )
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
        // The drain gives up on an order's latest change record with effects (`{"orderId"}`), as
        // after ten failed runs: what an operator then sees on the parked list. Fault injection
        // for the console's tests; there is no such route on AWS.
        .route(
            "/dev/effects/park",
            post(move |body: axum::body::Bytes| {
                let store = park_store.clone();
                async move { dev_park(store.as_ref(), &body).await }
            }),
        )
        .route(
            "/dev/carrier-events",
            post(move |body: axum::body::Bytes| {
                let router = carrier_router.clone();
                async move { dev_carrier_event(router, &body).await }
            }),
        )
        .route(
            "/dev/track/{tracking}",
            axum::routing::get(move |axum::extract::Path(t): axum::extract::Path<String>| {
                let store = track_store.clone();
                async move { pages::track_page(store.as_ref(), &t).await }
            }),
        )
        .route(
            "/dev/inbound-mail",
            post(move |body: axum::body::Bytes| {
                let oms = inbound_oms.clone();
                async move { pages::inbound_mail(&oms, &body).await }
            }),
        )
        .route("/console", axum::routing::get(|| async { axum::response::Redirect::permanent("/console/") }))
        .route("/console/", axum::routing::get(|| async { pages::console_file("").await }))
        .route(
            "/console/{*path}",
            axum::routing::get(|axum::extract::Path(p): axum::extract::Path<String>| async move {
                pages::console_file(&p).await
            }),
        )
        .route(
            "/dev/mail",
            axum::routing::get({
                let moto = moto.clone();
                move || {
                    let moto = moto.clone();
                    async move { dev_mail(&moto).await }
                }
            }),
        )
        .route(
            "/dev/messages",
            axum::routing::get(move || {
                let moto = moto.clone();
                async move {
                    match pages::messages(&moto).await {
                        Ok(v) => axum::Json(v).into_response(),
                        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
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

/// Where the runner writes the env file for `cargo lambda watch` (`OMS_WATCH_ENV`).
pub fn watch_env_path() -> String {
    std::env::var("OMS_WATCH_ENV").unwrap_or_else(|_| ".local/watch.env".into())
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
         \x20 one function    ./dev/watch.sh  (cargo lambda watch on {watch_env}: this stack, these tokens)\n\
         Press Ctrl-C to stop.",
        addr = cfg.addr,
        watch_env = watch_env_path(),
        ddb = local.dynamodb_endpoint,
        table = local.table,
        moto = local.moto_endpoint,
        queue = local.queues.get("NotificationsQueue").map(String::as_str).unwrap_or("-"),
        seed = if cfg.seed { seed::summary() } else { "not seeded (OMS_SEED=0)".into() },
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CarrierEventRequest {
    tracking_number: String,
    status: String,
    #[serde(default)]
    carrier: Option<String>,
    #[serde(default)]
    est_delivery_date: Option<String>,
    #[serde(default)]
    event_id: Option<String>,
}

/// An EasyPost-shaped `tracker.updated` event for a tracking number.
pub fn carrier_event(
    event_id: &str,
    tracking_number: &str,
    status: &str,
    est_delivery_date: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "id": event_id,
        "object": "Event",
        "mode": "test",
        "description": "tracker.updated",
        "created_at": chrono::Utc::now().to_rfc3339(),
        "result": {
            "object": "Tracker",
            "tracking_code": tracking_number,
            "status": status,
            "est_delivery_date": est_delivery_date,
            "carrier": "SBX",
            "tracking_details": [{"object": "TrackingDetail", "status": status, "datetime": chrono::Utc::now().to_rfc3339()}]
        }
    })
}

/// `POST /dev/carrier-events`: sends a carrier event for a shipment, signed exactly as the
/// carrier signs it, through the real webhook route.
async fn dev_park(store: &dyn oms_shared::ports::Store, body: &[u8]) -> axum::response::Response {
    let bad = |msg: String| (StatusCode::BAD_REQUEST, msg).into_response();
    let given = serde_json::from_slice::<serde_json::Value>(body).ok();
    let Some(Ok(order)) = given.as_ref().and_then(|v| v["orderId"].as_str()).map(oms_shared::domain::OrderId::parse)
    else {
        return bad("send {\"orderId\": \"<an order id>\"}".into());
    };
    let parked = async {
        let entries = store.effects_of_order(&order).await?;
        let Some(last) = entries.iter().rev().find(|e| !e.effects.is_empty()) else {
            return Ok::<_, oms_shared::ports::StoreError>(None);
        };
        // A drain run between the deferral and the settlement moves the record's revision: try
        // again (its effects are deduplicated, so running them early sends nothing twice).
        for _ in 0..5 {
            store.defer_effects(&order, &last.id, 0).await?;
            let Some(entry) = store.get_outbox_entry(&order, &last.id).await? else { continue };
            let give_up =
                oms_shared::ports::Settlement { effects_from: 0, attempts: 10, parked: true, ..Default::default() };
            if store.settle_effects(&entry, &give_up).await? {
                return Ok(Some(last.id.clone()));
            }
        }
        Err(oms_shared::ports::StoreError::Conflict)
    };
    match parked.await {
        Ok(Some(entry)) => {
            axum::Json(serde_json::json!({"orderId": order.to_string(), "entryId": entry})).into_response()
        }
        Ok(None) => bad("the order has no change record with effects".into()),
        Err(e) => (StatusCode::CONFLICT, e.to_string()).into_response(),
    }
}

async fn dev_carrier_event(router: Router, body: &[u8]) -> axum::response::Response {
    let Ok(req) = serde_json::from_slice::<CarrierEventRequest>(body) else {
        return (StatusCode::BAD_REQUEST, [("content-type", "application/problem+json")], r#"{"type":"urn:oms:problem:invalid-request","title":"Send {\"trackingNumber\", \"status\"}","status":400}"#).into_response();
    };
    let id = req.event_id.unwrap_or_else(|| format!("evt_{}", ulid::Ulid::new().to_string().to_lowercase()));
    let payload = carrier_event(&id, &req.tracking_number, &req.status, req.est_delivery_date.as_deref()).to_string();
    let carrier = req.carrier.unwrap_or_else(|| "sandbox".into());
    let secret = if carrier == oms_shared::adapters::sandbox::carrier::ECONOMY {
        ECONOMY_WEBHOOK_SECRET
    } else {
        WEBHOOK_SECRET
    };
    let signature = oms_shared::app::webhooks::sign(secret, payload.as_bytes());
    let headers = HashMap::from([
        ("content-type".to_owned(), "application/json".to_owned()),
        ("x-hmac-signature".to_owned(), signature),
    ]);
    let event = gateway::apigw_event(
        "POST",
        &format!("/v1/webhooks/carriers/{carrier}"),
        "",
        &headers,
        payload.as_bytes(),
        None,
    );
    gateway::invoke(&router, &event).await.into_response()
}

/// `GET /dev/mail`: the mail SES (moto) accepted, newest last.
async fn dev_mail(moto: &str) -> axum::response::Response {
    match mail(moto).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

pub use pages::{mail, messages};

/// An order's change records as the table holds them (what the stream hands the effects
/// function): for benchmarks and tests that play the stream's part.
pub async fn change_records(
    local: &Local,
    order: &str,
) -> anyhow::Result<Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>> {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let client = oms_harness::dynamodb_client(&local.dynamodb_endpoint).await;
    Ok(client
        .query()
        .table_name(&local.table)
        .key_condition_expression("PK = :pk AND begins_with(SK, :sk)")
        .expression_attribute_values(":pk", A::S(format!("ORDER#{order}")))
        .expression_attribute_values(":sk", A::S("EVENT#".into()))
        .send()
        .await?
        .items
        .unwrap_or_default())
}

/// Hands every change record of `order` that has effects to the dispatcher again, as the stream
/// does when the effects function crashed after the dispatch (tests: nothing doubles). Returns
/// how many were handed.
pub async fn redeliver_effects(local: &Local, order: &str) -> anyhow::Result<usize> {
    let mut n = 0;
    for item in change_records(local, order).await? {
        let s_of = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        if s_of("dispatch").as_deref() != Some(oms_shared::adapters::dynamo::entities::records::DISPATCH_EFFECTS) {
            continue;
        }
        let (Some(pk), Some(sk)) = (s_of("PK"), s_of("SK")) else { continue };
        let Some((order, id)) = oms_shared::adapters::dynamo::keys::parse_outbox(&pk, &sk) else { continue };
        local.effects.dispatch(&order, &id).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
        n += 1;
    }
    Ok(n)
}

/// A clock stopped at one instant (`/dev/sweeps` with `at`).
struct FixedClock(chrono::DateTime<chrono::Utc>);

impl oms_shared::ports::Clock for FixedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}
