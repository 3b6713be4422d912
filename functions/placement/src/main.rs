//! Lambda entry point: tracing, config, clients built once, then the router.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    oms_runtime::init_tracing();
    let cfg = oms_runtime::Config::from_env()?;
    let oms = oms_runtime::api_oms(&cfg).await?;
    lambda_http::run(placement::router(oms)).await
}
