//! Helpers for the cross-function tests: a whole local stack per test (its own table on the
//! shared DynamoDB Local, demo data seeded, the HTTP API on a free port).

use oms_local::Local;
use serde_json::Value;
use std::net::SocketAddr;

pub struct Stack {
    pub local: Local,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

pub const NYC: &str =
    r#"{"name":"Ann Lee","line1":"350 5th Ave","city":"New York","region":"NY","postalCode":"10118","country":"US"}"#;

pub fn nyc() -> Value {
    serde_json::from_str(NYC).unwrap_or(Value::Null)
}

impl Stack {
    pub async fn new() -> anyhow::Result<Self> {
        let table = format!("oms-it-{}", ulid::Ulid::new().to_string().to_lowercase());
        let local = oms_local::start(&table, oms_local::Options::default()).await?;
        let addr = oms_local::spawn(&local).await?;
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
        Ok(Stack { local, addr, http })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn token(&self, sub: &str) -> String {
        self.local.issuer.issue(sub, "", 3600)
    }

    /// A staff token with the given scopes (`oms/agent`, `oms/warehouse`, ...).
    pub fn scoped_token(&self, sub: &str, scope: &str) -> String {
        self.local.issuer.issue(sub, scope, 3600)
    }

    pub fn admin_token(&self) -> String {
        self.local.issuer.issue("agent-1", "openid oms/admin", 3600)
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Reply> {
        self.send(method, path, token, body.map(Value::to_string), headers).await
    }

    /// A call with a body sent exactly as given (hostile JSON the `Value` API cannot express).
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: String,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Reply> {
        self.send(method, path, token, Some(body), headers).await
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Reply> {
        let m = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut req = self.http.request(m, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await?;
        Ok(Reply { status, headers, text })
    }

    /// Available units of a SKU at a location, read from the table.
    pub async fn available(&self, sku: &str, location: &str) -> anyhow::Result<(i64, i64, i64)> {
        let r = self
            .local
            .oms
            .store
            .get_stock(&oms_shared::domain::Sku::parse(sku)?, &oms_shared::domain::LocationId::parse(location)?)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no stock record"))?;
        Ok((r.level.available, r.level.held, r.level.allocated))
    }

    /// Available units of a SKU summed over every location.
    pub async fn total_available(&self, sku: &str) -> anyhow::Result<i64> {
        let recs = self.local.oms.store.stock_for_sku(&oms_shared::domain::Sku::parse(sku)?).await?;
        Ok(recs.iter().map(|r| r.level.available).sum())
    }
}

impl Stack {
    /// A stack that does not start workflows from the stream: tests run them explicitly.
    pub async fn without_stream() -> anyhow::Result<Self> {
        let table = format!("oms-it-{}", ulid::Ulid::new().to_string().to_lowercase());
        let local = oms_local::start(
            &table,
            oms_local::Options { seed: true, stream: false, workers: false, ..Default::default() },
        )
        .await?;
        let addr = oms_local::spawn(&local).await?;
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
        Ok(Stack { local, addr, http })
    }

    /// Places an order over HTTP and returns its id.
    pub async fn place(&self, customer: &str, body: &Value) -> anyhow::Result<String> {
        let t = self.token(customer);
        let key = ulid::Ulid::new().to_string();
        let r = self.call("POST", "/v1/orders", Some(&t), Some(body), &[("Idempotency-Key", &key)]).await?;
        anyhow::ensure!(r.status == 201, "placement failed: {} {}", r.status, r.text);
        Ok(r.json()["orderId"].as_str().unwrap_or_default().to_owned())
    }

    /// The order as its owner sees it.
    /// The order as agents see it (every internal status, reason and note), to observe state.
    pub async fn order(&self, _customer: &str, id: &str) -> anyhow::Result<Value> {
        Ok(self.call("GET", &format!("/v1/admin/orders/{id}"), Some(&self.admin_token()), None, &[]).await?.json())
    }

    /// The order as its customer reads it (the customer projection).
    pub async fn customer_order(&self, customer: &str, id: &str) -> anyhow::Result<Value> {
        Ok(self.call("GET", &format!("/v1/orders/{id}"), Some(&self.token(customer)), None, &[]).await?.json())
    }

    /// Waits until the order reaches `status` (the stream and workflow run in the background).
    pub async fn wait_for_status(&self, customer: &str, id: &str, status: &str) -> anyhow::Result<Value> {
        // Up to 30 s: under the whole suite's load the queue workers and the stream poller lag.
        for _ in 0..600 {
            let o = self.order(customer, id).await?;
            if o["status"] == status {
                return Ok(o);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        anyhow::bail!("order {id} never reached {status}: {}", self.order(customer, id).await?)
    }

    /// Drains the notifications queue and returns the messages (bodies as JSON).
    pub async fn drain_notifications(&self) -> anyhow::Result<Vec<Value>> {
        // Committed effects dispatched as the stream would (here, or by the poller).
        self.local.dispatch_committed().await?;
        let url = self.local.queues.get("NotificationsQueue").cloned().unwrap_or_default();
        let mut out = Vec::new();
        loop {
            let r = self
                .local
                .sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .visibility_timeout(300)
                .send()
                .await?;
            let msgs = r.messages.unwrap_or_default();
            if msgs.is_empty() {
                return Ok(out);
            }
            for m in msgs {
                out.push(serde_json::from_str(m.body().unwrap_or("null")).unwrap_or(Value::Null));
                if let Some(h) = m.receipt_handle() {
                    self.local.sqs.delete_message().queue_url(&url).receipt_handle(h).send().await?;
                }
            }
        }
    }
}

/// A standard order body for `lines` shipped to New York.
pub fn order_body(lines: Value) -> Value {
    serde_json::json!({
        "lines": lines,
        "shippingAddress": nyc(),
        "email": "ann@example.com",
        "serviceLevel": "standard",
        "paymentToken": "tok_visa",
        "channel": "web"
    })
}

impl Stack {
    /// Posts a carrier event to the webhook, signed as the carrier signs it.
    pub async fn carrier_event(&self, event_id: &str, tracking: &str, status: &str) -> anyhow::Result<Reply> {
        let body = oms_local::carrier_event(event_id, tracking, status, None).to_string();
        let sig = oms_shared::app::webhooks::sign(oms_local::WEBHOOK_SECRET, body.as_bytes());
        self.raw_webhook("sandbox", &body, Some(&sig)).await
    }

    pub async fn raw_webhook(&self, carrier: &str, body: &str, signature: Option<&str>) -> anyhow::Result<Reply> {
        let mut req = self
            .http
            .post(self.url(&format!("/v1/webhooks/carriers/{carrier}")))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(s) = signature {
            req = req.header("x-hmac-signature", s);
        }
        let res = req.send().await?;
        Ok(Reply { status: res.status().as_u16(), headers: res.headers().clone(), text: res.text().await? })
    }

    /// Subjects of the mail sent to `to`, oldest first.
    pub async fn mail_to(&self, to: &str) -> anyhow::Result<Vec<String>> {
        let all = oms_local::mail(&self.local.moto_endpoint).await?;
        Ok(all
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["to"].to_string().contains(to))
            .filter_map(|m| m["subject"].as_str().map(str::to_owned))
            .collect())
    }

    /// The first signed link (`/v1/signed/...`) in the text of a mail to `email` with
    /// `subject`, read with a MIME parser; waits for the mail.
    pub async fn signed_link(&self, email: &str, subject: &str) -> anyhow::Result<String> {
        for _ in 0..600 {
            let mail = oms_local::mail(&self.local.moto_endpoint).await?;
            for m in mail.as_array().into_iter().flatten().filter(|m| m["to"].to_string().contains(email)) {
                let raw = m["raw"].as_str().unwrap_or("").as_bytes();
                let Some(msg) = mail_parser::MessageParser::default().parse(raw) else { continue };
                if msg.subject() != Some(subject) {
                    continue;
                }
                let text = msg.body_text(0).unwrap_or_default().to_string();
                if let Some(i) = text.find("/v1/signed/") {
                    let link = text[i..].split_whitespace().next().unwrap_or_default();
                    return Ok(link.trim_end_matches(['.', ',', ')']).to_owned());
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        anyhow::bail!("no mail \"{subject}\" with a signed link to {email}")
    }

    /// Posts an HTML form to a (signed) page: status, content type, body.
    pub async fn post_form(&self, link: &str, form: &str) -> anyhow::Result<(u16, String, String)> {
        let r = self
            .http
            .post(self.url(link))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await?;
        let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        Ok((r.status().as_u16(), ct, r.text().await?))
    }

    /// Opens a return on an order as its customer (`body`: lines and resolution).
    pub async fn open_return(&self, customer: &str, order: &str, body: &Value) -> anyhow::Result<Reply> {
        self.call("POST", &format!("/v1/orders/{order}/returns"), Some(&self.token(customer)), Some(body), &[]).await
    }

    /// Receives returned lines as an agent (`lines`: lineId, quantity, condition).
    pub async fn receive_return(&self, rma: &str, lines: Value) -> anyhow::Result<Reply> {
        let body = serde_json::json!({ "lines": lines });
        self.call("POST", &format!("/v1/admin/returns/{rma}/receive"), Some(&self.admin_token()), Some(&body), &[])
            .await
    }

    /// Waits until every effect committed so far has been dispatched (stream or drain).
    pub async fn settle_effects(&self) -> anyhow::Result<()> {
        self.eventually("effects to be dispatched", || self.effects_settled()).await
    }

    /// Whether every effect committed so far was dispatched: the stream's work is done and
    /// nothing is deferred.
    pub async fn effects_settled(&self) -> anyhow::Result<bool> {
        self.local.dispatch_committed().await?;
        Ok(oms_shared::ports::Outbox::pending_effects(&*self.local.oms.store, 1).await?.is_empty())
    }

    /// Waits until `f` holds (background workers), or fails after 60 s (generous: the whole
    /// suite shares two cores).
    pub async fn eventually<F, Fut>(&self, what: &str, f: F) -> anyhow::Result<()>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<bool>>,
    {
        // A deadline, not a count: under a loaded CI machine one poll (all of moto's mail, say)
        // can take long, and the work waited for is at the back of a queue.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            if f().await? {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        anyhow::bail!("timed out waiting for {what}")
    }

    /// Takes every message now visible on a queue (received and deleted), bodies parsed as
    /// JSON: what a consumer behind it would get.
    pub async fn take_messages(&self, logical: &str) -> anyhow::Result<Vec<Value>> {
        let url = self.local.queues.get(logical).cloned().unwrap_or_default();
        let mut out = Vec::new();
        loop {
            let r = self.local.sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await?;
            let msgs = r.messages.unwrap_or_default();
            if msgs.is_empty() {
                return Ok(out);
            }
            for m in msgs {
                out.push(serde_json::from_str(m.body().unwrap_or_default())?);
                if let Some(h) = m.receipt_handle() {
                    self.local.sqs.delete_message().queue_url(&url).receipt_handle(h).send().await?;
                }
            }
        }
    }

    /// Messages currently in a queue (visible or in flight).
    pub async fn queue_depth(&self, logical: &str) -> anyhow::Result<i64> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let url = self.local.queues.get(logical).cloned().unwrap_or_default();
        let r = self
            .local
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await?;
        let a = r.attributes().cloned().unwrap_or_default();
        let n = |k: A| a.get(&k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        Ok(n(A::ApproximateNumberOfMessages) + n(A::ApproximateNumberOfMessagesNotVisible))
    }

    /// A stack with the queue workers on but workflows run explicitly.
    pub async fn with_workers_only() -> anyhow::Result<Self> {
        let table = format!("oms-it-{}", ulid::Ulid::new().to_string().to_lowercase());
        let local = oms_local::start(&table, oms_local::Options { stream: false, ..Default::default() }).await?;
        let addr = oms_local::spawn(&local).await?;
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
        Ok(Stack { local, addr, http })
    }

    /// Places an order for `email` and runs its workflow to `ready_to_ship`; returns (id, tracking numbers).
    pub async fn ready_order(
        &self,
        customer: &str,
        email: &str,
        lines: Value,
    ) -> anyhow::Result<(String, Vec<String>)> {
        let mut body = order_body(lines);
        body["email"] = Value::String(email.to_owned());
        let id = self.place(customer, &body).await?;
        let ex = self.local.workflow.run(&id).await;
        anyhow::ensure!(ex.result.is_ok(), "workflow: {:?}", ex.result);
        // With the stream on, the pipe started an execution of its own: when that one took
        // the steps first, this run found them done and may return before the labels are
        // committed. Wait for the order itself, not for this run.
        let o = self.wait_for_status(customer, &id, "ready_to_ship").await?;
        let tracking: Vec<String> = o["shipments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["trackingNumber"].as_str().map(str::to_owned))
            .collect();
        anyhow::ensure!(!tracking.is_empty(), "order {id} is ready to ship without a tracking number: {o}");
        Ok((id, tracking))
    }
}

impl Stack {
    /// An order taken all the way to `delivered` through signed carrier events.
    pub async fn delivered_order(&self, customer: &str, email: &str, lines: Value) -> anyhow::Result<String> {
        let (id, tracking) = self.ready_order(customer, email, lines).await?;
        for t in &tracking {
            for st in ["in_transit", "delivered"] {
                let r = self.carrier_event(&format!("evt_{}", ulid::Ulid::new()), t, st).await?;
                anyhow::ensure!(r.status == 200, "carrier event: {}", r.text);
            }
        }
        self.wait_for_status(customer, &id, "delivered").await?;
        Ok(id)
    }
}

impl Stack {
    /// A stack started with explicit options.
    pub async fn with(opts: oms_local::Options) -> anyhow::Result<Self> {
        let table = format!("oms-it-{}", ulid::Ulid::new().to_string().to_lowercase());
        let local = oms_local::start(&table, opts).await?;
        let addr = oms_local::spawn(&local).await?;
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
        Ok(Stack { local, addr, http })
    }
}
