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
        let m = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut req = self.http.request(m, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
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
