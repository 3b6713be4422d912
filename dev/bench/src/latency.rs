//! Placement latency at concurrency 1, 8 and 32 over HTTP (the local runner, DynamoDB Local),
//! and end-to-end throughput: orders placed concurrently until every one is `ready_to_ship`.

use crate::plot::{cdf_svg, percentile};
use futures::future::join_all;
use oms_local::Options;
use serde_json::{Value, json};
use std::time::Instant;

fn body(i: usize) -> Value {
    json!({"lines": [{"sku": "TSHIRT-BLK-M", "quantity": 1}],
        "shippingAddress": {"name": "Ann Lee", "line1": "350 5th Ave", "city": "New York", "region": "NY", "postalCode": "10118", "country": "US"},
        "email": format!("lat-{i}@example.com"), "serviceLevel": "standard", "paymentToken": "tok_visa", "channel": "web"})
}

async fn place(http: &reqwest::Client, base: &str, token: &str, i: usize) -> anyhow::Result<(f64, String)> {
    let t = Instant::now();
    let r = http
        .post(format!("{base}/v1/orders"))
        .bearer_auth(token)
        .header("idempotency-key", format!("lat-{i}-{}", ulid::Ulid::new()))
        .json(&body(i))
        .send()
        .await?;
    let status = r.status();
    let v: Value = r.json().await?;
    anyhow::ensure!(status.as_u16() == 201, "placement {status}: {v}");
    Ok((t.elapsed().as_secs_f64() * 1000.0, v["orderId"].as_str().unwrap_or_default().to_owned()))
}

pub async fn run(orders: usize) -> anyhow::Result<()> {
    let table = format!("oms-bench-{}", ulid::Ulid::new().to_string().to_lowercase());
    let local = oms_local::start(&table, Options { stream: false, workers: false, ..Default::default() }).await?;
    local
        .oms
        .set_stock(
            oms_shared::domain::Sku::parse("TSHIRT-BLK-M")?,
            oms_shared::domain::LocationId::parse("WH-NJ")?,
            oms_shared::app::catalog::StockInput {
                on_hand: Some(10_000_000),
                shards: None,
                sequence: None,
                safety_stock: None,
                channel_safety_stock: None,
                reorder_point: None,
                reorder_quantity: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let addr = oms_local::spawn(&local).await?;
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let token = local.issuer.issue("latency", "", 3600);
    // Warm up connections and caches.
    for i in 0..20 {
        place(&http, &base, &token, i).await?;
    }
    let mut series = Vec::new();
    let mut summary = serde_json::Map::new();
    for c in [1usize, 8, 32] {
        let mut lat = Vec::with_capacity(orders);
        let t = Instant::now();
        let mut i = 0;
        while i < orders {
            let n = c.min(orders - i);
            let res = join_all((0..n).map(|k| place(&http, &base, &token, 100_000 * c + i + k))).await;
            for r in res {
                lat.push(r?.0);
            }
            i += n;
        }
        let secs = t.elapsed().as_secs_f64();
        lat.sort_by(|a, b| a.total_cmp(b));
        let row = json!({"p50Ms": percentile(&lat, 50.0), "p95Ms": percentile(&lat, 95.0), "p99Ms": percentile(&lat, 99.0), "ordersPerSecond": orders as f64 / secs});
        println!("placement concurrency {c:>2}: {row}");
        summary.insert(format!("concurrency{c}"), row);
        series.push((format!("concurrency {c}"), lat));
    }
    std::fs::write(
        crate::out_dir().join("placement-latency.svg"),
        cdf_svg("POST /v1/orders latency (local runner, DynamoDB Local, 2 cores)", &series, "milliseconds"),
    )?;

    // End to end: the stream, the workflow, labels, the confirmation message.
    let table = format!("oms-bench-e2e-{}", ulid::Ulid::new().to_string().to_lowercase());
    let e2e = oms_local::start(&table, Options::default()).await?;
    e2e.oms
        .set_stock(
            oms_shared::domain::Sku::parse("TSHIRT-BLK-M")?,
            oms_shared::domain::LocationId::parse("WH-NJ")?,
            oms_shared::app::catalog::StockInput {
                on_hand: Some(10_000_000),
                shards: None,
                sequence: None,
                safety_stock: None,
                channel_safety_stock: None,
                reorder_point: None,
                reorder_quantity: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let addr = oms_local::spawn(&e2e).await?;
    let base = format!("http://{addr}");
    let token = e2e.issuer.issue("e2e", "", 3600);
    let n = orders.min(200);
    let t = Instant::now();
    let mut ids = Vec::new();
    let mut i = 0;
    while i < n {
        let k = 32.min(n - i);
        for r in join_all((0..k).map(|j| place(&http, &base, &token, 900_000 + i + j))).await {
            ids.push(r?.1);
        }
        i += k;
    }
    loop {
        let done = e2e.workflow.executions.lock().map(|v| v.len()).unwrap_or(0);
        if done >= n {
            break;
        }
        anyhow::ensure!(t.elapsed().as_secs() < 600, "pipeline did not finish: {done}/{n}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let secs = t.elapsed().as_secs_f64();
    let ok = e2e.workflow.executions.lock().map(|v| v.iter().filter(|e| e.result.is_ok()).count()).unwrap_or(0);
    let row = json!({"orders": n, "readyToShip": ok, "seconds": secs, "ordersPerSecond": n as f64 / secs});
    println!("end to end (placed -> ready_to_ship): {row}");
    summary.insert("endToEnd".into(), row);
    std::fs::write(crate::out_dir().join("latency.json"), serde_json::to_string_pretty(&Value::Object(summary))?)?;
    Ok(())
}
