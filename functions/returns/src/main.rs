//! Lambda entry point of the returns API.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let (cfg, ports) = oms_runtime::init().await?;
    oms_runtime::http::serve(returns::router(oms_runtime::wiring::returns(&ports, &cfg)?)).await
}
