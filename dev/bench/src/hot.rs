//! Hot SKU: many buyers reserving one unit each of one SKU, with the SKU's stock in one item
//! (unsharded) or split across N shard items (a buyer picks a random shard and moves on to the
//! next when it is empty). Zero oversell is checked after every run.

use oms_shared::adapters::dynamo::DynamoStore;
use oms_shared::adapters::dynamo::meter::CapacityMeter;
use oms_shared::domain::{LocationId, Sku, StockMove, StockMovement};
use oms_shared::ports::{StockRepository, StoreError};
use rand::Rng;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

async fn round(
    store: &DynamoStore,
    sku: &Sku,
    shards: &[LocationId],
    units: i64,
    buyers: usize,
) -> anyhow::Result<(f64, u64, u64)> {
    for (k, s) in shards.iter().enumerate() {
        let share = units / shards.len() as i64 + if (k as i64) < units % shards.len() as i64 { 1 } else { 0 };
        store.set_on_hand(sku, s, share).await?;
    }
    let ok = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let tasks: Vec<_> = (0..buyers)
        .map(|_| {
            let (store, sku, shards, ok, refused) =
                (store.clone(), sku.clone(), shards.to_vec(), ok.clone(), refused.clone());
            tokio::spawn(async move {
                loop {
                    let start = rand::rng().random_range(0..shards.len());
                    let mut got = false;
                    for k in 0..shards.len() {
                        match store
                            .apply_stock_move(&StockMovement {
                                sku: sku.clone(),
                                location_id: shards[(start + k) % shards.len()].clone(),
                                movement: StockMove::Hold,
                                quantity: 1,
                            })
                            .await
                        {
                            Ok(()) => {
                                got = true;
                                break;
                            }
                            Err(StoreError::OutOfStock(_)) => continue,
                            Err(e) => return Err(anyhow::anyhow!("{e}")),
                        }
                    }
                    if got {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        refused.fetch_add(1, Ordering::Relaxed);
                        return Ok(());
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let secs = t.elapsed().as_secs_f64();
    // Zero oversell: exactly `units` held, nothing negative anywhere.
    let mut held = 0;
    for s in shards {
        let r = store.get_stock(sku, s).await?.ok_or_else(|| anyhow::anyhow!("stock vanished"))?;
        anyhow::ensure!(r.level.available >= 0 && r.level.is_conserved(), "oversold: {r:?}");
        held += r.level.held;
    }
    anyhow::ensure!(
        held == units && ok.load(Ordering::Relaxed) as i64 == units,
        "held {held}, reserved {}, stock {units}",
        ok.load(Ordering::Relaxed)
    );
    Ok((secs, ok.load(Ordering::Relaxed), refused.load(Ordering::Relaxed)))
}

pub async fn run(units: i64, buyers: usize, shards: usize) -> anyhow::Result<()> {
    let t = oms_harness::TestTable::new().await?;
    let meter = Arc::new(CapacityMeter::default());
    let conf = oms_shared::adapters::aws::load_config(true).await;
    let endpoint = oms_harness::dynamodb_endpoint().await?;
    let client = oms_shared::adapters::aws::dynamodb_client_metered(&conf, Some(&endpoint), meter.clone());
    drop(t.client);
    let store = DynamoStore::new(client, t.name.clone());
    let sku = Sku::parse("HOT-DROP-1")?;
    let mut out = serde_json::Map::new();
    for n in [1usize, shards] {
        let locs: Vec<LocationId> =
            (0..n).map(|k| LocationId::parse(&format!("WH-NJ.s{k}"))).collect::<Result<_, _>>()?;
        let (secs, ok, refused) = round(&store, &Sku::parse(&format!("{}-{n}", sku))?, &locs, units, buyers).await?;
        let (r, w) = meter.milli_units();
        let row = json!({"shards": n, "units": units, "buyers": buyers, "reserved": ok, "buyersTurnedAway": refused, "seconds": secs,
                         "reservationsPerSecond": ok as f64 / secs, "oversold": 0, "cumulativeWriteUnits": w as f64 / 1000.0, "cumulativeReadUnits": r as f64 / 1000.0});
        println!("hot sku, {n} shard item(s): {row}");
        out.insert(format!("shards{n}"), row);
    }
    std::fs::write(
        crate::out_dir().join("hot-sku.json"),
        serde_json::to_string_pretty(&serde_json::Value::Object(out))?,
    )?;
    Ok(())
}
