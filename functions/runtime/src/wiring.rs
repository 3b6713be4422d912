//! The one composition root: adapters built once from the configuration, and each function's
//! use-cases built from them. The Lambda mains and the local runner (`dev/local`) both come
//! through here; the local runner only swaps in its own instances of the same sandbox adapters
//! so that tests can look inside them.

use crate::config::{Config, ConfigError};
use oms_shared::adapters::aws;
use oms_shared::adapters::dynamo::DynamoStore;
use oms_shared::adapters::easypost::EasyPostCarrier;
use oms_shared::adapters::eventbridge::EventBridgeBus;
use oms_shared::adapters::http::HttpClient;
use oms_shared::adapters::sandbox::{SandboxCarrier, SandboxPayments};
use oms_shared::adapters::ses::SesMailer;
use oms_shared::adapters::sqs::SqsQueue;
use oms_shared::adapters::stripe::StripeGateway;
use oms_shared::app::Oms;
use oms_shared::app::disputes::Disputes;
use oms_shared::app::effects::Effects;
use oms_shared::app::fulfillment::Fulfillment;
use oms_shared::app::links::{LinkConfigError, Links};
use oms_shared::app::notify::{Notifier, Templates};
use oms_shared::app::reminders::{Reminders, parse_stages};
use oms_shared::app::returns::Returns;
use oms_shared::app::tracking::Tracking;
use oms_shared::app::webhook_delivery::WebhookDispatcher;
use oms_shared::app::webhooks::Webhooks;
use oms_shared::ports::{Carrier, Clock, PaymentGateway, Queue, Store, SystemClock};
use std::sync::Arc;

/// Every adapter a function may need, built once per process.
#[derive(Clone)]
pub struct Ports {
    /// Every storage port: the DynamoDB table.
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// `PAYMENT_PROVIDER`: the sandbox or Stripe.
    pub payments: Arc<dyn PaymentGateway>,
    /// `CARRIER_PROVIDER`: the sandbox or EasyPost.
    pub carrier: Arc<dyn Carrier>,
    /// `LOYALTY_PROVIDER`: the sandbox programme or its REST API (members' tiers and offers).
    pub loyalty: Arc<dyn oms_shared::ports::Loyalty>,
    /// Queues are named per function (`*_QUEUE_URL`), on this client.
    pub sqs: aws_sdk_sqs::Client,
    pub ses: aws_sdk_sesv2::Client,
    /// SMS and push (`SNS_ENDPOINT` locally).
    pub sns: aws_sdk_sns::Client,
    /// The integration event bus is named per function (`EVENT_BUS_NAME`), on this client.
    pub eventbridge: aws_sdk_eventbridge::Client,
    /// `WEBHOOK_ALLOW_PRIVATE_TARGETS=true` (local runs only): webhook URLs may be http and
    /// name loopback or private hosts.
    pub webhooks_private_targets: bool,
    /// `PICKUP_HOLD_DAYS` (1-60, default 7): how long a store keeps a pickup order before it is
    /// cancelled, refunded and restocked.
    pub pickup_hold_days: i64,
    /// `PAYMENT_RECOVERY_HOURS` (1-168, default 24): how long a declined order keeps its stock
    /// for the customer to give another payment method before it is cancelled.
    pub payment_recovery_hours: i64,
    /// `FEEDBACK_AFTER_DAYS` (0-60, default 3): days after delivery the satisfaction survey is
    /// sent; 0 sends none.
    pub feedback_after_days: i64,
}

fn http() -> Result<HttpClient, ConfigError> {
    HttpClient::new(std::time::Duration::from_secs(10)).map_err(|e| ConfigError::Init(e.to_string()))
}

/// What a `*_PROVIDER` variable names: the offline sandbox (the default), or the real provider
/// with its API base and secret, both required then.
enum Provider {
    Sandbox,
    Real { base: String, key: String },
}

fn provider(cfg: &Config, var: &'static str, real: &str, creds: [&'static str; 2]) -> Result<Provider, ConfigError> {
    match cfg.or(var, "sandbox") {
        p if p == "sandbox" => Ok(Provider::Sandbox),
        p if p == real => {
            Ok(Provider::Real { base: cfg.require(creds[0])?.to_owned(), key: cfg.require(creds[1])?.to_owned() })
        }
        other => Err(ConfigError::Invalid { name: var, reason: format!("{other} is not supported") }),
    }
}

