//! Scheduled (EventBridge Scheduler): enqueue reminders for idle carts.

#[tokio::main]
async fn main() -> Result<(), oms_runtime::Error> {
    oms_runtime::run_reminders().await
}
