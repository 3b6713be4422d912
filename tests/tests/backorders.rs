//! Backorders, from outside: a SKU taken on backorder accepts requests without stock up to its
//! limit, even when many customers ask at once; a cancel frees its units; when stock comes the
//! waiting requests become orders in arrival order (the oldest first, never a later one ahead of
//! an earlier), each once however often allocation runs, and go on through the workflow.

use oms_tests::{Stack, nyc};
use serde_json::{Value, json};

fn request(sku: &str, qty: u32) -> Value {
    json!({"sku": sku, "quantity": qty, "shippingAddress": nyc(), "email": "bo@example.com",
        "paymentToken": "tok_visa", "channel": "web"})
}

#[tokio::test]
async fn backorders_stay_within_the_limit_and_become_orders_in_arrival_order() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let admin = s.admin_token();
    let product = json!({"name": "Console X", "price": {"amount": 49900, "currency": "USD"}, "weightGrams": 3000,
        "backorderLimit": 5});
    assert_eq!(s.call("PUT", "/v1/admin/products/CONSOLE-X", Some(&admin), Some(&product), &[]).await?.status, 200);
    let bad = json!({"name": "Console X", "price": {"amount": 49900, "currency": "USD"}, "weightGrams": 3000, "backorderLimit": 0});
    let r = s.call("PUT", "/v1/admin/products/CONSOLE-Y", Some(&admin), Some(&bad), &[]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("backorderLimit")), "{}", r.text);

    // Refused with nothing written: a SKU not on backorder, bad input, no sign-in.
    for (body, status, field) in [
        (request("MUG-CLASSIC", 1), 422, "sku"),
        (request("CONSOLE-X", 0), 400, "quantity"),
        (
            json!({"sku": "CONSOLE-X", "quantity": 1, "shippingAddress": nyc(), "email": "nope", "paymentToken": "tok_visa", "channel": "web"}),
            400,
            "email",
        ),
        (
            json!({"sku": "CONSOLE-X", "quantity": 1, "shippingAddress": nyc(), "email": "a@b.co", "paymentToken": "tok_visa", "channel": "marketplace"}),
            400,
            "channel",
        ),
    ] {
        let r = s.call("POST", "/v1/backorders", Some(&s.token("bo-x")), Some(&body), &[]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (status, Some(field)), "{body}: {}", r.text);
    }
    assert_eq!(s.call("POST", "/v1/backorders", None, Some(&request("CONSOLE-X", 1)), &[]).await?.status, 401);

    // Eight customers at once for five units: exactly five are accepted.
    let stack = &s;
    let calls = (0..8).map(|i| async move {
        let t = stack.token(&format!("bo-{i}"));
        (i, stack.call("POST", "/v1/backorders", Some(&t), Some(&request("CONSOLE-X", 1)), &[]).await)
    });
    let mut accepted: Vec<(usize, String)> = Vec::new();
    for (i, r) in futures::future::join_all(calls).await {
        let r = r?;
        match r.status {
            201 => {
                assert_eq!(r.json()["status"], "waiting", "{}", r.text);
                accepted.push((i, r.json()["backorderId"].as_str().unwrap_or_default().to_owned()));
            }
            422 => assert!(r.text.contains("backorder-full"), "{}", r.text),
            other => anyhow::bail!("{other}: {}", r.text),
        }
    }
    assert_eq!(accepted.len(), 5, "exactly the limit");
    let q = s.call("GET", "/v1/admin/backorders/CONSOLE-X", Some(&admin), None, &[]).await?.json();
    assert_eq!(q["waitingUnits"], 5, "{q}");
    // Arrival order is the ids' order; each sees the units ahead of it; a stranger sees nothing.
    accepted.sort_by(|a, b| a.1.cmp(&b.1));
    for (n, (i, id)) in accepted.iter().enumerate() {
        let r = s
            .call("GET", &format!("/v1/backorders/CONSOLE-X/{id}"), Some(&s.token(&format!("bo-{i}"))), None, &[])
            .await?;
        assert_eq!(r.json()["unitsAhead"], n, "{}", r.text);
    }
    let (i0, id0) = accepted[0].clone();
    assert_eq!(
        s.call("GET", &format!("/v1/backorders/CONSOLE-X/{id0}"), Some(&s.token("stranger")), None, &[]).await?.status,
        404
    );
    // The second in line cancels: its unit is free for someone else, at the end of the line.
    let (i1, id1) = accepted[1].clone();
    let r = s
        .call("POST", &format!("/v1/backorders/CONSOLE-X/{id1}/cancel"), Some(&s.token(&format!("bo-{i1}"))), None, &[])
        .await?;
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("cancelled")), "{}", r.text);
    let r = s.call("POST", "/v1/backorders", Some(&s.token("bo-late")), Some(&request("CONSOLE-X", 1)), &[]).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let late = r.json()["backorderId"].as_str().unwrap_or_default().to_owned();
    let line: Vec<(String, String)> = accepted
        .iter()
        .filter(|(_, id)| *id != id1)
        .map(|(i, id)| (format!("bo-{i}"), id.clone()))
        .chain([("bo-late".to_owned(), late)])
        .collect();

    // Two units come: the two oldest waiting become orders, nobody else.
    let r = s.call("PUT", "/v1/admin/stock/CONSOLE-X/WH-NJ", Some(&admin), Some(&json!({"onHand": 2})), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let status = |who: &str, id: &str| {
        let (who, id, s) = (who.to_owned(), id.to_owned(), &s);
        async move {
            anyhow::Ok(
                s.call("GET", &format!("/v1/backorders/CONSOLE-X/{id}"), Some(&s.token(&who)), None, &[]).await?.json(),
            )
        }
    };
    for (n, (who, id)) in line.iter().enumerate() {
        let b = status(who, id).await?;
        assert_eq!(b["status"], if n < 2 { "placed" } else { "waiting" }, "{n}: {b}");
    }
    // Allocation again (a retry, or the WMS's trigger) places nothing twice.
    let r = s.call("POST", "/v1/admin/backorders/CONSOLE-X/allocate", Some(&admin), None, &[]).await?;
    assert_eq!((r.status, r.json()["placed"].as_array().map(Vec::len)), (200, Some(0)), "{}", r.text);
    let first = status(&line[0].0, &line[0].1).await?;
    let order = first["orderId"].as_str().unwrap_or_default().to_owned();
    let o = s.wait_for_status(&line[0].0, &order, "ready_to_ship").await?;
    assert_eq!(o["lines"][0]["sku"], "CONSOLE-X");
    assert_eq!(
        s.call("GET", "/v1/orders", Some(&s.token(&line[0].0)), None, &[]).await?.json()["orders"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // A placed request is cancelled as an order, not here.
    let r = s
        .call("POST", &format!("/v1/backorders/CONSOLE-X/{}/cancel", line[0].1), Some(&s.token(&line[0].0)), None, &[])
        .await?;
    assert_eq!(r.status, 409, "{}", r.text);

    // The rest come in an adjustment: every one waiting is placed, in order.
    let adj = json!({"delta": 10, "reason": "received"});
    let r = s.call("POST", "/v1/admin/stock/CONSOLE-X/WH-NJ/adjustments", Some(&admin), Some(&adj), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut orders = Vec::new();
    for (who, id) in &line {
        let b = status(who, id).await?;
        assert_eq!(b["status"], "placed", "{b}");
        orders.push(b["orderId"].as_str().unwrap_or_default().to_owned());
    }
    let mut sorted = orders.clone();
    sorted.sort();
    assert_eq!(orders, sorted, "orders were placed in the requests' arrival order");
    let q = s.call("GET", "/v1/admin/backorders/CONSOLE-X", Some(&admin), None, &[]).await?.json();
    assert_eq!(q["waitingUnits"], 0, "{q}");
    let _ = i0;
    Ok(())
}

#[tokio::test]
async fn a_cancel_racing_the_stock_never_leaves_a_live_order_behind_a_cancelled_request() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let admin = s.admin_token();
    let product =
        json!({"name": "Race", "price": {"amount": 1000, "currency": "USD"}, "weightGrams": 500, "backorderLimit": 20});
    assert_eq!(s.call("PUT", "/v1/admin/products/BO-RACE", Some(&admin), Some(&product), &[]).await?.status, 200);
    let mut ids = Vec::new();
    for i in 0..6 {
        let r = s
            .call("POST", "/v1/backorders", Some(&s.token(&format!("race-{i}"))), Some(&request("BO-RACE", 1)), &[])
            .await?;
        assert_eq!(r.status, 201, "{}", r.text);
        ids.push(r.json()["backorderId"].as_str().unwrap_or_default().to_owned());
    }
    // Stock comes while every customer cancels and allocation runs twice more.
    let stack = &s;
    let put = async {
        stack.call("PUT", "/v1/admin/stock/BO-RACE/WH-NJ", Some(&admin), Some(&json!({"onHand": 10})), &[]).await
    };
    let admin_ref = &admin;
    let alloc =
        || async move { stack.call("POST", "/v1/admin/backorders/BO-RACE/allocate", Some(admin_ref), None, &[]).await };
    let cancels = futures::future::join_all(ids.iter().enumerate().map(|(i, id)| async move {
        let t = stack.token(&format!("race-{i}"));
        stack.call("POST", &format!("/v1/backorders/BO-RACE/{id}/cancel"), Some(&t), None, &[]).await
    }));
    let (p, a, b, c) = tokio::join!(put, alloc(), alloc(), cancels);
    assert_eq!(p?.status, 200);
    assert_eq!(a?.status, 200);
    assert_eq!(b?.status, 200);
    for (i, r) in c.into_iter().enumerate() {
        let r = r?;
        assert!(matches!(r.status, 200 | 409), "{}", r.text);
        let b = s
            .call("GET", &format!("/v1/backorders/BO-RACE/{}", ids[i]), Some(&s.token(&format!("race-{i}"))), None, &[])
            .await?
            .json();
        let orders = s.call("GET", "/v1/orders", Some(&s.token(&format!("race-{i}"))), None, &[]).await?.json();
        let n = orders["orders"].as_array().map(Vec::len).unwrap_or(0);
        match (r.status, b["status"].as_str()) {
            (200, Some("cancelled")) => assert_eq!(n, 0, "a cancelled request has no order: {b}"),
            (409, Some("placed")) => assert_eq!(n, 1, "{b}"),
            other => anyhow::bail!("cancel {other:?}: {b}"),
        }
    }
    let q = s.call("GET", "/v1/admin/backorders/BO-RACE", Some(&admin), None, &[]).await?.json();
    assert_eq!(q["waitingUnits"], 0, "{q}");
    Ok(())
}
