//! Lambda entry point of the returns API.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    oms_runtime::init_tracing();
    let cfg = oms_runtime::Config::from_env()?;
    let r = oms_runtime::returns(&cfg).await?;
    lambda_http::run(returns::router(r)).await
}
