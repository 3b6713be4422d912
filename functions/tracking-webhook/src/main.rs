//! Lambda entry point of the carrier webhook.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let (cfg, ports) = oms_runtime::init().await?;
    oms_runtime::http::serve(tracking_webhook::router(oms_runtime::wiring::webhooks(&ports, &cfg)?)).await
}
