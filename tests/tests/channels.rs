//! Channels: a customer places web and app orders only; call-centre and store orders are placed
//! by staff for a customer (the agent recorded, the customer's order, mail and idempotency),
//! paying with a saved token or from a mailed payment link.

use oms_tests::{Stack, order_body};
use serde_json::{Value, json};

#[tokio::test]
async fn customers_place_web_and_app_orders_and_agents_place_call_centre_orders_for_them() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let customer = s.token("cust-ch");
    for channel in ["call_center", "store", "marketplace"] {
        let mut body = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
        body["channel"] = json!(channel);
        let r = s.call("POST", "/v1/orders", Some(&customer), Some(&body), &[("Idempotency-Key", channel)]).await?;
        assert_eq!(r.status, 400, "{channel}: {}", r.text);
        assert_eq!(r.json()["field"], "channel");
    }
    let mut app = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
    app["channel"] = json!("app");
    s.place("cust-ch", &app).await?;

    // An agent places a call-centre order for the customer (channel defaults to call_center).
    let agent = s.scoped_token("agent-ch", "oms/agent");
    let mut staff = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 2}]));
    staff.as_object_mut().map(|o| o.remove("channel"));
    staff["customerId"] = json!("cust-ch");
    staff["email"] = json!("cust-ch@example.com");
    let key = [("Idempotency-Key", "cc-1")];
    let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &key).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["orderId"].as_str().unwrap_or_default().to_owned();
    let again = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &key).await?;
    assert_eq!((again.status, again.json()["orderId"].as_str()), (201, Some(id.as_str())), "a retry is the same order");
    // The customer's order: they read it, it is in their list; the agent is on its timeline.
    let mine = s.call("GET", &format!("/v1/orders/{id}"), Some(&customer), None, &[]).await?;
    assert_eq!(mine.status, 200, "{}", mine.text);
    let o = s.order("cust-ch", &id).await?;
    assert_eq!(o["channel"], "call_center");
    let placed = o["timeline"].as_array().into_iter().flatten().find(|e| e["kind"] == "order.placed").cloned();
    assert_eq!(placed.map(|e| e["actor"].clone()), Some(json!({"type": "agent", "id": "agent-ch"})), "{o}");
    // Store orders too; web, app and marketplace are not staff's to place.
    staff["channel"] = json!("store");
    let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &[("Idempotency-Key", "st-1")]).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    for channel in ["web", "app", "marketplace"] {
        staff["channel"] = json!(channel);
        let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &[("Idempotency-Key", channel)]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("channel")), "{channel}: {}", r.text);
    }
    // Who may: agents and supervisors; not warehouse, integration or the customer; the
    // customer must be named.
    staff["channel"] = json!("call_center");
    for (token, status) in [
        (s.scoped_token("wh", "oms/warehouse"), 403),
        (s.scoped_token("int", "oms/integration"), 403),
        (customer.clone(), 403),
    ] {
        let r = s.call("POST", "/v1/admin/orders", Some(&token), Some(&staff), &[("Idempotency-Key", "x-1")]).await?;
        assert_eq!(r.status, status, "{}", r.text);
    }
    for bad in [json!(null), json!(" "), json!("  cust-ch"), json!("cust-ch "), json!("\u{200b}x"), json!(42)] {
        staff["customerId"] = bad.clone();
        let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &[("Idempotency-Key", "x-2")]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("customerId")), "{bad}: {}", r.text);
    }
    staff.as_object_mut().map(|o| o.remove("customerId"));
    let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &[("Idempotency-Key", "x-2")]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("customerId")), "{}", r.text);
    let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&json!([])), &[("Idempotency-Key", "x-3")]).await?;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("expected an object"), "{}", r.text);
    Ok(())
}

