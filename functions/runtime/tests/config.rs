//! Every function fails its cold start, naming the variable, when a variable it needs is
//! missing: what the Lambda mains and the local runner build comes from this wiring.

use oms_runtime::wiring;
use oms_runtime::{Config, ConfigError, Ports};

/// Everything the template gives the functions (endpoints at a closed port, no warm-up: nothing
/// is called at init but the configuration).
fn complete() -> Config {
    Config::from_pairs([
        ("TABLE_NAME", "oms"),
        ("DYNAMODB_ENDPOINT", "http://127.0.0.1:9"),
        ("DYNAMODB_WARM_UP_MS", "0"),
        ("SQS_ENDPOINT", "http://127.0.0.1:9"),
        ("SES_ENDPOINT", "http://127.0.0.1:9"),
        ("NOTIFICATIONS_QUEUE_URL", "http://127.0.0.1:9/q/notifications"),
        ("TRACKING_QUEUE_URL", "http://127.0.0.1:9/q/tracking"),
        ("EVENT_BUS_NAME", "oms-events"),
        ("WEBHOOK_QUEUE_URL", "http://127.0.0.1:9/q/webhooks"),
        ("SES_FROM", "orders@shop.example"),
        ("WEBHOOK_SECRETS", "a,b"),
        ("PAYMENT_WEBHOOK_SECRETS", "whsec_a"),
        ("PUBLIC_BASE_URL", "https://shop.example"),
        ("LINK_SIGNING_SECRET", "0123456789abcdef0123456789abcdef"),
        ("TRACKING_URL", "https://track.example/{tracking}"),
        ("CONSUMER", "erp"),
        ("SELLER_NAME", "Shop Inc."),
        ("SELLER_ADDRESS", "1 Road|Town"),
    ])
}

/// Builds what function `f` builds at init.
async fn init(f: &str, cfg: &Config) -> Result<(), ConfigError> {
    let p = Ports::from_config(cfg).await?;
    match f {
        "placement" => drop(wiring::oms(&p)),
        "returns" => drop(wiring::returns(&p, cfg)?),
        "steps" => drop(wiring::fulfillment(&p)),
        "tracking-consumer" => drop(wiring::tracking(&p, cfg)),
        "tracking-webhook" => drop(wiring::webhooks(&p, cfg)?),
        "payment-webhook" => drop(wiring::disputes(&p, cfg)?),
        "notifier" => drop(wiring::notifier(&p, cfg)?),
        "cart-reminders" => drop(wiring::reminders(&p, cfg)?),
        "effects" => drop(wiring::effects(&p, cfg)?),
        "webhook-dispatcher" => drop(wiring::webhook_dispatcher(&p, cfg)?),
        "analytics" => drop(wiring::analytics(&p)),
        // No table: only its own variables.
        "integrations" => drop(wiring::integration(cfg)?),
        other => panic!("unknown function {other}"),
    }
    Ok(())
}

const NEEDS: [(&str, &[&str]); 12] = [
    ("placement", &["TABLE_NAME"]),
    ("returns", &["TABLE_NAME", "PUBLIC_BASE_URL", "LINK_SIGNING_SECRET"]),
    ("steps", &["TABLE_NAME"]),
    ("tracking-consumer", &["TABLE_NAME"]),
    ("tracking-webhook", &["TABLE_NAME", "TRACKING_QUEUE_URL", "WEBHOOK_SECRETS"]),
    ("payment-webhook", &["TABLE_NAME", "PAYMENT_WEBHOOK_SECRETS"]),
    (
        "notifier",
        &[
            "TABLE_NAME",
            "SES_FROM",
            "PUBLIC_BASE_URL",
            "LINK_SIGNING_SECRET",
            "TRACKING_URL",
            "NOTIFICATIONS_QUEUE_URL",
        ],
    ),
    ("cart-reminders", &["TABLE_NAME", "NOTIFICATIONS_QUEUE_URL"]),
    (
        "effects",
        &[
            "TABLE_NAME",
            "NOTIFICATIONS_QUEUE_URL",
            "EVENT_BUS_NAME",
            "WEBHOOK_QUEUE_URL",
            "SELLER_NAME",
            "SELLER_ADDRESS",
        ],
    ),
    ("webhook-dispatcher", &["TABLE_NAME", "WEBHOOK_QUEUE_URL", "SES_FROM"]),
    ("analytics", &["TABLE_NAME"]),
    ("integrations", &["CONSUMER"]),
];

