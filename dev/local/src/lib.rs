//! The local runner: the whole OMS on one machine. DynamoDB Local (and moto) started by the
//! harness unless endpoints are given, the table created from `infra/template.yaml`, demo data
//! seeded, the function routers served behind an API Gateway emulation with dev JWTs.

pub mod gateway;
pub mod jwt;
pub mod seed;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use oms_shared::adapters::dynamo::DynamoStore;
use oms_shared::app::Oms;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;

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
    pub issuer: jwt::DevIssuer,
    pub dynamodb_endpoint: String,
    pub table: String,
}

/// Starts (or connects to) DynamoDB Local, creates the table when missing, seeds demo data.
pub async fn start(table: &str, seed_data: bool) -> anyhow::Result<Local> {
    let endpoint = oms_harness::dynamodb_endpoint().await?;
    let client = oms_harness::dynamodb_client(&endpoint).await;
    let exists = client.describe_table().table_name(table).send().await.is_ok();
    if !exists {
        oms_harness::create_table(&client, table).await?;
    }
    let store = DynamoStore::new(client, table);
    let oms = Oms::new(store, Arc::new(oms_shared::ports::SystemClock));
    if seed_data {
        seed::seed(&oms).await?;
    }
    Ok(Local { oms, issuer: jwt::DevIssuer::random(), dynamodb_endpoint: endpoint, table: table.to_owned() })
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
         \x20 demo data       {seed}\n\
         Press Ctrl-C to stop.",
        addr = cfg.addr,
        ddb = local.dynamodb_endpoint,
        table = local.table,
        seed = if cfg.seed { seed::summary() } else { "not seeded (OMS_SEED=0)".into() },
    )
}
