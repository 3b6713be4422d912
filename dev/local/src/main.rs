//! `oms-local`: runs the OMS on this machine until Ctrl-C.

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
    println!("{}", oms_local::banner(&local, &cfg));
    oms_local::serve(&local, cfg.addr).await
}
