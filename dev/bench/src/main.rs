//! `oms-bench`: benchmarks as commands, not timed tests.
//!
//!   oms-bench cost    [--orders N] [--return-share PCT]   cost per order, metered
//!   oms-bench latency [--orders N]                        placement p50/p95/p99 at 1, 8, 32; pipeline orders/s
//!   oms-bench hot-sku [--units N] [--buyers B] [--shards S] reservations/s on one SKU, unsharded vs sharded
//!   oms-bench cold-start [--runs N] [--no-build]          arm64 zip sizes; init, first response, peak memory vs a Python peer
//!
//! Each writes its figures to stdout and to `docs/bench/<name>.json` (plots as SVG beside them).

mod cold;
mod cost;
mod hot;
mod latency;
mod plot;

use anyhow::Context;

fn arg(args: &[String], name: &str, default: u64) -> anyhow::Result<u64> {
    match args.iter().position(|a| a == name) {
        Some(i) => args.get(i + 1).context("missing value")?.parse().with_context(|| format!("{name} needs a number")),
        None => Ok(default),
    }
}

pub fn out_dir() -> std::path::PathBuf {
    let d = oms_harness::repo_root().join("docs/bench");
    let _ = std::fs::create_dir_all(&d);
    d
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("cost") => cost::run(arg(&args, "--orders", 40)? as usize, arg(&args, "--return-share", 25)?).await,
        Some("latency") => latency::run(arg(&args, "--orders", 200)? as usize).await,
        Some("hot-sku") => {
            hot::run(
                arg(&args, "--units", 2000)? as i64,
                arg(&args, "--buyers", 64)? as usize,
                arg(&args, "--shards", 8)? as usize,
            )
            .await
        }
        Some("cold-start") => {
            cold::run(arg(&args, "--runs", 5)? as usize, !args.iter().any(|a| a == "--no-build")).await
        }
        _ => {
            eprintln!("usage: oms-bench cost|latency|hot-sku|cold-start [options] (see dev/bench/src/main.rs)");
            std::process::exit(2)
        }
    }
}
