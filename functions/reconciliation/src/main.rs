//! Scheduled reconciliation (logs and alarms): the use-case is `oms_shared::app::reconcile`.

#[tokio::main]
async fn main() -> Result<(), oms_runtime::Error> {
    oms_runtime::run_reconciliation().await
}
