//! Stock files on S3 (the WMS's batch counts and adjustments): `stock_import::StockImport`.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), oms_runtime::Error> {
    let (_cfg, ports) = oms_runtime::init().await?;
    let oms = oms_runtime::wiring::oms(&ports);
    let handler = stock_import::StockImport { oms, s3: oms_runtime::s3_client().await };
    let h = &handler;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<aws_lambda_events::event::s3::S3Event>| async move {
        h.handle(e.payload).await
    }))
    .await
}
