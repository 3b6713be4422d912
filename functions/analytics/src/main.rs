//! SQS consumer behind the event bus that keeps the order analytics (each order's fact, the
//! day rows, customers' lifetime figures) up to date.

#[tokio::main]
async fn main() -> Result<(), oms_runtime::Error> {
    oms_runtime::run_analytics().await
}
