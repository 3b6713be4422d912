//! Fulfillment step `create-labels`: the use-case is `oms_shared::app::fulfillment`.

#[tokio::main]
async fn main() -> Result<(), oms_runtime::Error> {
    oms_runtime::run_step("create-labels").await
}