pub fn payments(cfg: &Config) -> Result<Arc<dyn PaymentGateway>, ConfigError> {
    // Marketplace orders' payments are settled by recording them, whatever the provider.
    let provider: Arc<dyn PaymentGateway> =
        match provider(cfg, "PAYMENT_PROVIDER", "stripe", ["STRIPE_API_BASE", "STRIPE_SECRET_KEY"])? {
            Provider::Sandbox => Arc::new(SandboxPayments::new()),
            Provider::Real { base, key } => Arc::new(StripeGateway::new(http()?, base, key)),
        };
    Ok(oms_shared::adapters::marketplace::MarketplaceSettled::over(provider))
}

/// `LOYALTY_PROVIDER`: `sandbox` (a local programme with a standing offer) or `http`
/// (`LOYALTY_API_BASE`, `LOYALTY_API_KEY`, required then).
pub fn loyalty(cfg: &Config) -> Result<Arc<dyn oms_shared::ports::Loyalty>, ConfigError> {
    Ok(match provider(cfg, "LOYALTY_PROVIDER", "http", ["LOYALTY_API_BASE", "LOYALTY_API_KEY"])? {
        Provider::Sandbox => Arc::new(oms_shared::adapters::sandbox::SandboxIntegrations::with_standard_offers()),
        Provider::Real { base, key } => Arc::new(oms_shared::adapters::integrations::RestApi::new(http()?, base, key)),
    })
}

/// `CARRIER_PROVIDER`: one carrier or several, comma-separated, the default first (`sandbox`,
/// `sandbox-economy`, `easypost`); labels are bought from whichever meets the promise for less.
pub fn carrier(cfg: &Config) -> Result<Arc<dyn Carrier>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid { name: "CARRIER_PROVIDER", reason };
    let mut carriers: Vec<Arc<dyn Carrier>> = Vec::new();
    for name in cfg.or("CARRIER_PROVIDER", "sandbox").split(',').map(str::trim).filter(|n| !n.is_empty()) {
        carriers.push(match name {
            "sandbox" => Arc::new(SandboxCarrier::new()),
            "sandbox-economy" => Arc::new(SandboxCarrier::named(oms_shared::adapters::sandbox::carrier::ECONOMY)),
            "easypost" => Arc::new(EasyPostCarrier::new(
                http()?,
                cfg.require("EASYPOST_API_BASE")?.to_owned(),
                cfg.require("EASYPOST_API_KEY")?.to_owned(),
            )),
            other => return Err(invalid(format!("{other} is not supported"))),
        });
    }
    oms_shared::adapters::carriers::CarrierSet::of(carriers).map_err(invalid)
}

