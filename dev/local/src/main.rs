//! `oms-local`: runs the OMS on this machine until Ctrl-C.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let cfg = oms_local::Config::from_env()?;
    let local = oms_local::start(
        &cfg.table,
        oms_local::Options { seed: cfg.seed, reminder_tick_secs: Some(60), ..Default::default() },
    )
    .await?;
    if cfg.seed {
        oms_local::seed::technicians(&local.oms).await?;
    }
    // The env file `cargo lambda watch --env-file` reads (./dev/watch.sh): this run's stack.
    let env_path = oms_local::watch_env_path();
    std::fs::write(&env_path, oms_local::env_file(&local)).with_context(|| env_path.clone())?;
    println!("{}", oms_local::banner(&local, &cfg));
    oms_local::serve(&local, cfg.addr).await
}