#[tokio::test]
async fn a_call_centre_order_paid_from_the_mailed_link_ships_and_a_forged_link_does_nothing() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let agent = s.scoped_token("agent-link", "oms/agent");
    let email = format!("link-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    let mut body = order_body(json!([{"sku": "DESK-LAMP", "quantity": 1}]));
    body.as_object_mut().map(|o| o.remove("paymentToken"));
    body["channel"] = json!("call_center");
    body["customerId"] = json!("cust-link");
    body["email"] = json!(email);
    // A token and a link, or neither: refused, naming the field; nothing placed.
    let mut both = body.clone();
    both["paymentToken"] = json!("tok_visa");
    both["paymentLink"] = json!(true);
    let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&both), &[("Idempotency-Key", "l-0")]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("paymentLink")), "{}", r.text);
    let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&body), &[("Idempotency-Key", "l-0")]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("paymentToken")), "{}", r.text);
    // A customer cannot skip paying by asking for a link.
    let mut own = order_body(json!([{"sku": "DESK-LAMP", "quantity": 1}]));
    own["paymentLink"] = json!(true);
    let r =
        s.call("POST", "/v1/orders", Some(&s.token("cust-link")), Some(&own), &[("Idempotency-Key", "l-1")]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("paymentLink")), "{}", r.text);
    own["paymentLink"] = json!(false);
    let r =
        s.call("POST", "/v1/orders", Some(&s.token("cust-link")), Some(&own), &[("Idempotency-Key", "l-1b")]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("paymentLink")), "not a customer field: {}", r.text);

    let before = s.available("DESK-LAMP", "WH-TX").await?;
    body["paymentLink"] = json!(true);
    let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&body), &[("Idempotency-Key", "l-2")]).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["orderId"].as_str().unwrap_or_default().to_owned();
    // The order waits for the payment with its unit held; the customer is mailed the link.
    let o = s.wait_for_status("cust-link", &id, "payment_required").await?;
    assert_eq!(o["payment"]["recovery"]["reason"], "payment_link", "{o}");
    assert_eq!(s.available("DESK-LAMP", "WH-TX").await?.0, before.0 - 1, "the unit is held for the order");
    let link = s.signed_link(&email, "Pay for your order").await?;
    assert!(link.starts_with(&format!("/v1/signed/orders/{id}/payment?")), "{link}");
    let mine = s.customer_order("cust-link", &id).await?;
    assert!(mine["paymentDueBy"].is_string(), "{mine}");

    let page = s.http.get(s.url(&link)).send().await?;
    assert_eq!(page.status(), 200);
    let html = page.text().await?;
    assert!(html.contains("name=\"paymentToken\"") && html.contains(&id), "{html}");
    // A forged or altered link reads and changes nothing; a bad form is refused.
    let forged = link.replace("signature=", "signature=00");
    assert_eq!(s.http.get(s.url(&forged)).send().await?.status(), 404);
    assert_eq!(s.post_form(&forged, "paymentToken=tok_visa").await?.0, 404);
    for (form, field) in [("", "paymentToken"), ("paymentToken=tok+visa", "paymentToken"), ("x=1", "")] {
        let (status, ct, text) = s.post_form(&link, form).await?;
        assert_eq!((status, ct.as_str()), (400, "application/problem+json"), "{form}: {text}");
        assert!(text.contains(field), "{form}: {text}");
    }
    assert_eq!(s.order("cust-link", &id).await?["status"], "payment_required", "nothing changed");
    // Held by an agent: the page does not claim the order is paid.
    let admin = s.admin_token();
    let hold = json!({"reason": "check"});
    let r = s.call("POST", &format!("/v1/admin/orders/{id}/hold"), Some(&admin), Some(&hold), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let html = s.http.get(s.url(&link)).send().await?.text().await?;
    assert!(html.contains("being reviewed") && !html.contains("We have the payment"), "{html}");
    let r = s.call("POST", &format!("/v1/admin/orders/{id}/release-hold"), Some(&admin), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    s.wait_for_status("cust-link", &id, "payment_required").await?;

    // The customer pays from the link: authorized (its own key), labelled, ready to ship.
    let (status, _, text) = s.post_form(&link, "paymentToken=tok_visa").await?;
    assert_eq!(status, 200, "{text}");
    let (status, _, _) = s.post_form(&link, "paymentToken=tok_visa").await?;
    assert_eq!(status, 200, "a double submit answers the same");
    let ready = s.wait_for_status("cust-link", &id, "ready_to_ship").await?;
    assert_eq!(ready["payment"]["authorized"]["amount"], ready["totals"]["total"]["amount"], "{ready}");
    let html = s.http.get(s.url(&link)).send().await?.text().await?;
    assert!(html.contains("We have the payment"), "{html}");
    // The agent's timeline: placed by the agent, payment requested, then authorized.
    let kinds: Vec<String> = ready["timeline"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["kind"].as_str().map(str::to_owned))
        .collect();
    for k in ["order.placed", "order.payment_requested", "payment.method_updated", "payment.authorized"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    Ok(())
}

fn import_body(reference: &str, sku: &str) -> serde_json::Value {
    let mut b = order_body(json!([{"sku": sku, "quantity": 1}]));
    for k in ["paymentToken", "channel"] {
        b.as_object_mut().map(|o| o.remove(k));
    }
    b["marketplace"] = json!("amazon");
    b["marketplaceOrderId"] = json!(reference);
    b["customerId"] = json!("cust-mkt");
    b["paymentReference"] = json!(format!("settle-{reference}"));
    b["marketplaceFee"] = json!({"amount": 450, "currency": "USD"});
    b
}

#[tokio::test]
async fn a_marketplace_order_imported_twice_or_concurrently_is_one_paid_order_that_ships() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let connector = s.scoped_token("conn-amazon", "oms/integration");
    let reference = format!("114-{}", ulid::Ulid::new());
    let body = import_body(&reference, "DESK-LAMP");
    let before = s.available("DESK-LAMP", "WH-TX").await?;
    // The connector's call, repeated concurrently (a retry storm) and again with a refreshed
    // field: one order, one unit held.
    let calls = (0..4).map(|_| s.call("POST", "/v1/admin/orders/import", Some(&connector), Some(&body), &[]));
    let replies = futures::future::join_all(calls).await;
    let mut ids = std::collections::BTreeSet::new();
    for r in replies {
        let r = r?;
        assert_eq!(r.status, 201, "{}", r.text);
        ids.insert(r.json()["orderId"].as_str().unwrap_or_default().to_owned());
    }
    let mut refreshed = body.clone();
    refreshed["email"] = json!("changed@example.com");
    let r = s.call("POST", "/v1/admin/orders/import", Some(&connector), Some(&refreshed), &[]).await?;
    ids.insert(r.json()["orderId"].as_str().unwrap_or_default().to_owned());
    assert_eq!(ids.len(), 1, "one order: {ids:?}");
    let id = ids.into_iter().next().unwrap_or_default();
    assert_eq!(s.available("DESK-LAMP", "WH-TX").await?.0, before.0 - 1, "one unit held");

    // Paid on the marketplace: nothing authorized with the provider; the order goes on to
    // ready_to_ship and ships, the capture recorded for the connector to settle.
    let ready = s.wait_for_status("cust-mkt", &id, "ready_to_ship").await?;
    assert_eq!(ready["channel"], "marketplace");
    let auth = ready["payment"]["authorizationId"].as_str().unwrap_or_default();
    assert_eq!(auth, format!("mkt_amazon_settle-{reference}"), "{ready}");
    let placed = ready["timeline"].as_array().into_iter().flatten().find(|e| e["kind"] == "order.placed").cloned();
    assert_eq!(placed.map(|e| e["actor"]["type"].clone()), Some(json!("system")), "{ready}");
    let tracking = ready["shipments"][0]["trackingNumber"].as_str().unwrap_or_default().to_owned();
    let r = s.carrier_event(&format!("evt-{id}"), &tracking, "in_transit").await?;
    assert!(r.status < 300, "{}", r.text);
    let shipped = s.wait_for_status("cust-mkt", &id, "shipped").await?;
    assert_eq!(shipped["payment"]["captured"]["amount"], shipped["totals"]["total"]["amount"], "{shipped}");
    // The marketplace took the money for what was bought there: the buyer cannot change it here.
    let v = s.order("cust-mkt", &id).await?["version"].as_u64().unwrap_or(0).to_string();
    let edit = json!({"lines": [{"sku": "DESK-LAMP", "quantity": 1}, {"sku": "TV-55", "quantity": 1}]});
    let r = s
        .call("PATCH", &format!("/v1/orders/{id}"), Some(&s.token("cust-mkt")), Some(&edit), &[("If-Match", &v)])
        .await?;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.json()["type"].as_str().is_some_and(|t| t.ends_with("marketplace-order")), "{}", r.text);
    // The buyer reads their order; the fee and the settlement reference are not theirs.
    let mine = s.customer_order("cust-mkt", &id).await?;
    assert_eq!(mine["channel"], "marketplace");
    // (The fee is looked for as a money amount and a field name, not as digits anywhere: a
    // timestamp's nanoseconds once held "450".)
    assert!(!mine.to_string().contains("settle-") && !mine.to_string().contains("marketplaceFee"), "{mine}");
    assert!(!amounts(&mine).contains(&450), "the marketplace fee reached the buyer: {mine}");

    // An import cancelled before it ships: the void is recorded, the unit back on the shelf.
    let other = import_body(&format!("{reference}-2"), "DESK-LAMP");
    let r = s.call("POST", "/v1/admin/orders/import", Some(&connector), Some(&other), &[]).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let id2 = r.json()["orderId"].as_str().unwrap_or_default().to_owned();
    s.wait_for_status("cust-mkt", &id2, "ready_to_ship").await?;
    let low = s.available("DESK-LAMP", "WH-TX").await?.0;
    let agent = s.scoped_token("agent-mkt", "oms/agent");
    let r = s
        .call(
            "POST",
            &format!("/v1/admin/orders/{id2}/cancel"),
            Some(&agent),
            Some(&json!({"reason": "buyer cancelled"})),
            &[],
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.text);
    s.wait_for_status("cust-mkt", &id2, "cancelled").await?;
    s.eventually("the unit released", || async { Ok(s.available("DESK-LAMP", "WH-TX").await?.0 == low + 1) }).await?;
    Ok(())
}

