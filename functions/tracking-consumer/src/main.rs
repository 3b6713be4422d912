//! SQS consumer of carrier tracking events (partial batch failures reported).

#[tokio::main]
async fn main() -> Result<(), oms_runtime::Error> {
    oms_runtime::run_tracking_consumer().await
}
