//! Lambda entry point: tracing, config, clients built once, then the router.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    placement::init_tracing();
    let oms = placement::oms_from_env().await?;
    lambda_http::run(placement::router(oms)).await
}