#[tokio::test]
async fn only_connectors_import_and_a_bad_import_names_its_field_and_writes_nothing() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let body = import_body("114-FORBIDDEN", "MUG-CLASSIC");
    for token in [s.token("cust-mkt"), s.scoped_token("agent-x", "oms/agent"), s.scoped_token("wh-x", "oms/warehouse")]
    {
        let r = s.call("POST", "/v1/admin/orders/import", Some(&token), Some(&body), &[]).await?;
        assert_eq!(r.status, 403, "{}", r.text);
    }
    let connector = s.scoped_token("conn-x", "oms/integration");
    let bad = |k: &str, v: serde_json::Value| {
        let mut b = import_body("114-BAD", "MUG-CLASSIC");
        if v.is_null() {
            b.as_object_mut().map(|o| o.remove(k));
        } else {
            b[k] = v;
        }
        b
    };
    for (b, field) in [
        (bad("marketplace", json!("Amazon")), "marketplace"),
        (bad("marketplace", json!("")), "marketplace"),
        (bad("marketplaceOrderId", json!("114 1")), "marketplaceOrderId"),
        (bad("marketplaceOrderId", json!("a#b")), "marketplaceOrderId"),
        (bad("paymentReference", serde_json::Value::Null), "paymentReference"),
        (bad("customerId", json!("")), "customerId"),
        (bad("marketplaceFee", json!({"amount": -1, "currency": "USD"})), "marketplaceFee"),
        (bad("marketplaceFee", json!({"amount": 1_000_000_000_001_i64, "currency": "USD"})), "marketplaceFee.amount"),
        (bad("paymentToken", json!("tok_visa")), "paymentToken"),
        (bad("channel", json!("web")), "channel"),
    ] {
        let r = s.call("POST", "/v1/admin/orders/import", Some(&connector), Some(&b), &[]).await?;
        assert_eq!(r.status, 400, "{field}: {}", r.text);
        assert_eq!(r.content_type(), "application/problem+json");
        assert!(r.text.contains(field), "{field}: {}", r.text);
    }
    // Valid by the contract, refused by the order: 422 naming the field.
    for (b, field) in [
        (bad("marketplaceFee", json!({"amount": 100, "currency": "EUR"})), "marketplaceFee.currency"),
        (bad("marketplaceFee", json!({"amount": 999_999, "currency": "USD"})), "marketplaceFee.amount"),
    ] {
        let r = s.call("POST", "/v1/admin/orders/import", Some(&connector), Some(&b), &[]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (422, Some(field)), "{}", r.text);
    }
    let r = s.call("GET", "/v1/orders", Some(&s.token("cust-mkt")), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["orders"].as_array().map(Vec::len), Some(0), "nothing imported: {}", r.text);
    Ok(())
}

