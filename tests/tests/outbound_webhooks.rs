//! Outbound webhooks end to end: subscriptions through the API, events from the bus's rule to
//! the dispatcher's queue, deliveries to a local receiver that verifies each signature with the
//! Standard Webhooks reference library (`dev/events/webhook_receiver.py`); a failing receiver
//! gets its retries, then a disabled endpoint and a mail; enabling and replaying sends what it
//! missed; a rotated secret still verifies; the API refuses what it should.

use oms_tests::Stack;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};

struct Receiver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

impl Receiver {
    async fn start() -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let root = oms_harness::repo_root();
        let child = Command::new(root.join(".venv/bin/python"))
            .arg(root.join("dev/events/webhook_receiver.py"))
            .arg(port.to_string())
            .stdout(Stdio::null())
            .spawn()?;
        let r = Receiver { child, base: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new() };
        for _ in 0..100 {
            if r.http.get(format!("{}/_log", r.base)).send().await.is_ok() {
                return Ok(r);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        anyhow::bail!("the receiver did not start")
    }

    async fn control(&self, path: &str, body: Value) -> anyhow::Result<()> {
        self.http.post(format!("{}{path}", self.base)).json(&body).send().await?.error_for_status()?;
        Ok(())
    }

    async fn log(&self) -> anyhow::Result<Vec<Value>> {
        Ok(self.http.get(format!("{}/_log", self.base)).send().await?.json().await?)
    }
}

fn settings() {
    // Retries after 0 s and 1 s; two deliveries failed for good disable an endpoint.
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| unsafe {
        std::env::set_var("WEBHOOK_RETRY_SCHEDULE", "0s,1s");
        std::env::set_var("WEBHOOK_DISABLE_AFTER", "2");
    });
}

async fn subscribe(s: &Stack, url: &str, types: Value, contact: &str) -> anyhow::Result<Value> {
    let body = json!({"url": url, "eventTypes": types, "contactEmail": contact, "description": "test"});
    let r = s.call("POST", "/v1/admin/webhook-subscriptions", Some(&s.admin_token()), Some(&body), &[]).await?;
    anyhow::ensure!(r.status == 201, "{} {}", r.status, r.text);
    Ok(r.json())
}

