//! SQS consumer that renders and sends customer e-mail through SES v2.

#[tokio::main]
async fn main() -> Result<(), oms_runtime::Error> {
    oms_runtime::run_notifier().await
}
