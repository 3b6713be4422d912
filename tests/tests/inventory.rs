//! Inventory operations from outside: WMS counts in sequence (late or repeated ones change
//! nothing) that keep the holds of open orders, adjustments with reason codes, the drift report,
//! and safety stock that neither storefronts nor orders get.

use oms_tests::{Stack, order_body};
use serde_json::json;

#[tokio::test]
async fn wms_counts_apply_in_sequence_and_keep_open_holds() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let wh = s.scoped_token("wms-1", "oms/warehouse");
    let put = |body: serde_json::Value| {
        let (s, wh) = (&s, wh.clone());
        async move { s.call("PUT", "/v1/admin/stock/DESK-LAMP/WH-TX", Some(&wh), Some(&body), &[]).await }
    };
    // Two orders hold three lamps (no workflow runs here: the holds stay open).
    s.place("cust-i1", &order_body(json!([{"sku": "DESK-LAMP", "quantity": 2}]))).await?;
    s.place("cust-i2", &order_body(json!([{"sku": "DESK-LAMP", "quantity": 1}]))).await?;
    let (available, held, allocated) = s.available("DESK-LAMP", "WH-TX").await?;
    assert_eq!((held, allocated), (3, 0));
    let on_hand = available + held;

    // The WMS counts 20 (sequence 7): on hand 20, the holds untouched, the drift recorded.
    let r = put(json!({"onHand": 20, "sequence": 7})).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(
        (v["onHand"].as_i64(), v["held"].as_i64(), v["available"].as_i64()),
        (Some(20), Some(3), Some(17)),
        "{v}"
    );
    assert_eq!(v["lastCount"]["drift"], 20 - on_hand);
    assert_eq!(v["sequence"], 7);
    // A late count (sequence 6) and the same count again change nothing.
    for seq in [6, 7] {
        let r = put(json!({"onHand": 2, "sequence": seq})).await?;
        assert_eq!((r.status, r.json()["ignored"].as_bool()), (200, Some(true)), "{}", r.text);
        assert_eq!(r.json()["onHand"], 20);
    }
    // A count below what orders hold is refused and writes nothing.
    let r = put(json!({"onHand": 2, "sequence": 8})).await?;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(s.available("DESK-LAMP", "WH-TX").await?, (17, 3, 0));

    // Adjustments with a reason code: two damaged, one found; never below the holds.
    let adj = |body: serde_json::Value| {
        let (s, wh) = (&s, wh.clone());
        async move { s.call("POST", "/v1/admin/stock/DESK-LAMP/WH-TX/adjustments", Some(&wh), Some(&body), &[]).await }
    };
    let r = adj(json!({"delta": -2, "reason": "damaged"})).await?;
    assert_eq!((r.status, r.json()["onHand"].as_i64()), (200, Some(18)), "{}", r.text);
    assert_eq!(r.json()["lastCount"]["reason"], "damaged");
    let r = adj(json!({"delta": 1, "reason": "found"})).await?;
    assert_eq!(r.json()["onHand"], 19);
    let r = adj(json!({"delta": -17, "reason": "theft"})).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (422, Some("delta")), "{}", r.text);
    for bad in [json!({"delta": 0, "reason": "found"}), json!({"delta": 1, "reason": "count"}), json!({"delta": 1})] {
        let r = adj(bad.clone()).await?;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    assert_eq!(s.available("DESK-LAMP", "WH-TX").await?, (16, 3, 0));
    // Customers and agents cannot count stock.
    for t in [s.token("cust-i1"), s.scoped_token("agent-1", "oms/agent")] {
        let r = s
            .call(
                "POST",
                "/v1/admin/stock/DESK-LAMP/WH-TX/adjustments",
                Some(&t),
                Some(&json!({"delta": 1, "reason": "found"})),
                &[],
            )
            .await?;
        assert_eq!(r.status, 403);
    }

    // The drift report lists the location whose last count differed; the adjustments since
    // replaced it (they say why), so a fresh count shows the drift again.
    put(json!({"onHand": 25, "sequence": 9})).await?;
    let d = s.call("GET", "/v1/admin/inventory/drift", Some(&wh), None, &[]).await?.json();
    let row = d["items"]
        .as_array()
        .and_then(|i| i.iter().find(|x| x["sku"] == "DESK-LAMP" && x["locationId"] == "WH-TX"))
        .cloned();
    assert_eq!(row.map(|r| r["lastCount"]["drift"].clone()), Some(json!(6)), "{d}");
    Ok(())
}