async fn until<F, Fut>(what: &str, f: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    for _ in 0..400 {
        if f().await? {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("timed out waiting for {what}")
}

#[tokio::test]
async fn deliveries_are_signed_retried_disabled_replayed_and_rotated() -> anyhow::Result<()> {
    settings();
    let s = Stack::new().await?;
    let rx = Receiver::start().await?;
    let admin = s.admin_token();
    let ok = subscribe(&s, &format!("{}/ok", rx.base), json!(["*"]), "erp-team@example.com").await?;
    let contact = format!("hooks-{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    let failing =
        subscribe(&s, &format!("{}/fail", rx.base), json!(["order.placed", "payment.authorized"]), &contact).await?;
    let (ok_id, fail_id) = (ok["id"].as_str().unwrap_or_default(), failing["id"].as_str().unwrap_or_default());
    assert!(ok["secret"].as_str().is_some_and(|x| x.starts_with("whsec_")), "the secret is shown once: {ok}");
    rx.control("/_secrets", json!({"secrets": [ok["secret"], failing["secret"]]})).await?;
    rx.control("/_status", json!({"path": "/fail", "status": 503})).await?;
    let listed = s.call("GET", "/v1/admin/webhook-subscriptions", Some(&admin), None, &[]).await?;
    assert!(!listed.text.contains("whsec_"), "secrets are never listed");

    let (order, _) =
        s.ready_order("cust-hook", "hooks@example.com", json!([{"sku": "HEADPHONES-X1", "quantity": 1}])).await?;
    until("order.placed and payment.authorized at /ok", || async {
        let log = rx.log().await?;
        let got = |t: &str| log.iter().any(|d| d["path"] == "/ok" && d["event"]["type"] == t);
        Ok(got("order.placed") && got("payment.authorized"))
    })
    .await?;
    let log = rx.log().await?;
    for d in log.iter().filter(|d| d["path"] == "/ok") {
        assert_eq!(d["verified"], true, "verified by the reference library: {d}");
        assert_eq!(d["id"], d["event"]["id"], "webhook-id is the event id (the receiver's dedupe key)");
        assert_eq!(d["event"]["orderId"], order.as_str());
    }

    // The failing endpoint: three attempts per event (the first and two retries), then failed;
    // two such deliveries disable it and its contact hears of it.
    until("the failing endpoint to be disabled", || async {
        let r = s.call("GET", &format!("/v1/admin/webhook-subscriptions/{fail_id}"), Some(&admin), None, &[]).await?;
        Ok(r.json()["status"] == "disabled")
    })
    .await?;
    let got =
        s.call("GET", &format!("/v1/admin/webhook-subscriptions/{fail_id}"), Some(&admin), None, &[]).await?.json();
    assert!(got["disabledReason"].as_str().is_some_and(|r| r.contains("HTTP 503")), "{got}");
    let deliveries = s
        .call("GET", &format!("/v1/admin/webhook-subscriptions/{fail_id}/deliveries"), Some(&admin), None, &[])
        .await?
        .json();
    let failed: Vec<&Value> =
        deliveries["deliveries"].as_array().into_iter().flatten().filter(|d| d["state"] == "failed").collect();
    assert!(!failed.is_empty(), "{deliveries}");
    assert!(failed.iter().all(|d| d["attempts"].as_array().map(Vec::len) == Some(3)), "{deliveries}");
    assert!(failed.iter().all(|d| d["attempts"][0]["status"] == 503));
    let attempts_at_fail = rx.log().await?.iter().filter(|d| d["path"] == "/fail").count();
    assert!(attempts_at_fail >= 6, "two events, three attempts each: {attempts_at_fail}");
    until("the disable notice", || async { Ok(!s.mail_to(&contact).await?.is_empty()) }).await?;
    assert_eq!(s.mail_to(&contact).await?, vec!["Your OMS webhook endpoint was disabled"]);

    // While it is disabled, another order: logged for it, not sent.
    let missed = s.place("cust-hook", &oms_tests::order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]))).await?;
    until("the missed event in its log", || async {
        let d = s
            .call("GET", &format!("/v1/admin/webhook-subscriptions/{fail_id}/deliveries"), Some(&admin), None, &[])
            .await?
            .json();
        Ok(d["deliveries"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|x| x["orderId"] == missed.as_str() && x["state"] == "failed"))
    })
    .await?;
    assert!(!rx.log().await?.iter().any(|d| d["path"] == "/fail" && d["event"]["orderId"] == missed.as_str()));

    // Fixed, enabled again and replayed: what it missed arrives, verified.
    rx.control("/_status", json!({"path": "/fail", "status": 200})).await?;
    let r =
        s.call("POST", &format!("/v1/admin/webhook-subscriptions/{fail_id}/enable"), Some(&admin), None, &[]).await?;
    assert_eq!((r.status, r.json()["status"].clone()), (200, json!("enabled")), "{}", r.text);
    let since = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let r = s
        .call(
            "POST",
            &format!("/v1/admin/webhook-subscriptions/{fail_id}/replay"),
            Some(&admin),
            Some(&json!({"since": since})),
            &[],
        )
        .await?;
    assert_eq!(r.status, 202, "{}", r.text);
    until("the replay to succeed", || async {
        let d = s
            .call("GET", &format!("/v1/admin/webhook-subscriptions/{fail_id}/deliveries"), Some(&admin), None, &[])
            .await?
            .json();
        let all = d["deliveries"].as_array().cloned().unwrap_or_default();
        Ok(!all.is_empty() && all.iter().all(|x| x["state"] == "succeeded"))
    })
    .await?;
    assert!(rx.log().await?.iter().any(|d| d["path"] == "/fail" && d["status"] == 200 && d["verified"] == true));
    assert!(
        rx.log().await?.iter().any(|d| d["path"] == "/fail" && d["event"]["orderId"] == missed.as_str()),
        "the event it missed while disabled is replayed"
    );

    // The same event from the bus twice: one delivery.
    let first = rx.log().await?.iter().find(|d| d["path"] == "/ok" && d["event"]["type"] == "order.placed").cloned();
    let event = first.map(|d| d["event"].clone()).unwrap_or_default();
    let before = rx.log().await?.iter().filter(|d| d["path"] == "/ok" && d["id"] == event["id"]).count();
    for _ in 0..2 {
        s.local.webhook_dispatcher.handle(&json!({"detail": event}).to_string()).await?;
    }
    let after = rx.log().await?.iter().filter(|d| d["path"] == "/ok" && d["id"] == event["id"]).count();
    assert_eq!((before, after), (1, 1), "a redelivered event is sent once");

    // A rotated secret: both signatures are sent; a receiver that knows only the new one verifies.
    let r = s
        .call("POST", &format!("/v1/admin/webhook-subscriptions/{ok_id}/rotate-secret"), Some(&admin), None, &[])
        .await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["previousSecretExpiresAt"].is_string(), "{}", r.text);
    // Rotated again within the overlap: the oldest secret stops signing at once (one previous).
    let r = s
        .call("POST", &format!("/v1/admin/webhook-subscriptions/{ok_id}/rotate-secret"), Some(&admin), None, &[])
        .await?;
    let rotated = r.json();
    rx.control("/_secrets", json!({"secrets": [rotated["secret"]]})).await?;
    let r = s
        .call("POST", &format!("/v1/admin/orders/{order}/cancel"), Some(&admin), Some(&json!({"reason": "test"})), &[])
        .await?;
    assert!(r.status < 300, "{} {}", r.status, r.text);
    until("order.cancelled at /ok", || async {
        Ok(rx.log().await?.iter().any(|d| d["path"] == "/ok" && d["event"]["type"] == "order.cancelled"))
    })
    .await?;
    let cancelled = rx.log().await?.into_iter().find(|d| d["path"] == "/ok" && d["event"]["type"] == "order.cancelled");
    let cancelled = cancelled.unwrap_or_default();
    assert_eq!(
        (cancelled["verified"].clone(), cancelled["signatures"].clone()),
        (json!(true), json!(2)),
        "{cancelled}"
    );
    Ok(())
}

