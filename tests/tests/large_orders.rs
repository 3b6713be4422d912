//! An order of 150 lines (more stock items than one DynamoDB transaction holds) placed, edited,
//! allocated and cancelled through the API: every stock item moves exactly once per step, and
//! nothing is half written.

use futures::StreamExt;
use oms_shared::app::catalog::{ProductInput, StockInput};
use oms_shared::domain::{LocationId, Sku, StockLevel};
use oms_tests::*;
use serde_json::{Value, json};

const LINES: usize = 150;

fn sku(i: usize) -> String {
    format!("BULK-{i:03}")
}

async fn levels(s: &Stack) -> anyhow::Result<Vec<StockLevel>> {
    let wh = LocationId::parse("WH-NJ")?;
    let got = futures::stream::iter((0..LINES).map(|i| {
        let wh = wh.clone();
        async move { s.local.oms.store.get_stock(&Sku::parse(&sku(i))?, &wh).await.map_err(anyhow::Error::from) }
    }))
    .buffered(16)
    .collect::<Vec<_>>()
    .await;
    got.into_iter().map(|r| r?.map(|r| r.level).ok_or_else(|| anyhow::anyhow!("no stock"))).collect()
}

async fn all_at(s: &Stack, available: i64, held: i64, allocated: i64) -> anyhow::Result<()> {
    for (i, l) in levels(s).await?.iter().enumerate() {
        anyhow::ensure!(
            (l.available, l.held, l.allocated) == (available, held, allocated) && l.is_conserved(),
            "{}: {l:?}, expected available {available}, held {held}, allocated {allocated}",
            sku(i)
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_150_line_order_is_placed_edited_allocated_and_cancelled_whole() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    let oms = &s.local.oms;
    futures::stream::iter((0..LINES).map(|i| async move {
        let input: ProductInput = serde_json::from_value(
            json!({"name": format!("Bulk item {i}"), "price": {"amount": 100 + i, "currency": "USD"}, "weightGrams": 50}),
        )?;
        oms.upsert_product(Sku::parse(&sku(i))?, input).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        // A few of them on sharded stock.
        let shards = if i % 25 == 0 { Some(4) } else { None };
        oms.set_stock(Sku::parse(&sku(i))?, LocationId::parse("WH-NJ")?, StockInput { on_hand: Some(5), shards, sequence: None, safety_stock: None, channel_safety_stock: None, reorder_point: None, reorder_quantity: None })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::Ok(())
    }))
    .buffer_unordered(16)
    .collect::<Vec<_>>()
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;

    let lines: Vec<Value> = (0..LINES).map(|i| json!({"sku": sku(i), "quantity": 1})).collect();
    let mut body = order_body(Value::Array(lines));
    body["email"] = json!("bulk@example.com");
    let token = s.token("bulk-buyer");
    let r = s.call("POST", "/v1/orders", Some(&token), Some(&body), &[("Idempotency-Key", "bulk-1")]).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["orderId"].as_str().unwrap_or_default().to_owned();
    assert_eq!(r.json()["lines"].as_array().map(Vec::len), Some(LINES));
    all_at(&s, 4, 1, 0).await?;
    // The same request again: the same order, nothing held twice.
    let again = s.call("POST", "/v1/orders", Some(&token), Some(&body), &[("Idempotency-Key", "bulk-1")]).await?;
    assert_eq!((again.status, again.text.as_str()), (201, r.text.as_str()));
    all_at(&s, 4, 1, 0).await?;

    // Edit: two of everything (150 more units held, in one change).
    let lines: Vec<Value> = (0..LINES).map(|i| json!({"sku": sku(i), "quantity": 2})).collect();
    let e = s
        .call(
            "PATCH",
            &format!("/v1/orders/{id}"),
            Some(&token),
            Some(&json!({"lines": lines})),
            &[("If-Match", "\"v1\"")],
        )
        .await?;
    assert_eq!(e.status, 200, "{}", e.text);
    all_at(&s, 3, 2, 0).await?;
    // An edit asking for more than there is of one line changes nothing at all.
    let mut lines: Vec<Value> = (0..LINES).map(|i| json!({"sku": sku(i), "quantity": 2})).collect();
    lines[140] = json!({"sku": sku(140), "quantity": 9});
    let v = s.order("bulk-buyer", &id).await?["version"].as_u64().unwrap_or(0);
    let short = s
        .call(
            "PATCH",
            &format!("/v1/orders/{id}"),
            Some(&token),
            Some(&json!({"lines": lines})),
            &[("If-Match", &format!("\"v{v}\""))],
        )
        .await?;
    assert_eq!(short.status, 409, "{}", short.text);
    all_at(&s, 3, 2, 0).await?;
    // An edit that names nothing to change says which field it wants.
    let empty = s
        .call(
            "PATCH",
            &format!("/v1/orders/{id}"),
            Some(&token),
            Some(&json!({})),
            &[("If-Match", &format!("\"v{v}\""))],
        )
        .await?;
    assert_eq!((empty.status, empty.json()["field"].as_str()), (400, Some("lines")), "{}", empty.text);

    // The workflow allocates all 150 items and buys the label.
    let ex = s.local.workflow.run(&id).await;
    assert!(ex.result.is_ok(), "{:?}", ex.result);
    assert_eq!(s.order("bulk-buyer", &id).await?["status"], "ready_to_ship");
    all_at(&s, 3, 0, 2).await?;

    // Cancelled: every unit back where it was.
    let c = s
        .call(
            "POST",
            &format!("/v1/orders/{id}/cancel"),
            Some(&token),
            Some(&json!({"reason": "ordered by mistake"})),
            &[],
        )
        .await?;
    assert_eq!(c.status, 200, "{}", c.text);
    all_at(&s, 5, 0, 0).await?;
    let report = oms.reconcile().await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    assert_eq!(report.differences(), 0, "{report:?}");
    Ok(())
}
