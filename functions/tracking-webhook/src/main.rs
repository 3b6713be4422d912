//! Lambda entry point of the carrier webhook.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    oms_runtime::init_tracing();
    let cfg = oms_runtime::Config::from_env()?;
    let w = oms_runtime::webhooks(&cfg).await?;
    lambda_http::run(tracking_webhook::router(w)).await
}
