//! Hot SKU through placement itself: many buyers placing one-unit orders of one SKU at once
//! (in process, on DynamoDB Local), with the SKU's stock in one item or split over N shard
//! items, and once starting unsharded with automatic splitting on. Reports reservations/s and
//! the share of placement commits refused by contention (DynamoDB Local serializes writes, so
//! the conflict rate is the figure sharding must lower). Zero oversell is checked after every
//! run: exactly the units there were are held, by exactly that many orders.

use oms_local::Options;
use oms_shared::app::Caller;
use oms_shared::app::catalog::StockInput;
use oms_shared::domain::{CustomerId, LocationId, Sku};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

async fn round(
    local: &Arc<oms_local::Local>,
    sku: &str,
    shards: u16,
    auto: bool,
    units: i64,
    buyers: usize,
) -> anyhow::Result<serde_json::Value> {
    let oms = &local.oms;
    let (sku_id, loc) = (Sku::parse(sku)?, LocationId::parse("WH-NJ")?);
    oms.upsert_product(
        sku_id.clone(),
        serde_json::from_value(
            json!({"name": "Hot drop", "price": {"amount": 1000, "currency": "USD"}, "weightGrams": 100}),
        )?,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    oms.set_stock(
        sku_id.clone(),
        loc.clone(),
        StockInput {
            on_hand: Some(units),
            shards: Some(shards),
            sequence: None,
            safety_stock: None,
            channel_safety_stock: None,
            reorder_point: None,
            reorder_quantity: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    oms.hot.auto_split.store(auto, Ordering::Relaxed);
    let (c0, k0, s0) = oms.hot.stats();
    let ok = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let tasks: Vec<_> = (0..buyers)
        .map(|b| {
            let (local, ok, refused, sku) = (local.clone(), ok.clone(), refused.clone(), sku.to_owned());
            tokio::spawn(async move {
                let caller = Caller::customer(CustomerId::parse(&format!("hot-buyer-{b}"))?);
                for i in 0.. {
                    let req = serde_json::from_value(json!({"lines": [{"sku": sku, "quantity": 1}],
                        "shippingAddress": {"name": "Ann Lee", "line1": "350 5th Ave", "city": "New York", "region": "NY", "postalCode": "10118", "country": "US"},
                        "email": format!("hot-{b}@example.com"), "serviceLevel": "standard", "paymentToken": "tok_visa", "channel": "web"}))?;
                    match local.oms.place_order(&caller, &format!("hot-{sku}-{b}-{i}"), &format!("h{i}"), req).await {
                        Ok(_) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(oms_shared::app::AppError::OutOfStock(_)) => {
                            refused.fetch_add(1, Ordering::Relaxed);
                            return anyhow::Ok(());
                        }
                        Err(e) => return Err(anyhow::anyhow!("placement failed: {e}")),
                    }
                }
                Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let secs = t.elapsed().as_secs_f64();
    let (c1, k1, s1) = oms.hot.stats();
    let r = oms_shared::ports::StockRepository::get_stock(&*oms.store, &sku_id, &loc)
        .await?
        .ok_or_else(|| anyhow::anyhow!("stock vanished"))?;
    let sold = ok.load(Ordering::Relaxed);
    anyhow::ensure!(
        r.level.available == 0 && r.level.held == units && sold as i64 == units,
        "oversold or undersold: {r:?}, {sold} orders for {units} units"
    );
    let commits = (c1 - c0).max(1);
    Ok(json!({"shardsAtStart": shards, "autoSplit": auto, "shardsAtEnd": r.shards, "units": units, "buyers": buyers,
        "ordersPlaced": sold, "buyersTurnedAway": refused.load(Ordering::Relaxed), "seconds": secs,
        "reservationsPerSecond": sold as f64 / secs, "commitAttempts": c1 - c0, "contendedCommits": k1 - k0,
        "conflictRate": (k1 - k0) as f64 / commits as f64,
        "refusedByAnEmptiedShard": s1 - s0, "refusedByTransactionConflict": (k1 - k0) - (s1 - s0), "oversold": 0}))
}

pub async fn run(units: i64, buyers: usize, shards: usize) -> anyhow::Result<()> {
    let table = format!("oms-bench-{}", ulid::Ulid::new().to_string().to_lowercase());
    let local =
        Arc::new(oms_local::start(&table, Options { stream: false, workers: false, ..Default::default() }).await?);
    let mut rows = Vec::new();
    let mut counts = vec![1u16, 4, shards as u16];
    counts.dedup();
    for n in counts {
        let row = round(&local, &format!("HOT-DROP-{n}"), n, false, units, buyers).await?;
        println!("hot sku through placement, {n} shard(s): {row}");
        rows.push(row);
    }
    let row = round(&local, "HOT-DROP-AUTO", 1, true, units, buyers).await?;
    println!("hot sku through placement, automatic splitting from 1: {row}");
    rows.push(row);
    let out = json!({"what": "one-unit orders placed concurrently on one SKU through Oms::place_order, DynamoDB Local",
        "awsCeiling": "each shard item has its own partition key: about 1,000 write units/s per partition, so a hot SKU x location takes about 1,000 x shards / (write units per hold) holds per second on AWS (about 500 x shards with a 2-unit transactional stock update)",
        "rows": rows});
    std::fs::write(crate::out_dir().join("hot-sku.json"), serde_json::to_string_pretty(&out)?)?;
    Ok(())
}