impl Ports {
    /// Builds every adapter from the configuration. Nothing here fails for a variable only some
    /// functions need: those are required by the use-case builders below.
    pub async fn from_config(cfg: &Config) -> Result<Ports, ConfigError> {
        let store_cfg = cfg.store()?;
        let conf = aws::load_config(cfg.local()).await;
        let client = aws::dynamodb_client(&conf, store_cfg.endpoint.as_deref());
        let store = DynamoStore::new(client, store_cfg.table.clone());
        // The connection is opened during init, where a cold start already waits (bounded).
        let warm_up_ms: u64 = cfg
            .or("DYNAMODB_WARM_UP_MS", "2000")
            .parse()
            .map_err(|_| ConfigError::Invalid { name: "DYNAMODB_WARM_UP_MS", reason: "milliseconds".into() })?;
        if warm_up_ms > 0 && !store.warm_up(std::time::Duration::from_millis(warm_up_ms)).await {
            tracing::warn!(table = %store_cfg.table, "DynamoDB warm-up did not complete; the first request will connect");
        }
        Ok(Ports {
            store: Arc::new(store),
            clock: Arc::new(SystemClock),
            payments: payments(cfg)?,
            carrier: carrier(cfg)?,
            loyalty: loyalty(cfg)?,
            sqs: aws::sqs_client(&conf, cfg.endpoint("SQS_ENDPOINT").as_deref()),
            ses: aws::ses_client(&conf, cfg.endpoint("SES_ENDPOINT").as_deref()),
            sns: aws::sns_client(&conf, cfg.endpoint("SNS_ENDPOINT").as_deref()),
            eventbridge: aws::eventbridge_client(&conf, cfg.endpoint("EVENTS_ENDPOINT").as_deref()),
            webhooks_private_targets: cfg.or("WEBHOOK_ALLOW_PRIVATE_TARGETS", "false") == "true",
            pickup_hold_days: cfg
                .or("PICKUP_HOLD_DAYS", "7")
                .parse()
                .ok()
                .filter(|d| (1..=60).contains(d))
                .ok_or(ConfigError::Invalid { name: "PICKUP_HOLD_DAYS", reason: "whole days, 1 to 60".into() })?,
            payment_recovery_hours: cfg
                .or("PAYMENT_RECOVERY_HOURS", "24")
                .parse()
                .ok()
                .filter(|h| (1..=168).contains(h))
                .ok_or(ConfigError::Invalid {
                    name: "PAYMENT_RECOVERY_HOURS",
                    reason: "whole hours, 1 to 168".into(),
                })?,
            feedback_after_days: cfg
                .or("FEEDBACK_AFTER_DAYS", "3")
                .parse()
                .ok()
                .filter(|d| (0..=60).contains(d))
                .ok_or(ConfigError::Invalid { name: "FEEDBACK_AFTER_DAYS", reason: "whole days, 0 to 60".into() })?,
        })
    }

    fn queue(&self, cfg: &Config, var: &'static str) -> Result<Arc<dyn Queue>, ConfigError> {
        Ok(Arc::new(SqsQueue::new(self.sqs.clone(), cfg.require(var)?.to_owned())))
    }
}

/// The storefront and agent API (placement function).
pub fn oms(p: &Ports) -> Oms {
    let mut oms = Oms::new(p.store.clone(), p.clock.clone(), p.carrier.clone(), p.loyalty.clone());
    oms.webhooks_private_targets = p.webhooks_private_targets;
    oms.pickup_hold_days = p.pickup_hold_days;
    oms.payment_recovery_hours = p.payment_recovery_hours;
    oms.feedback_after_days = p.feedback_after_days;
    oms
}

pub fn fulfillment(p: &Ports) -> Fulfillment {
    Fulfillment { oms: oms(p), payments: p.payments.clone(), carrier: p.carrier.clone() }
}

pub fn tracking(p: &Ports, cfg: &Config) -> Tracking {
    Tracking {
        oms: oms(p),
        payments: p.payments.clone(),
        tracking_url: cfg.or("TRACKING_URL", "https://track.example.com/{tracking}"),
    }
}

/// `CARRIER_WEBHOOK_SECRETS`: carriers with secrets of their own,
/// `carrier=secret[|secret during a rotation],carrier2=secret`; the others use `WEBHOOK_SECRETS`.
fn carrier_secrets(cfg: &Config) -> Result<Vec<(String, Vec<String>)>, ConfigError> {
    let mut out = Vec::new();
    for pair in cfg.or("CARRIER_WEBHOOK_SECRETS", "").split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let invalid = || ConfigError::Invalid {
            name: "CARRIER_WEBHOOK_SECRETS",
            reason: "carrier=secret pairs, comma-separated (secrets of one carrier by |)".into(),
        };
        let (carrier, secrets) = pair.split_once('=').ok_or_else(invalid)?;
        let secrets: Vec<String> =
            secrets.split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if carrier.trim().is_empty() || secrets.is_empty() {
            return Err(invalid());
        }
        out.push((carrier.trim().to_owned(), secrets));
    }
    Ok(out)
}

pub fn webhooks(p: &Ports, cfg: &Config) -> Result<Webhooks, ConfigError> {
    Ok(Webhooks {
        oms: oms(p),
        queue: p.queue(cfg, "TRACKING_QUEUE_URL")?,
        secrets: cfg.list("WEBHOOK_SECRETS")?,
        carriers: cfg
            .or("CARRIERS", "sandbox,sandbox-economy,easypost")
            .split(',')
            .map(|s| s.trim().to_owned())
            .collect(),
        carrier_secrets: carrier_secrets(cfg)?,
    })
}

