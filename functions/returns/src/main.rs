//! Lambda entry point of the returns API.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let (cfg, ports) = oms_runtime::init().await?;
    lambda_http::run(returns::router(oms_runtime::wiring::returns(&ports, &cfg))).await
}
