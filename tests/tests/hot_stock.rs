//! A hot SKU's stock split over shard items, through the API: concurrent buyers get exactly the
//! units there are, and an order holding units on several shards is allocated, shipped and
//! cancelled on the shards it took them from.

use futures::future::join_all;
use oms_tests::*;
use serde_json::json;

async fn product_with_stock(s: &Stack, sku: &str, on_hand: i64, shards: u16) -> anyhow::Result<()> {
    let admin = s.admin_token();
    let p = s
        .call(
            "PUT",
            &format!("/v1/admin/products/{sku}"),
            Some(&admin),
            Some(&json!({"name": "Hot drop", "price": {"amount": 5000, "currency": "USD"}, "weightGrams": 300})),
            &[],
        )
        .await?;
    anyhow::ensure!(p.status == 200, "{}", p.text);
    let st = s
        .call(
            "PUT",
            &format!("/v1/admin/stock/{sku}/WH-NJ"),
            Some(&admin),
            Some(&json!({"onHand": on_hand, "shards": shards})),
            &[],
        )
        .await?;
    anyhow::ensure!(st.status == 200, "{}", st.text);
    anyhow::ensure!(st.json()["shards"] == shards && st.json()["available"] == on_hand, "{}", st.text);
    Ok(())
}

/// Every shard item keeps on hand = available + held + allocated, none below zero.
async fn shards_conserved(s: &Stack, sku: &str) -> anyhow::Result<usize> {
    let items = s.local.oms.store.stock_for_sku(&oms_shared::domain::Sku::parse(sku)?).await?;
    for r in &items {
        anyhow::ensure!(r.level.is_conserved(), "shard {} broke conservation: {:?}", r.shard, r.level);
    }
    Ok(items.len())
}

#[tokio::test]
async fn many_buyers_on_a_sharded_sku_buy_exactly_the_units_there_are() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    product_with_stock(&s, "HOT-1", 25, 8).await?;
    let body = order_body(json!([{"sku": "HOT-1", "quantity": 1}]));
    let tokens: Vec<String> = (0..80).map(|i| s.token(&format!("hot-buyer-{i}"))).collect();
    let s = &s;
    let replies = join_all(tokens.iter().enumerate().map(|(i, t)| {
        let key = format!("hot-{i}");
        let body = body.clone();
        async move { s.call("POST", "/v1/orders", Some(t), Some(&body), &[("Idempotency-Key", &key)]).await }
    }))
    .await;
    let replies: Vec<_> = replies.into_iter().collect::<Result<_, _>>()?;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let refused = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!(
        (created, refused),
        (25, 55),
        "{:?}",
        replies.iter().find(|r| r.status != 201 && r.status != 409).map(|r| &r.text)
    );
    assert_eq!(s.available("HOT-1", "WH-NJ").await?, (0, 25, 0));
    // Contention may have split it further meanwhile (automatic splitting), never fewer.
    let shards = shards_conserved(s, "HOT-1").await?;
    assert!((8..=16).contains(&shards), "{shards} shards");
    Ok(())
}

#[tokio::test]
async fn an_order_across_shards_is_allocated_shipped_and_cancelled_on_its_shards() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    // Four shards of one unit each: three units can only come from three shards.
    product_with_stock(&s, "HOT-2", 4, 4).await?;
    let (id, tracking) = s.ready_order("span", "span@example.com", json!([{"sku": "HOT-2", "quantity": 3}])).await?;
    assert_eq!(s.available("HOT-2", "WH-NJ").await?, (1, 0, 3));
    let o = s.order("span", &id).await?;
    assert_eq!(o["shipments"].as_array().map(Vec::len), Some(1), "{o}");
    assert_eq!(o["shipments"][0]["lines"], json!([{"lineId": o["lines"][0]["lineId"], "sku": "HOT-2", "quantity": 3}]));
    for t in &tracking {
        for st in ["in_transit", "delivered"] {
            let r = s.carrier_event(&format!("evt_{}", ulid::Ulid::new()), t, st).await?;
            assert_eq!(r.status, 200, "{}", r.text);
        }
    }
    s.wait_for_status("span", &id, "delivered").await?;
    let r = s
        .local
        .oms
        .store
        .get_stock(&oms_shared::domain::Sku::parse("HOT-2")?, &oms_shared::domain::LocationId::parse("WH-NJ")?)
        .await?
        .unwrap();
    assert_eq!((r.level.on_hand, r.level.available, r.level.held, r.level.allocated), (1, 1, 0, 0));
    shards_conserved(&s, "HOT-2").await?;

    // The last unit, held and cancelled: back on its shard.
    let other = s.place("last", &order_body(json!([{"sku": "HOT-2", "quantity": 1}]))).await?;
    assert_eq!(s.available("HOT-2", "WH-NJ").await?, (0, 1, 0));
    let c = s
        .call(
            "POST",
            &format!("/v1/orders/{other}/cancel"),
            Some(&s.token("last")),
            Some(&json!({"reason": "changed my mind"})),
            &[],
        )
        .await?;
    assert_eq!(c.status, 200, "{}", c.text);
    assert_eq!(s.available("HOT-2", "WH-NJ").await?, (1, 0, 0));
    shards_conserved(&s, "HOT-2").await?;
    Ok(())
}