pub fn notifier(p: &Ports, cfg: &Config) -> Result<Notifier, ConfigError> {
    let brand = cfg.or("BRAND", "OMS Shop");
    Ok(Notifier {
        oms: oms(p),
        mailer: Arc::new(
            SesMailer::new(p.ses.clone(), cfg.require("SES_FROM")?, cfg.endpoint("SES_CONFIGURATION_SET"))
                .with_display_name(brand.clone()),
        ),
        templates: Arc::new(Templates::load().map_err(ConfigError::Init)?),
        brand,
        links: links(cfg)?,
        tracking_url: cfg.require("TRACKING_URL")?.to_owned(),
        messages: Arc::new(oms_shared::adapters::sns::SnsMessages::new(p.sns.clone(), push_application(cfg))),
        queue: p.queue(cfg, "NOTIFICATIONS_QUEUE_URL")?,
    })
}

/// `PUSH_PLATFORM_APPLICATION_ARN`: the SNS platform application (FCM) app notifications go
/// through. Without it push is not set up: said once here, and each push is skipped with a
/// warning (SMS and mail go on).
fn push_application(cfg: &Config) -> Option<String> {
    let arn = cfg.endpoint("PUSH_PLATFORM_APPLICATION_ARN");
    if arn.is_none() {
        tracing::warn!("PUSH_PLATFORM_APPLICATION_ARN is not set: app notifications are not sent");
    }
    arn
}

/// `PUBLIC_BASE_URL` (where customers' links point) and `LINK_SIGNING_SECRET` (signs them).
pub fn links(cfg: &Config) -> Result<Links, ConfigError> {
    let secret = cfg.require("LINK_SIGNING_SECRET")?;
    Links::new(cfg.require("PUBLIC_BASE_URL")?, secret).map_err(|e| ConfigError::Invalid {
        name: match e {
            LinkConfigError::Base => "PUBLIC_BASE_URL",
            LinkConfigError::Secret => "LINK_SIGNING_SECRET",
        },
        reason: e.to_string(),
    })
}

pub fn reminders(p: &Ports, cfg: &Config) -> Result<Reminders, ConfigError> {
    Ok(Reminders {
        oms: oms(p),
        notifications: p.queue(cfg, "NOTIFICATIONS_QUEUE_URL")?,
        stages: parse_stages(&cfg.or("REMINDER_STAGES", "4h,24h"))
            .map_err(|reason| ConfigError::Invalid { name: "REMINDER_STAGES", reason })?,
    })
}

pub fn returns(p: &Ports, cfg: &Config) -> Result<Returns, ConfigError> {
    Ok(Returns { oms: oms(p), carrier: p.carrier.clone(), payments: p.payments.clone(), links: links(cfg)? })
}

pub fn disputes(p: &Ports, cfg: &Config) -> Result<Disputes, ConfigError> {
    Ok(Disputes { oms: oms(p), secrets: cfg.list("PAYMENT_WEBHOOK_SECRETS")? })
}

pub fn effects(p: &Ports, cfg: &Config) -> Result<Effects, ConfigError> {
    Ok(Effects {
        store: p.store.clone(),
        notifications: p.queue(cfg, "NOTIFICATIONS_QUEUE_URL")?,
        payments: p.payments.clone(),
        carrier: p.carrier.clone(),
        bus: Arc::new(EventBridgeBus::new(p.eventbridge.clone(), cfg.require("EVENT_BUS_NAME")?)),
        webhooks: p.queue(cfg, "WEBHOOK_QUEUE_URL")?,
        invoicing: invoicing(p, cfg)?,
    })
}

/// Who sells, as invoices print it: `SELLER_NAME` and `SELLER_ADDRESS` (lines separated by
/// `|`) are required; `SELLER_TAX_ID` is printed when set.
pub fn invoicing(p: &Ports, cfg: &Config) -> Result<oms_shared::app::invoices::Invoicing, ConfigError> {
    let lines: Vec<String> =
        cfg.require("SELLER_ADDRESS")?.split('|').map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    if lines.is_empty() {
        return Err(ConfigError::Invalid { name: "SELLER_ADDRESS", reason: "address lines separated by |".into() });
    }
    let tax_id = cfg.or("SELLER_TAX_ID", "").trim().to_owned();
    Ok(oms_shared::app::invoices::Invoicing {
        store: p.store.clone(),
        clock: p.clock.clone(),
        seller: oms_shared::domain::invoice::Party {
            name: cfg.require("SELLER_NAME")?.trim().to_owned(),
            lines,
            tax_id: (!tax_id.is_empty()).then_some(tax_id),
        },
    })
}