#[tokio::test]
async fn the_subscription_api_refuses_what_it_should() -> anyhow::Result<()> {
    settings();
    let s = Stack::with_workers_only().await?;
    let admin = s.admin_token();
    let path = "/v1/admin/webhook-subscriptions";
    let good =
        json!({"url": "https://erp.example/hooks", "eventTypes": ["order.placed"], "contactEmail": "ops@example.com"});
    for token in [s.token("cust-1"), s.scoped_token("wh-1", "oms/warehouse"), s.scoped_token("ag-1", "oms/agent")] {
        assert_eq!(s.call("GET", path, Some(&token), None, &[]).await?.status, 403);
        assert_eq!(s.call("POST", path, Some(&token), Some(&good), &[]).await?.status, 403);
    }
    assert_eq!(s.call("GET", path, None, None, &[]).await?.status, 401);
    let integration = s.scoped_token("erp-connector", "oms/integration");
    let r = s.call("POST", path, Some(&integration), Some(&good), &[]).await?;
    assert_eq!(r.status, 201, "an integration manages its subscriptions: {}", r.text);
    let id = r.json()["id"].as_str().unwrap_or_default().to_owned();

    let bad = |patch: Value| {
        let mut b = good.clone();
        for (k, v) in patch.as_object().cloned().unwrap_or_default() {
            b[k] = v;
        }
        b
    };
    for (body, field) in [
        (bad(json!({"url": "ftp://erp.example/x"})), "url"),
        (bad(json!({"url": "https://user:pw@erp.example/x"})), "url"),
        (bad(json!({"url": "not a url"})), "url"),
        (bad(json!({"url": "https://erp.example:0/x"})), "url"),
        (bad(json!({"description": "bell\u{7}"})), "description"),
        (bad(json!({"eventTypes": []})), "eventTypes"),
        (bad(json!({"eventTypes": ["order.exploded"]})), "eventTypes"),
        (bad(json!({"contactEmail": "nobody"})), "contactEmail"),
        (bad(json!({"description": "x".repeat(201)})), "description"),
    ] {
        let r = s.call("POST", path, Some(&admin), Some(&body), &[]).await?;
        assert_eq!((r.status, r.content_type()), (400, "application/problem+json"), "{body}: {}", r.text);
        assert_eq!(r.json()["field"], field, "{}", r.text);
    }
    let r = s.call("POST", path, Some(&admin), Some(&bad(json!({"secret": "mine"}))), &[]).await?;
    assert_eq!(r.status, 400, "unknown fields are refused: {}", r.text);
    assert_eq!(s.call("GET", &format!("{path}/nope"), Some(&admin), None, &[]).await?.status, 404);
    let r = s.call("GET", &format!("{path}/%FF"), Some(&admin), None, &[]).await?;
    assert_eq!((r.status, r.content_type()), (400, "application/problem+json"), "{}", r.text);
    assert_eq!(
        s.call("GET", &format!("{path}/{id}/deliveries?limit=0"), Some(&admin), None, &[]).await?.json()["field"],
        "limit"
    );
    assert_eq!(
        s.call("GET", &format!("{path}/{id}/deliveries?since=yesterday"), Some(&admin), None, &[]).await?.json()["field"],
        "since"
    );
    let old = (chrono::Utc::now() - chrono::Duration::days(40)).to_rfc3339();
    let r = s.call("POST", &format!("{path}/{id}/replay"), Some(&admin), Some(&json!({"since": old})), &[]).await?;
    assert_eq!((r.status, r.json()["field"].clone()), (400, json!("since")), "{}", r.text);
    let r = s.call("DELETE", &format!("{path}/{id}"), Some(&admin), None, &[]).await?;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(s.call("GET", &format!("{path}/{id}"), Some(&admin), None, &[]).await?.status, 404);
    Ok(())
}
