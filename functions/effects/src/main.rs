//! After-commit effects (table stream + schedule): the use-case is `oms_shared::app::effects`.

#[tokio::main]
async fn main() -> Result<(), oms_runtime::Error> {
    oms_runtime::run_effects().await
}