/// An integration consumer: `CONSUMER` (erp, crm or loyalty) and its system,
/// `<CONSUMER>_PROVIDER` (`sandbox`, the default, keeps what it is sent in memory; `http` needs
/// `<CONSUMER>_API_BASE` and `<CONSUMER>_API_KEY`).
pub fn integration(cfg: &Config) -> Result<oms_shared::app::integrations::IntegrationConsumer, ConfigError> {
    use oms_shared::adapters::integrations::RestApi;
    use oms_shared::adapters::sandbox::SandboxIntegrations;
    use oms_shared::app::integrations::{IntegrationConsumer, Target};
    let (var, creds): (&'static str, [&'static str; 2]) = match cfg.require("CONSUMER")? {
        "erp" => ("ERP_PROVIDER", ["ERP_API_BASE", "ERP_API_KEY"]),
        "crm" => ("CRM_PROVIDER", ["CRM_API_BASE", "CRM_API_KEY"]),
        "loyalty" => ("LOYALTY_PROVIDER", ["LOYALTY_API_BASE", "LOYALTY_API_KEY"]),
        other => {
            return Err(ConfigError::Invalid { name: "CONSUMER", reason: format!("{other}: erp, crm or loyalty") });
        }
    };
    let api: Option<Arc<RestApi>> = match provider(cfg, var, "http", creds)? {
        Provider::Sandbox => None,
        Provider::Real { base, key } => Some(Arc::new(RestApi::new(http()?, base, key))),
    };
    let sandbox = || Arc::new(SandboxIntegrations::default());
    let target = match var {
        "ERP_PROVIDER" => Target::Erp(api.map(|a| a as Arc<dyn oms_shared::ports::Erp>).unwrap_or_else(|| sandbox())),
        "CRM_PROVIDER" => Target::Crm(api.map(|a| a as Arc<dyn oms_shared::ports::Crm>).unwrap_or_else(|| sandbox())),
        _ => Target::Loyalty(api.map(|a| a as Arc<dyn oms_shared::ports::Loyalty>).unwrap_or_else(|| sandbox())),
    };
    Ok(IntegrationConsumer { target })
}

/// Order analytics: the table only.
pub fn analytics(p: &Ports) -> oms_shared::app::analytics::Analytics {
    oms_shared::app::analytics::Analytics { store: p.store.clone(), clock: p.clock.clone() }
}

/// The webhook dispatcher: its queue (`WEBHOOK_QUEUE_URL`, for retries), the sender's address
/// for disable notices (`SES_FROM`), the retry schedule (`WEBHOOK_RETRY_SCHEDULE`, about a
/// day by default) and how many failed deliveries in a row disable an endpoint
/// (`WEBHOOK_DISABLE_AFTER`, 5).
pub fn webhook_dispatcher(p: &Ports, cfg: &Config) -> Result<WebhookDispatcher, ConfigError> {
    use oms_shared::domain::webhooks::{DEFAULT_SCHEDULE, parse_schedule};
    Ok(WebhookDispatcher {
        store: p.store.clone(),
        sender: Arc::new(http()?),
        queue: p.queue(cfg, "WEBHOOK_QUEUE_URL")?,
        mailer: Arc::new(SesMailer::new(
            p.ses.clone(),
            cfg.require("SES_FROM")?,
            cfg.endpoint("SES_CONFIGURATION_SET"),
        )),
        clock: p.clock.clone(),
        schedule: parse_schedule(&cfg.or("WEBHOOK_RETRY_SCHEDULE", DEFAULT_SCHEDULE))
            .map_err(|reason| ConfigError::Invalid { name: "WEBHOOK_RETRY_SCHEDULE", reason })?,
        disable_after: cfg.or("WEBHOOK_DISABLE_AFTER", "5").parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            ConfigError::Invalid { name: "WEBHOOK_DISABLE_AFTER", reason: "a positive integer".into() }
        })?,
    })
}
