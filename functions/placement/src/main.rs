//! Lambda entry point: configuration and adapters from the one composition root, then the router.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let (_, ports) = oms_runtime::init().await?;
    oms_runtime::http::serve(placement::router(oms_runtime::wiring::oms(&ports))).await
}