#[tokio::test]
async fn each_function_starts_with_its_variables_and_names_the_one_missing() {
    for (f, vars) in NEEDS {
        init(f, &complete()).await.unwrap_or_else(|e| panic!("{f} with everything set: {e}"));
        for v in vars {
            let mut cfg = complete();
            cfg.remove(v);
            let err = init(f, &cfg).await.expect_err(&format!("{f} without {v} must not start"));
            assert_eq!(err, ConfigError::Missing(v), "{f} without {v}");
            assert_eq!(err.to_string(), format!("{v} is not set"));
            cfg.set(v, "  ");
            assert_eq!(init(f, &cfg).await.expect_err("blank is missing"), ConfigError::Missing(v));
        }
    }
}

#[tokio::test]
async fn real_providers_need_their_credentials() {
    let mut cfg = complete();
    cfg.set("PAYMENT_PROVIDER", "stripe");
    assert_eq!(init("placement", &cfg).await.unwrap_err(), ConfigError::Missing("STRIPE_API_BASE"));
    cfg.set("STRIPE_API_BASE", "https://api.stripe.example");
    assert_eq!(init("placement", &cfg).await.unwrap_err(), ConfigError::Missing("STRIPE_SECRET_KEY"));
    let mut cfg = complete();
    cfg.set("CARRIER_PROVIDER", "easypost");
    assert_eq!(init("steps", &cfg).await.unwrap_err(), ConfigError::Missing("EASYPOST_API_BASE"));
    cfg.set("CARRIER_PROVIDER", "pigeon");
    assert!(matches!(init("steps", &cfg).await, Err(ConfigError::Invalid { name: "CARRIER_PROVIDER", .. })));
    for (consumer, provider, base, key) in [
        ("erp", "ERP_PROVIDER", "ERP_API_BASE", "ERP_API_KEY"),
        ("crm", "CRM_PROVIDER", "CRM_API_BASE", "CRM_API_KEY"),
        ("loyalty", "LOYALTY_PROVIDER", "LOYALTY_API_BASE", "LOYALTY_API_KEY"),
    ] {
        let mut cfg = complete();
        cfg.set("CONSUMER", consumer);
        init("integrations", &cfg).await.unwrap_or_else(|e| panic!("{consumer} on the sandbox: {e}"));
        cfg.set(provider, "http");
        assert_eq!(init("integrations", &cfg).await.unwrap_err(), ConfigError::Missing(base));
        cfg.set(base, "https://erp.example");
        assert_eq!(init("integrations", &cfg).await.unwrap_err(), ConfigError::Missing(key));
        cfg.set(key, "k");
        init("integrations", &cfg).await.unwrap_or_else(|e| panic!("{consumer} over http: {e}"));
        cfg.set(provider, "ftp");
        assert!(matches!(init("integrations", &cfg).await, Err(ConfigError::Invalid { name, .. }) if name == provider));
    }
    let mut cfg = complete();
    cfg.set("CONSUMER", "fax");
    assert!(matches!(init("integrations", &cfg).await, Err(ConfigError::Invalid { name: "CONSUMER", .. })));
    let mut cfg = complete();
    cfg.set("REMINDER_STAGES", "soon");
    assert!(matches!(init("cart-reminders", &cfg).await, Err(ConfigError::Invalid { name: "REMINDER_STAGES", .. })));
}

#[tokio::test]
async fn link_settings_are_checked_at_init() {
    let mut cfg = complete();
    cfg.set("LINK_SIGNING_SECRET", "short");
    assert!(matches!(init("returns", &cfg).await, Err(ConfigError::Invalid { name: "LINK_SIGNING_SECRET", .. })));
    let mut cfg = complete();
    cfg.set("PUBLIC_BASE_URL", "shop.example");
    assert!(matches!(init("notifier", &cfg).await, Err(ConfigError::Invalid { name: "PUBLIC_BASE_URL", .. })));
}
