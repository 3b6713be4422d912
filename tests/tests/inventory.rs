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
