//! Promotions and agents' adjustments, from outside: a code's last uses under a crowd of buyers,
//! a bundle discount quoted, placed and partly returned, an agent's adjustment over the limit
//! waiting for a supervisor, and what the customer sees of it all.

use oms_tests::{Stack, nyc, order_body};
use serde_json::{Value, json};

async fn put_promotion(s: &Stack, id: &str, body: &Value) -> anyhow::Result<Value> {
    let sup = s.scoped_token("sup-1", "oms/supervisor");
    let r = s.call("PUT", &format!("/v1/admin/promotions/{id}"), Some(&sup), Some(body), &[]).await?;
    anyhow::ensure!(r.status == 200, "promotion: {} {}", r.status, r.text);
    Ok(r.json())
}

async fn uses(s: &Stack, admin: &str) -> anyhow::Result<Value> {
    Ok(s.call("GET", "/v1/admin/promotions/last-ten", Some(admin), None, &[]).await?.json()["uses"].clone())
}

fn amount(v: &Value) -> i64 {
    v["amount"].as_i64().unwrap_or_default()
}

#[tokio::test]
async fn a_hundred_buyers_race_for_the_last_ten_uses_and_exactly_ten_get_them() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let body = json!({"name": "Ten off, ten times", "codes": ["last10"], "discount": {"type": "fixed",
        "amount": {"amount": 100, "currency": "USD"}}, "target": {"type": "order"}, "usageLimit": 10,
        "perCustomerLimit": 1});
    let p = put_promotion(&s, "last-ten", &body).await?;
    assert_eq!((p["codes"][0].as_str(), p["uses"].as_u64()), (Some("LAST10"), Some(0)), "{p}");
    // Staff without the promotions right, and customers, cannot write promotions.
    for t in [s.scoped_token("agent-1", "oms/agent"), s.token("cust-1")] {
        let r = s.call("PUT", "/v1/admin/promotions/x", Some(&t), Some(&body), &[]).await?;
        assert_eq!(r.status, 403, "{}", r.text);
    }
    // Hostile definitions: 400/422 naming the field, nothing written.
    let sup = s.scoped_token("sup-1", "oms/supervisor");
    for (bad, field) in [
        (
            json!({"name": "x", "discount": {"type": "percent", "basisPoints": 0}, "target": {"type": "order"}}),
            "discount.basisPoints",
        ),
        (
            json!({"name": "x", "codes": ["a b"], "discount": {"type": "percent", "basisPoints": 10}, "target": {"type": "order"}}),
            "codes",
        ),
        (
            json!({"name": "x", "discount": {"type": "percent", "basisPoints": 10}, "target": {"type": "bundle", "requires": "TV-55", "discounted": "TV-55"}}),
            "target.discounted",
        ),
        (
            json!({"name": "x", "discount": {"type": "percent", "basisPoints": 10}, "target": {"type": "order"}, "customerGroups": ["vip"]}),
            "customerGroups",
        ),
    ] {
        let r = s.call("PUT", "/v1/admin/promotions/bad", Some(&sup), Some(&bad), &[]).await?;
        assert!(matches!(r.status, 400 | 422), "{bad}: {}", r.text);
        assert_eq!(r.json()["field"].as_str(), Some(field), "{bad}: {}", r.text);
    }
    let clash = json!({"name": "x", "codes": ["LAST10"], "discount": {"type": "percent", "basisPoints": 10}, "target": {"type": "order"}});
    assert_eq!(s.call("PUT", "/v1/admin/promotions/other", Some(&sup), Some(&clash), &[]).await?.status, 409);

    let buyers: Vec<_> = (0..100)
        .map(|i| {
            let s = &s;
            async move {
                let mut b = order_body(json!([{"sku": "SOCKS-3PK", "quantity": 1}]));
                b["promotionCodes"] = json!(["last10"]);
                let key = ulid::Ulid::new().to_string();
                let t = s.token(&format!("crowd-{i}"));
                s.call("POST", "/v1/orders", Some(&t), Some(&b), &[("Idempotency-Key", &key)]).await
            }
        })
        .collect();
    let replies = futures::future::join_all(buyers).await;
    let mut placed = Vec::new();
    for r in replies {
        let r = r?;
        match r.status {
            201 => placed.push(r.json()),
            422 => assert_eq!(r.json()["type"], "urn:oms:problem:promotion-exhausted", "{}", r.text),
            other => anyhow::bail!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(placed.len(), 10);
    for o in &placed {
        assert_eq!(amount(&o["totals"]["discount"]), 100, "{o}");
        assert_eq!(o["promotions"][0]["code"], "LAST10");
    }
    let admin = s.admin_token();
    assert_eq!(uses(&s, &admin).await?, 10);
    // A cancel gives its use back; the freed use goes to the next buyer, once per customer.
    let first = placed[0]["orderId"].as_str().unwrap_or_default().to_owned();
    let r = s.call("POST", &format!("/v1/admin/orders/{first}/cancel"), Some(&admin), Some(&json!({})), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(uses(&s, &admin).await?, 9);
    let mut b = order_body(json!([{"sku": "SOCKS-3PK", "quantity": 1}]));
    b["promotionCodes"] = json!(["LAST10"]);
    s.place("late-buyer", &b).await?;
    let again =
        s.call("POST", "/v1/orders", Some(&s.token("late-buyer")), Some(&b), &[("Idempotency-Key", "k2")]).await?;
    assert_eq!(again.json()["type"], "urn:oms:problem:promotion-exhausted", "{}", again.text);
    assert_eq!(uses(&s, &admin).await?, 10);
    // An unknown code is refused naming the field.
    b["promotionCodes"] = json!(["NOPE"]);
    let r = s.call("POST", "/v1/orders", Some(&s.token("x")), Some(&b), &[("Idempotency-Key", "k3")]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (422, Some("promotionCodes")), "{}", r.text);
    Ok(())
}

#[tokio::test]
async fn a_bundle_discount_is_quoted_placed_and_a_partial_return_refunds_exactly_the_discounted_price()
-> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    put_promotion(
        &s,
        "mug-with-headphones",
        &json!({"name": "20% off the mug with headphones", "discount": {"type": "percent", "basisPoints": 2000},
            "target": {"type": "bundle", "requires": "HEADPHONES-X1", "discounted": "MUG-CLASSIC"}}),
    )
    .await?;
    let lines = json!([{"sku": "HEADPHONES-X1", "quantity": 1}, {"sku": "MUG-CLASSIC", "quantity": 1}]);
    let t = s.token("cust-b1");
    let q =
        s.call("POST", "/v1/quotes", Some(&t), Some(&json!({"lines": lines, "shippingAddress": nyc()})), &[]).await?;
    assert_eq!(q.status, 200, "{}", q.text);
    let q = q.json();
    // 20% of 12.50 off the mug, tax (8%) on the rest.
    assert_eq!(amount(&q["discount"]), 250, "{q}");
    assert_eq!(amount(&q["lines"][1]["discount"]), 250);
    assert_eq!(amount(&q["lines"][1]["tax"]), 80);

    let id = s.delivered_order("cust-b1", "bundle@example.com", lines.clone()).await?;
    let o = s.customer_order("cust-b1", &id).await?;
    assert_eq!(amount(&o["totals"]["discount"]), 250, "{o}");
    assert_eq!(o["promotions"][0]["promotionId"], "mug-with-headphones");
    assert_eq!(amount(&o["totals"]["tax"]), amount(&q["tax"]));
    let mug =
        o["lines"].as_array().and_then(|l| l.iter().find(|l| l["sku"] == "MUG-CLASSIC")).cloned().unwrap_or_default();
    let paid_for_mug = amount(&mug["subtotal"]) - amount(&mug["discount"]) + amount(&mug["tax"]);
    assert_eq!(paid_for_mug, 1000 + 80);

    let r = s
        .open_return("cust-b1", &id, &json!({"lines": [{"lineId": mug["lineId"], "quantity": 1, "reason": "no_longer_needed"}], "resolution": "refund"}))
        .await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let rma = r.json()["id"].as_str().unwrap_or_default().to_owned();
    let got =
        s.receive_return(&rma, json!([{"lineId": mug["lineId"], "quantity": 1, "condition": "resellable"}])).await?;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(amount(&got.json()["lines"][0]["refunded"]), paid_for_mug, "{}", got.text);
    Ok(())
}

#[tokio::test]
async fn an_agent_over_the_limit_waits_for_a_supervisor_and_the_customer_never_sees_the_reason() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    let id = s.place("cust-a1", &order_body(json!([{"sku": "TV-55", "quantity": 1}]))).await?;
    let before = s.order("cust-a1", &id).await?;
    let total = amount(&before["totals"]["total"]);
    let agent = s.scoped_token("agent-7", "oms/agent");
    let sup = s.scoped_token("sup-7", "oms/supervisor");
    let path = format!("/v1/admin/orders/{id}/adjustments");

    // Within the agent limit (10%): a preview writes nothing, then it applies at once.
    let five = json!({"discount": {"type": "percent", "basisPoints": 500}, "reason": "loyalty offer: 5% off", "preview": true});
    let r = s.call("POST", &path, Some(&agent), Some(&five), &[]).await?;
    assert_eq!((r.status, r.json()["outcome"].as_str()), (200, Some("preview")), "{}", r.text);
    assert_eq!(amount(&s.order("cust-a1", &id).await?["totals"]["total"]), total);
    let mut apply = five.clone();
    apply["preview"] = json!(false);
    let r = s.call("POST", &path, Some(&agent), Some(&apply), &[]).await?;
    assert_eq!((r.status, r.json()["outcome"].as_str()), (200, Some("applied")), "{}", r.text);
    let off = amount(&r.json()["adjustment"]["amount"]);
    assert_eq!(off, 2500);

    // Another 20% is over the agent's limit: it waits.
    let twenty = json!({"discount": {"type": "percent", "basisPoints": 2000}, "lineId": "L1", "reason": "TV arrived late last time"});
    let r = s.call("POST", &path, Some(&agent), Some(&twenty), &[]).await?;
    assert_eq!((r.status, r.json()["outcome"].as_str()), (202, Some("pending_approval")), "{}", r.text);
    let approval = r.json()["approval"]["id"].as_str().unwrap_or_default().to_owned();
    let pending = s.call("GET", "/v1/admin/approvals?status=pending", Some(&agent), None, &[]).await?.json();
    assert!(pending["items"].as_array().is_some_and(|a| a.iter().any(|x| x["id"] == approval.as_str())), "{pending}");
    // The agent cannot approve their own request; a supervisor can, once.
    let approve = format!("/v1/admin/approvals/{approval}/approve");
    assert_eq!(s.call("POST", &approve, Some(&agent), None, &[]).await?.status, 403);
    let note = json!({"note": "ok"});
    let (a, b) = tokio::join!(
        s.call("POST", &approve, Some(&sup), Some(&note), &[]),
        s.call("POST", &approve, Some(&sup), None, &[])
    );
    for r in [a?, b?] {
        assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("approved")), "{}", r.text);
    }
    let o = s.order("cust-a1", &id).await?;
    let adjustments = o["discounts"]["adjustments"].as_array().cloned().unwrap_or_default();
    assert_eq!(adjustments.len(), 2, "{o}");
    assert_eq!(adjustments[1]["approvedBy"], "sup-7");
    let second = amount(&adjustments[1]["amount"]);
    assert_eq!(second, (49999 - 2500) * 2000 / 10_000 + 1);
    let rejecting = s.call("POST", &format!("/v1/admin/approvals/{approval}/reject"), Some(&sup), None, &[]).await?;
    assert_eq!(rejecting.status, 409, "{}", rejecting.text);

    // The customer pays less and sees the discount, never the reasons or who gave it.
    let c = s.customer_order("cust-a1", &id).await?;
    assert_eq!(amount(&c["totals"]["discount"]), off + second);
    let text = c.to_string();
    assert!(!text.contains("TV arrived late") && !text.contains("agent-7") && !text.contains("adjustments"), "{c}");
    // The workflow charges the adjusted total.
    let ex = s.local.workflow.run(&id).await;
    assert!(ex.result.is_ok(), "{:?}", ex.result);
    let o = s.order("cust-a1", &id).await?;
    let t = &o["totals"];
    assert!(amount(&t["total"]) < total - off - second, "{o}");
    assert_eq!(
        amount(&t["total"]),
        amount(&t["subtotal"]) - amount(&t["discount"]) + amount(&t["shipping"]) + amount(&t["tax"])
    );
    Ok(())
}

