//! Lambda entry point of the payment provider webhook.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let (cfg, ports) = oms_runtime::init().await?;
    oms_runtime::http::serve(payment_webhook::router(oms_runtime::wiring::disputes(&ports, &cfg)?)).await
}
