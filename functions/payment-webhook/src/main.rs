//! Lambda entry point of the payment provider webhook.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    oms_runtime::init_tracing();
    let cfg = oms_runtime::Config::from_env()?;
    let d = oms_runtime::disputes(&cfg).await?;
    lambda_http::run(payment_webhook::router(d)).await
}
