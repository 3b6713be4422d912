//! Lambda entry point: configuration and adapters from the one composition root, then the router.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let (_, ports) = oms_runtime::init().await?;
    lambda_http::run(placement::router(oms_runtime::wiring::oms(&ports))).await
}
