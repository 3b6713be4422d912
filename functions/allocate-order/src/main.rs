//! Fulfillment step `allocate-order`: the use-case is `oms_shared::app::fulfillment`.

#[tokio::main]
async fn main() -> Result<(), oms_runtime::Error> {
    oms_runtime::run_step("allocate-order").await
}