#[tokio::test]
async fn safety_stock_is_neither_shown_nor_sold() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let admin = s.admin_token();
    // TV-55: 8 in Newark, 5 in Ontario. Newark keeps 6 back, Ontario 5.
    for (loc, on_hand, safety) in [("WH-NJ", 8, 6), ("WH-CA", 5, 5)] {
        let body = json!({"onHand": on_hand, "safetyStock": safety});
        let r = s.call("PUT", &format!("/v1/admin/stock/TV-55/{loc}"), Some(&admin), Some(&body), &[]).await?;
        assert_eq!((r.status, r.json()["safetyStock"].as_i64()), (200, Some(safety)), "{}", r.text);
    }
    let atp = s.call("GET", "/v1/inventory/TV-55", None, None, &[]).await?.json();
    assert_eq!(atp["total"], 2, "{atp}");
    // Two can be sold; a third order finds none.
    s.place("cust-s1", &order_body(json!([{"sku": "TV-55", "quantity": 2}]))).await?;
    let t = s.token("cust-s2");
    let r = s
        .call(
            "POST",
            "/v1/orders",
            Some(&t),
            Some(&order_body(json!([{"sku": "TV-55", "quantity": 1}]))),
            &[("Idempotency-Key", "k-s2")],
        )
        .await?;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(s.available("TV-55", "WH-NJ").await?, (6, 2, 0));
    Ok(())
}

#[tokio::test]
async fn low_stock_alerts_once_per_crossing_with_a_suggested_quantity() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let wh = s.scoped_token("wms-2", "oms/warehouse");
    // Dallas has 30 lamps; below 25 it is low, and at least 20 are worth ordering.
    let body = json!({"onHand": 30, "reorderPoint": 25, "reorderQuantity": 20});
    let r = s.call("PUT", "/v1/admin/stock/DESK-LAMP/WH-TX", Some(&wh), Some(&body), &[]).await?;
    assert_eq!((r.status, r.json()["reorderPoint"].as_i64()), (200, Some(25)), "{}", r.text);
    s.take_messages("IntegrationEventsQueue").await?;
    let mut alerts: Vec<serde_json::Value> = Vec::new();
    let collect = |alerts: &mut Vec<serde_json::Value>, msgs: Vec<serde_json::Value>| {
        alerts.extend(msgs.into_iter().filter(|e| e["detail-type"] == "inventory.low"));
    };
    let lamps = |q: u32| order_body(json!([{"sku": "DESK-LAMP", "quantity": q}]));
    // Six held: 24 left, below the point: one alert. One more: still low, no second alert.
    let first = s.place("cust-l1", &lamps(6)).await?;
    s.eventually("the first alert", || async {
        Ok(!s.call("GET", "/v1/admin/inventory/low", Some(&wh), None, &[]).await?.json()["items"]
            .as_array()
            .is_none_or(|a| a.is_empty()))
    })
    .await?;
    let second = s.place("cust-l2", &lamps(1)).await?;
    s.settle_effects().await?;
    for _ in 0..30 {
        collect(&mut alerts, s.take_messages("IntegrationEventsQueue").await?);
        if !alerts.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let low = s.call("GET", "/v1/admin/inventory/low", Some(&wh), None, &[]).await?.json();
    let row =
        low["items"].as_array().and_then(|i| i.iter().find(|x| x["sku"] == "DESK-LAMP")).cloned().unwrap_or_default();
    assert_eq!((row["promisable"].as_i64(), row["suggestedQuantity"].as_i64()), (Some(23), Some(27)), "{low}");
    // Back above the point, then below again: a second alert.
    for id in [&first, &second] {
        let r = s
            .call("POST", &format!("/v1/admin/orders/{id}/cancel"), Some(&s.admin_token()), Some(&json!({})), &[])
            .await?;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    s.eventually("recovered", || async {
        Ok(s.call("GET", "/v1/admin/inventory/low", Some(&wh), None, &[]).await?.json()["items"]
            .as_array()
            .is_some_and(|a| a.is_empty()))
    })
    .await?;
    // The stock stream has seen it back above the point (the low mark is gone).
    let (sku, loc) = (oms_shared::domain::Sku::parse("DESK-LAMP")?, oms_shared::domain::LocationId::parse("WH-TX")?);
    s.eventually("the low mark cleared", || async {
        let r = oms_shared::ports::StockRepository::get_stock(&*s.local.oms.store, &sku, &loc).await?;
        Ok(r.and_then(|r| r.control).is_some_and(|c| c.low_since.is_none() && c.low_crossings == 1))
    })
    .await?;
    s.place("cust-l3", &lamps(10)).await?;
    s.eventually("the second alert", || async {
        Ok(!s.call("GET", "/v1/admin/inventory/low", Some(&wh), None, &[]).await?.json()["items"]
            .as_array()
            .is_none_or(|a| a.is_empty()))
    })
    .await?;
    s.settle_effects().await?;
    for _ in 0..30 {
        collect(&mut alerts, s.take_messages("IntegrationEventsQueue").await?);
        // A crossing may be announced twice with one id (two stream batches racing the mark):
        // consumers dedupe on it. Two distinct crossings are what counts.
        let distinct: std::collections::BTreeSet<&str> =
            alerts.iter().filter_map(|e| e["detail"]["id"].as_str()).collect();
        if distinct.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut ids: Vec<String> = alerts.iter().filter_map(|e| e["detail"]["id"].as_str().map(str::to_owned)).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids, ["inventory.low.DESK-LAMP.WH-TX.1", "inventory.low.DESK-LAMP.WH-TX.2"], "{alerts:?}");
    Ok(())
}