#[tokio::test]
async fn a_store_take_away_is_paid_at_the_till_and_handed_over_without_a_shipment() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let clerk = s.scoped_token("clerk-nyc", "oms/agent");
    let email = format!("till-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    let mut body = order_body(json!([{"sku": "HEADPHONES-X1", "quantity": 1}]));
    body.as_object_mut().map(|o| o.remove("serviceLevel"));
    body["deliveryOptionId"] = json!("pickup-STORE-NYC");
    body["channel"] = json!("store");
    body["customerId"] = json!("cust-till");
    body["email"] = json!(email);
    body["takeAway"] = json!(true);
    // Take-away is the till's: not a customer's, not a call-centre order, not without the
    // store's pickup option.
    let mut own = order_body(json!([{"sku": "HEADPHONES-X1", "quantity": 1}]));
    own["takeAway"] = json!(true);
    let r =
        s.call("POST", "/v1/orders", Some(&s.token("cust-till")), Some(&own), &[("Idempotency-Key", "t-0")]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("takeAway")), "{}", r.text);
    let mut phone = body.clone();
    phone["channel"] = json!("call_center");
    let r = s.call("POST", "/v1/admin/orders", Some(&clerk), Some(&phone), &[("Idempotency-Key", "t-1")]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("takeAway")), "{}", r.text);
    let mut by_level = body.clone();
    by_level.as_object_mut().map(|o| o.remove("deliveryOptionId"));
    by_level["serviceLevel"] = json!("pickup");
    let r = s.call("POST", "/v1/admin/orders", Some(&clerk), Some(&by_level), &[("Idempotency-Key", "t-4")]).await?;
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("takeAway")),
        "the till's store is named: {}",
        r.text
    );
    let mut shipped = body.clone();
    shipped.as_object_mut().map(|o| o.remove("deliveryOptionId"));
    let r = s.call("POST", "/v1/admin/orders", Some(&clerk), Some(&shipped), &[("Idempotency-Key", "t-2")]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("takeAway")), "{}", r.text);

    let before = s.available("HEADPHONES-X1", "STORE-NYC").await?;
    let r = s.call("POST", "/v1/admin/orders", Some(&clerk), Some(&body), &[("Idempotency-Key", "t-3")]).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["orderId"].as_str().unwrap_or_default().to_owned();
    let o = s.wait_for_status("cust-till", &id, "delivered").await?;
    assert_eq!(o["channel"], "store");
    assert_eq!(o["payment"]["captured"]["amount"], o["totals"]["total"]["amount"], "paid at the till: {o}");
    assert!(o["shipments"].as_array().into_iter().flatten().all(|sh| sh["trackingNumber"].is_null()), "no parcel: {o}");
    let after = s.available("HEADPHONES-X1", "STORE-NYC").await?;
    assert_eq!(after.0, before.0 - 1, "the unit left the store's stock: {before:?} -> {after:?}");
    // The customer gets the receipt, never a "ready for pickup" mail with a code.
    s.eventually("the receipt mail", || async { Ok(!s.mail_to(&email).await?.is_empty()) }).await?;
    s.settle_effects().await?;
    let subjects = s.mail_to(&email).await?;
    assert!(!subjects.iter().any(|m| m.to_lowercase().contains("ready for pickup")), "{subjects:?}");
    Ok(())
}

/// Every `amount` of a money object anywhere in `v`.
fn amounts(v: &Value) -> Vec<i64> {
    match v {
        Value::Object(m) => {
            let own = m.get("amount").and_then(Value::as_i64).filter(|_| m.contains_key("currency"));
            own.into_iter().chain(m.values().flat_map(amounts)).collect()
        }
        Value::Array(a) => a.iter().flat_map(amounts).collect(),
        _ => Vec::new(),
    }
}