#[tokio::test]
async fn shard_counts_are_validated_and_cannot_strand_held_units() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    product_with_stock(&s, "HOT-3", 8, 4).await?;
    let admin = s.admin_token();
    for bad in [json!({"onHand": 8, "shards": 0}), json!({"onHand": 8, "shards": 33})] {
        let r = s.call("PUT", "/v1/admin/stock/HOT-3/WH-NJ", Some(&admin), Some(&bad), &[]).await?;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("shards"), "{}", r.text);
    }
    // Holds spread over the shards; going down to one shard is refused while they are held.
    for i in 0..8 {
        s.place(&format!("h{i}"), &order_body(json!([{"sku": "HOT-3", "quantity": 1}]))).await?;
    }
    // The refusal changes nothing, the count with it; the WMS's retry is refused again, not
    // taken as a count already applied.
    let shrink = json!({"onHand": 20, "shards": 1, "sequence": 5});
    for _ in 0..2 {
        let r = s.call("PUT", "/v1/admin/stock/HOT-3/WH-NJ", Some(&admin), Some(&shrink), &[]).await?;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.text.contains("stock-shard-committed"), "{}", r.text);
        assert_eq!(s.available("HOT-3", "WH-NJ").await?, (0, 8, 0));
    }
    // A count below what orders hold is refused with the shard change it came with.
    let r = s
        .call("PUT", "/v1/admin/stock/HOT-3/WH-NJ", Some(&admin), Some(&json!({"onHand": 3, "shards": 16})), &[])
        .await?;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("stock-below-committed"), "{}", r.text);
    assert_eq!(shards_conserved(&s, "HOT-3").await?, 4, "the shards stay as they were");
    // The same count delivered twice at once (the WMS's retry): applied once, its shard
    // change kept whichever copy lands first; an older count changes nothing, its shards
    // included.
    let count = json!({"onHand": 30, "shards": 6, "sequence": 40});
    let both =
        join_all((0..2).map(|_| s.call("PUT", "/v1/admin/stock/HOT-3/WH-NJ", Some(&admin), Some(&count), &[]))).await;
    for r in both {
        let r = r?;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(shards_conserved(&s, "HOT-3").await?, 6);
    assert_eq!(s.available("HOT-3", "WH-NJ").await?, (22, 8, 0));
    let older = json!({"onHand": 9, "shards": 2, "sequence": 39});
    let r = s.call("PUT", "/v1/admin/stock/HOT-3/WH-NJ", Some(&admin), Some(&older), &[]).await?;
    assert_eq!((r.status, r.json()["ignored"].as_bool()), (200, Some(true)), "{}", r.text);
    assert_eq!(shards_conserved(&s, "HOT-3").await?, 6);
    assert_eq!(s.available("HOT-3", "WH-NJ").await?, (22, 8, 0));
    // The shard count alone (no onHand): the stock stays as counted.
    let r = s.call("PUT", "/v1/admin/stock/HOT-3/WH-NJ", Some(&admin), Some(&json!({"shards": 8})), &[]).await?;
    assert_eq!((r.status, r.json()["shards"].as_u64()), (200, Some(8)), "{}", r.text);
    assert_eq!(shards_conserved(&s, "HOT-3").await?, 8);
    assert_eq!(s.available("HOT-3", "WH-NJ").await?, (22, 8, 0));
    // Anything else without onHand names it.
    let r = s
        .call("PUT", "/v1/admin/stock/HOT-3/WH-NJ", Some(&admin), Some(&json!({"shards": 4, "safetyStock": 1})), &[])
        .await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("onHand")), "{}", r.text);
    let r = s.call("PUT", "/v1/admin/stock/HOT-3/WH-NJ", Some(&admin), Some(&json!({})), &[]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("onHand")), "{}", r.text);
    assert_eq!(shards_conserved(&s, "HOT-3").await?, 8);
    // An unknown location names the field.
    let r = s.call("PUT", "/v1/admin/stock/HOT-3/WH-NOPE", Some(&admin), Some(&json!({"onHand": 3})), &[]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (422, Some("locationId")), "{}", r.text);
    // More shards keep what is held where it is.
    let r = s
        .call("PUT", "/v1/admin/stock/HOT-3/WH-NJ", Some(&admin), Some(&json!({"onHand": 12, "shards": 8})), &[])
        .await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.available("HOT-3", "WH-NJ").await?, (4, 8, 0));
    assert_eq!(shards_conserved(&s, "HOT-3").await?, 8);
    Ok(())
}