/// What the red team found, fixed: an edit cannot stretch an agent's adjustment past the share
/// agreed, a fixed bundle amount stops at the paired units, concurrent writers cannot give two
/// promotions one code, quotes show what placement gives (used-up promotions, the order's own
/// promotions for an edit), and codes give the same price in any order.
#[tokio::test]
async fn red_team_findings_stay_fixed() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let agent = s.scoped_token("agent-rt", "oms/agent");
    let t = s.token("cust-rt");
    // 1. A $9.99 adjustment on five T-shirts; an edit down to socks keeps it at the same share.
    let id = s.place("cust-rt", &order_body(json!([{"sku": "TSHIRT-BLK-M", "quantity": 5}]))).await?;
    let adj =
        json!({"discount": {"type": "fixed", "amount": {"amount": 999, "currency": "USD"}}, "reason": "goodwill"});
    let r = s.call("POST", &format!("/v1/admin/orders/{id}/adjustments"), Some(&agent), Some(&adj), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = s.customer_order("cust-rt", &id).await?["version"].to_string();
    let edit = json!({"lines": [{"sku": "SOCKS-3PK", "quantity": 1}]});
    let r = s.call("PATCH", &format!("/v1/orders/{id}"), Some(&t), Some(&edit), &[("If-Match", &v)]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    // 999 of 9995 (10%) stays 10% of 999, rounded down.
    assert_eq!(amount(&r.json()["totals"]["discount"]), 99, "{}", r.text);

    // 2. A fixed bundle amount: one pair, at most one mug's price.
    put_promotion(&s, "bndl", &json!({"name": "x", "codes": ["BNDL1"], "discount": {"type": "fixed", "amount": {"amount": 3000, "currency": "USD"}},
        "target": {"type": "bundle", "requires": "TSHIRT-BLK-M", "discounted": "MUG-CLASSIC"}})).await?;
    let quote = |lines: Value, codes: Value| {
        let (s, t) = (&s, t.clone());
        async move {
            let body = json!({"lines": lines, "shippingAddress": nyc(), "promotionCodes": codes});
            s.call("POST", "/v1/quotes", Some(&t), Some(&body), &[]).await
        }
    };
    let q =
        quote(json!([{"sku": "TSHIRT-BLK-M", "quantity": 1}, {"sku": "MUG-CLASSIC", "quantity": 5}]), json!(["bndl1"]))
            .await?;
    assert_eq!(amount(&q.json()["discount"]), 1250, "{}", q.text);

    // 3. Eight supervisors give eight promotions one code at once: one gets it.
    let sup = s.scoped_token("sup-rt", "oms/supervisor");
    let puts = (0..8).map(|i| {
        let (s, sup) = (&s, sup.clone());
        async move {
            let body = json!({"name": "r", "codes": ["RACE1"], "discount": {"type": "percent", "basisPoints": 100}, "target": {"type": "order"}});
            s.call("PUT", &format!("/v1/admin/promotions/race{i}"), Some(&sup), Some(&body), &[]).await
        }
    });
    let statuses: Vec<u16> =
        futures::future::join_all(puts).await.into_iter().map(|r| r.map(|r| r.status).unwrap_or(0)).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 200 | 409)), "{statuses:?}");

    // 4. A used-up code is refused by the quote as by placement; a used-up automatic promotion
    // is not shown.
    put_promotion(
        &s,
        "zero",
        &json!({"name": "z", "codes": ["ZERO1"], "discount": {"type": "percent", "basisPoints": 1000},
        "target": {"type": "order"}, "usageLimit": 0}),
    )
    .await?;
    let q = quote(json!([{"sku": "SOCKS-3PK", "quantity": 1}]), json!(["ZERO1"])).await?;
    assert_eq!(q.json()["type"], "urn:oms:problem:promotion-exhausted", "{}", q.text);
    put_promotion(
        &s,
        "auto-none",
        &json!({"name": "a", "discount": {"type": "percent", "basisPoints": 1000},
        "target": {"type": "skus", "skus": ["DESK-LAMP"]}, "usageLimit": 0}),
    )
    .await?;
    let q = quote(json!([{"sku": "DESK-LAMP", "quantity": 1}]), json!([])).await?;
    assert!(q.json()["discount"].is_null(), "{}", q.text);

    // 5. A quote for an edit prices with the order's promotions and adjustments.
    let q = s
        .call(
            "POST",
            "/v1/quotes",
            Some(&t),
            Some(&json!({"lines": [{"sku": "SOCKS-3PK", "quantity": 3}], "shippingAddress": nyc(), "orderId": id})),
            &[],
        )
        .await?;
    assert_eq!(amount(&q.json()["discount"]), 299, "{}", q.text);

    // 6. The same codes in any order give the same price.
    for (pid, body) in [
        (
            "sa",
            json!({"name": "a", "codes": ["SA5"], "discount": {"type": "percent", "basisPoints": 500}, "target": {"type": "order"}, "stackable": true}),
        ),
        (
            "sc",
            json!({"name": "c", "codes": ["SC10"], "discount": {"type": "fixed", "amount": {"amount": 1000, "currency": "USD"}}, "target": {"type": "order"}, "stackable": true}),
        ),
    ] {
        put_promotion(&s, pid, &body).await?;
    }
    let a = quote(json!([{"sku": "HEADPHONES-X1", "quantity": 1}]), json!(["SA5", "SC10"])).await?.json();
    let b = quote(json!([{"sku": "HEADPHONES-X1", "quantity": 1}]), json!(["SC10", "SA5"])).await?.json();
    assert_eq!(a["discount"], b["discount"], "{a} {b}");
    Ok(())
}
