//! SQS consumer that delivers integration events to webhook subscribers (signed, retried,
//! disabling endpoints that keep failing).

#[tokio::main]
async fn main() -> Result<(), oms_runtime::Error> {
    oms_runtime::run_webhook_dispatcher().await
}
