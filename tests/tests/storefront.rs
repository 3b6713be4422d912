//! The storefront API end to end on DynamoDB Local, through the API Gateway emulation.

use futures::future::join_all;
use oms_tests::{Stack, nyc};
use serde_json::{Value, json};

/// (method, path, body, headers) of one call in a route matrix.
type Call<'a> = (&'a str, String, Option<Value>, Vec<(&'a str, &'a str)>);
/// (case name, body, headers, expected status).
type Case<'a> = (&'a str, Value, Vec<(&'a str, &'a str)>, u16);

fn order_body(lines: Value) -> Value {
    json!({
        "lines": lines,
        "shippingAddress": nyc(),
        "email": "ann@example.com",
        "serviceLevel": "standard",
        "paymentToken": "tok_visa",
        "channel": "web"
    })
}

#[tokio::test]
async fn journey_cart_quote_place_get_list_edit_cancel_returns_stock() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let t = s.token("cust-1");
    let before_mug = s.available("MUG-CLASSIC", "WH-NJ").await?;
    let before_socks = s.available("SOCKS-3PK", "WH-NJ").await?;

    let cart = s.call("POST", "/v1/carts", Some(&t), Some(&json!({"email": "ann@example.com"})), &[]).await?;
    assert_eq!(cart.status, 201, "{}", cart.text);
    let cart_id = cart.json()["cartId"].as_str().unwrap().to_owned();
    let put = s
        .call("PUT", &format!("/v1/carts/{cart_id}/items/MUG-CLASSIC"), Some(&t), Some(&json!({"quantity": 2})), &[])
        .await?;
    assert_eq!(put.status, 200, "{}", put.text);
    // The same customer on another device sees the same cart.
    let other_device = s.token("cust-1");
    let got = s.call("GET", &format!("/v1/carts/{cart_id}"), Some(&other_device), None, &[]).await?;
    assert_eq!(got.json()["items"][0]["quantity"], 2);

    let quote = s
        .call("POST", "/v1/quotes", Some(&t), Some(&json!({"cartId": cart_id, "shippingAddress": nyc()})), &[])
        .await?;
    assert_eq!(quote.status, 200, "{}", quote.text);
    let options = quote.json()["options"].as_array().unwrap().clone();
    assert!(options.iter().any(|o| o["serviceLevel"] == "standard" && o["locations"] == json!(["WH-NJ"])));
    assert!(options.iter().any(|o| o["serviceLevel"] == "overnight"));

    let mut body = order_body(Value::Null);
    body.as_object_mut().unwrap().remove("lines");
    body["cartId"] = json!(cart_id);
    let placed = s.call("POST", "/v1/orders", Some(&t), Some(&body), &[("Idempotency-Key", "journey-1")]).await?;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let order = placed.json();
    assert_eq!(order["status"], "placed");
    assert_eq!(order["totals"]["subtotal"]["amount"], 2500);
    assert_eq!(order["totals"]["total"]["amount"], 2500 + 200 + 599);
    let id = order["orderId"].as_str().unwrap().to_owned();
    assert_eq!(s.available("MUG-CLASSIC", "WH-NJ").await?, (before_mug.0 - 2, before_mug.1 + 2, 0));
    // The cart is now converted and cannot be ordered twice.
    let again = s.call("POST", "/v1/orders", Some(&t), Some(&body), &[("Idempotency-Key", "journey-2")]).await?;
    assert_eq!(again.status, 409, "{}", again.text);

    let get = s.call("GET", &format!("/v1/orders/{id}"), Some(&t), None, &[]).await?;
    assert_eq!(get.status, 200);
    assert_eq!(get.headers.get("etag").unwrap(), "\"v1\"");
    assert_eq!(get.json()["timeline"][0]["kind"], "order.placed");
    let list = s.call("GET", "/v1/orders?limit=10", Some(&t), None, &[]).await?;
    assert_eq!(list.json()["orders"][0]["orderId"], id);

    // Edit: swap the mugs for socks, with the ETag.
    let stale = s
        .call(
            "PATCH",
            &format!("/v1/orders/{id}"),
            Some(&t),
            Some(&json!({"lines": [{"sku": "SOCKS-3PK", "quantity": 3}]})),
            &[("If-Match", "\"v7\"")],
        )
        .await?;
    assert_eq!(stale.status, 412, "{}", stale.text);
    let no_version = s
        .call(
            "PATCH",
            &format!("/v1/orders/{id}"),
            Some(&t),
            Some(&json!({"lines": [{"sku": "SOCKS-3PK", "quantity": 3}]})),
            &[],
        )
        .await?;
    assert_eq!(no_version.status, 428, "{}", no_version.text);
    let edited = s
        .call(
            "PATCH",
            &format!("/v1/orders/{id}"),
            Some(&t),
            Some(&json!({"lines": [{"sku": "SOCKS-3PK", "quantity": 3}]})),
            &[("If-Match", "\"v1\"")],
        )
        .await?;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(edited.json()["version"], 2);
    assert_eq!(edited.json()["totals"]["subtotal"]["amount"], 2997);
    assert_eq!(s.available("MUG-CLASSIC", "WH-NJ").await?, before_mug);
    assert_eq!(s.available("SOCKS-3PK", "WH-NJ").await?, (before_socks.0 - 3, before_socks.1 + 3, 0));

    let too_long = s
        .call("POST", &format!("/v1/orders/{id}/cancel"), Some(&t), Some(&json!({"reason": "x".repeat(501)})), &[])
        .await?;
    assert_eq!(too_long.status, 400, "a reason over 500 characters is refused, not cut: {}", too_long.text);
    assert_eq!(too_long.json()["field"], "reason");
    assert_ne!(s.order("cust-1", &id).await?["status"], "cancelled", "and nothing changed");
    let cancelled = s
        .call("POST", &format!("/v1/orders/{id}/cancel"), Some(&t), Some(&json!({"reason": "changed my mind"})), &[])
        .await?;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.json()["status"], "cancelled");
    let twice = s.call("POST", &format!("/v1/orders/{id}/cancel"), Some(&t), None, &[]).await?;
    assert_eq!(twice.status, 200, "cancel is idempotent: {}", twice.text);
    assert_eq!(s.available("MUG-CLASSIC", "WH-NJ").await?, before_mug);
    assert_eq!(s.available("SOCKS-3PK", "WH-NJ").await?, before_socks);
    let edit_after = s
        .call(
            "PATCH",
            &format!("/v1/orders/{id}"),
            Some(&t),
            Some(&json!({"lines": [{"sku": "SOCKS-3PK", "quantity": 1}]})),
            &[("If-Match", "\"v3\"")],
        )
        .await?;
    assert_eq!(edit_after.status, 409, "{}", edit_after.text);
    Ok(())
}

#[tokio::test]
async fn hundred_concurrent_posts_with_one_key_make_one_order_and_identical_responses() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let t = s.token("cust-dup");
    let body = order_body(json!([{"sku": "TSHIRT-BLK-M", "quantity": 1}]));
    let before = s.total_available("TSHIRT-BLK-M").await?;
    let replies = join_all(
        (0..100).map(|_| s.call("POST", "/v1/orders", Some(&t), Some(&body), &[("Idempotency-Key", "same-key")])),
    )
    .await;
    let replies: Vec<_> = replies.into_iter().collect::<Result<_, _>>()?;
    assert!(
        replies.iter().all(|r| r.status == 201),
        "{:?}",
        replies.iter().map(|r| (r.status, r.text.clone())).find(|r| r.0 != 201)
    );
    assert!(replies.iter().all(|r| r.text == replies[0].text), "responses differ");
    let list = s.call("GET", "/v1/orders", Some(&t), None, &[]).await?;
    assert_eq!(list.json()["orders"].as_array().unwrap().len(), 1);
    assert_eq!(s.total_available("TSHIRT-BLK-M").await?, before - 1);
    Ok(())
}

#[tokio::test]
async fn two_hundred_concurrent_orders_for_ten_units_accept_exactly_ten() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let admin = s.admin_token();
    let p = s
        .call(
            "PUT",
            "/v1/admin/products/LIMITED-1",
            Some(&admin),
            Some(&json!({"name": "Limited drop", "price": {"amount": 5000, "currency": "USD"}, "weightGrams": 300})),
            &[],
        )
        .await?;
    assert_eq!(p.status, 200, "{}", p.text);
    let st = s.call("PUT", "/v1/admin/stock/LIMITED-1/WH-NJ", Some(&admin), Some(&json!({"onHand": 10})), &[]).await?;
    assert_eq!(st.status, 200, "{}", st.text);
    let body = order_body(json!([{"sku": "LIMITED-1", "quantity": 1}]));
    let tokens: Vec<String> = (0..200).map(|i| s.token(&format!("buyer-{i}"))).collect();
    let s = &s;
    let replies = join_all(tokens.iter().enumerate().map(|(i, t)| {
        let key = format!("k-{i}");
        let body = body.clone();
        async move { s.call("POST", "/v1/orders", Some(t), Some(&body), &[("Idempotency-Key", &key)]).await }
    }))
    .await;
    let replies: Vec<_> = replies.into_iter().collect::<Result<_, _>>()?;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!(
        (created, conflicts),
        (10, 190),
        "{:?}",
        replies.iter().find(|r| r.status != 201 && r.status != 409).map(|r| &r.text)
    );
    let short = replies.iter().find(|r| r.status == 409).unwrap();
    assert_eq!(short.json()["type"], "urn:oms:problem:out-of-stock");
    assert_eq!(short.json()["shortages"][0]["sku"], "LIMITED-1");
    assert_eq!(s.available("LIMITED-1", "WH-NJ").await?, (0, 10, 0));
    Ok(())
}

#[tokio::test]
async fn other_customers_get_404_and_non_admins_get_403_on_every_route() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let owner = s.token("owner");
    let intruder = s.token("intruder");
    let cart =
        s.call("POST", "/v1/carts", Some(&owner), None, &[]).await?.json()["cartId"].as_str().unwrap().to_owned();
    let order = s
        .call(
            "POST",
            "/v1/orders",
            Some(&owner),
            Some(&order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]))),
            &[("Idempotency-Key", "o-1")],
        )
        .await?
        .json()["orderId"]
        .as_str()
        .unwrap()
        .to_owned();
    let customer_routes: Vec<Call> = vec![
        ("GET", format!("/v1/carts/{cart}"), None, vec![]),
        ("PUT", format!("/v1/carts/{cart}/items/MUG-CLASSIC"), Some(json!({"quantity": 1})), vec![]),
        ("POST", "/v1/quotes".into(), Some(json!({"cartId": cart, "shippingAddress": nyc()})), vec![]),
        ("GET", format!("/v1/orders/{order}"), None, vec![]),
        ("POST", format!("/v1/orders/{order}/cancel"), None, vec![]),
        (
            "PATCH",
            format!("/v1/orders/{order}"),
            Some(json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 2}]})),
            vec![("If-Match", "\"v1\"")],
        ),
    ];
    for (m, path, body, headers) in &customer_routes {
        let r = s.call(m, path, Some(&intruder), body.as_ref(), headers).await?;
        assert_eq!(r.status, 404, "{m} {path}: {}", r.text);
        assert_eq!(r.content_type(), "application/problem+json");
    }
    // The intruder's own listing does not show the owner's order.
    assert_eq!(s.call("GET", "/v1/orders", Some(&intruder), None, &[]).await?.json()["orders"], json!([]));
    assert_eq!(s.call("GET", "/v1/carts", Some(&intruder), None, &[]).await?.json()["carts"], json!([]));

    let admin_routes: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PUT",
            "/v1/admin/products/MUG-CLASSIC".into(),
            Some(json!({"name": "x", "price": {"amount": 1, "currency": "USD"}, "weightGrams": 1})),
        ),
        (
            "PUT",
            "/v1/admin/locations/WH-NJ".into(),
            Some(
                json!({"name": "x", "kind": "warehouse", "coordinates": {"latE6": 0, "lonE6": 0}, "country": "US", "postalCode": "07102", "ships": true}),
            ),
        ),
        ("PUT", "/v1/admin/stock/MUG-CLASSIC/WH-NJ".into(), Some(json!({"onHand": 1}))),
        ("GET", "/v1/admin/orders?status=placed".into(), None),
        ("GET", format!("/v1/admin/orders/{order}"), None),
        ("POST", format!("/v1/admin/orders/{order}/cancel"), None),
    ];
    for (m, path, body) in &admin_routes {
        let r = s.call(m, path, Some(&owner), body.as_ref(), &[]).await?;
        assert_eq!(r.status, 403, "{m} {path}: {}", r.text);
        assert_eq!(r.content_type(), "application/problem+json");
    }
    // Nothing changed.
    let o = s.call("GET", &format!("/v1/orders/{order}"), Some(&owner), None, &[]).await?;
    assert_eq!(o.json()["status"], "placed");
    assert_eq!(
        s.call("GET", "/v1/admin/orders?status=placed", Some(&s.admin_token()), None, &[]).await?.json()["orders"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // No token at all.
    assert_eq!(s.call("GET", "/v1/orders", None, None, &[]).await?.status, 401);
    Ok(())
}

#[tokio::test]
async fn bad_input_is_a_4xx_problem_and_writes_nothing() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let t = s.token("cust-bad");
    let before = s.available("MUG-CLASSIC", "WH-NJ").await?;
    let good = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
    let mut cases: Vec<Case> = Vec::new();
    cases.push(("missing idempotency key", good.clone(), vec![], 400));
    let mut q0 = good.clone();
    q0["lines"][0]["quantity"] = json!(0);
    cases.push(("quantity 0", q0, vec![], 400));
    let mut q100 = good.clone();
    q100["lines"][0]["quantity"] = json!(100);
    cases.push(("quantity 100", q100, vec![], 400));
    let mut many = good.clone();
    many["lines"] = Value::Array((0..151).map(|i| json!({"sku": format!("SKU-{i}"), "quantity": 1})).collect());
    cases.push(("151 lines", many, vec![], 400));
    let mut unknown = good.clone();
    unknown["coupon"] = json!("FREE");
    cases.push(("unknown field", unknown, vec![], 400));
    let mut price = good.clone();
    price["lines"][0]["unitPrice"] = json!({"amount": 1, "currency": "USD"});
    cases.push(("client price", price, vec![], 422));
    let mut zip = good.clone();
    zip["shippingAddress"]["postalCode"] = json!("ABCDE");
    cases.push(("malformed postal code", zip, vec![], 400));
    let mut country = good.clone();
    country["shippingAddress"]["country"] = json!("XX");
    cases.push(("unknown country", country, vec![], 400));
    let mut email = good.clone();
    email["email"] = json!("not-an-email");
    cases.push(("malformed email", email, vec![], 400));
    let mut sku = good.clone();
    sku["lines"][0]["sku"] = json!("NO-SUCH-SKU");
    cases.push(("unknown sku", sku, vec![], 422));
    let mut float = good.clone();
    float["lines"][0]["quantity"] = json!(1.5);
    cases.push(("fractional quantity", float, vec![], 400));
    let mut token = good.clone();
    token["paymentToken"] = json!("");
    cases.push(("empty payment token", token, vec![], 400));
    for (name, body, mut headers, status) in cases {
        let key = format!("bad-{}", name.replace(' ', "-"));
        if name != "missing idempotency key" {
            headers.push(("Idempotency-Key", &key));
        }
        let r = s.call("POST", "/v1/orders", Some(&t), Some(&body), &headers).await?;
        assert_eq!(r.status, status, "{name}: {}", r.text);
        assert_eq!(r.content_type(), "application/problem+json", "{name}");
        assert!(r.json()["type"].as_str().unwrap().starts_with("urn:oms:problem:"), "{name}");
        // Every refusal of a field names it (a price names where the client put it).
        match name {
            "client price" => assert_eq!(r.json()["field"], "lines[0].unitPrice", "{}", r.text),
            "unknown sku" => assert_eq!(r.json()["field"], "lines", "{}", r.text),
            _ => {}
        }
    }
    // Over 64 KB.
    let mut big = good.clone();
    big["shippingAddress"]["line2"] = json!("x".repeat(70 * 1024));
    let r = s.call("POST", "/v1/orders", Some(&t), Some(&big), &[("Idempotency-Key", "big")]).await?;
    assert_eq!(r.status, 413, "{}", r.text);
    // Not JSON.
    let r = s
        .http
        .post(s.url("/v1/orders"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .header("Idempotency-Key", "nj")
        .body("{nope")
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 400);
    let r = s
        .http
        .post(s.url("/v1/orders"))
        .bearer_auth(&t)
        .header("content-type", "text/plain")
        .header("Idempotency-Key", "tp")
        .body("hi")
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 415);
    // Cart item quantity out of range, bad ids, bad cursor.
    let cart = s.call("POST", "/v1/carts", Some(&t), None, &[]).await?.json()["cartId"].as_str().unwrap().to_owned();
    assert_eq!(
        s.call("PUT", &format!("/v1/carts/{cart}/items/MUG-CLASSIC"), Some(&t), Some(&json!({"quantity": 100})), &[])
            .await?
            .status,
        400
    );
    assert_eq!(
        s.call("PUT", &format!("/v1/carts/{cart}/items/MUG-CLASSIC"), Some(&t), Some(&json!({"quantity": -1})), &[])
            .await?
            .status,
        400
    );
    assert_eq!(s.call("GET", "/v1/orders/not-an-id", Some(&t), None, &[]).await?.status, 400);
    assert_eq!(s.call("GET", "/v1/orders?cursor=zzz", Some(&t), None, &[]).await?.status, 400);
    assert_eq!(s.call("GET", "/v1/orders?limit=0", Some(&t), None, &[]).await?.status, 400);
    assert_eq!(s.call("GET", "/v1/nowhere", Some(&t), None, &[]).await?.status, 404);
    // Nothing was written.
    assert_eq!(s.call("GET", "/v1/orders", Some(&t), None, &[]).await?.json()["orders"], json!([]));
    assert_eq!(s.available("MUG-CLASSIC", "WH-NJ").await?, before);
    Ok(())
}

#[tokio::test]
async fn admin_can_manage_catalog_and_find_orders() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let admin = s.admin_token();
    let loc = json!({"name": "Boston store", "kind": "store", "coordinates": {"latE6": 42360100, "lonE6": -71058900}, "country": "US", "postalCode": "02108", "ships": true, "pickup": true});
    assert_eq!(s.call("PUT", "/v1/admin/locations/STORE-BOS", Some(&admin), Some(&loc), &[]).await?.status, 200);
    let r =
        s.call("PUT", "/v1/admin/stock/MUG-CLASSIC/STORE-BOS", Some(&admin), Some(&json!({"onHand": 3})), &[]).await?;
    assert_eq!(r.json()["available"], 3);
    assert_eq!(
        s.call("PUT", "/v1/admin/stock/MUG-CLASSIC/NOWHERE", Some(&admin), Some(&json!({"onHand": 3})), &[])
            .await?
            .status,
        422
    );
    assert_eq!(
        s.call("PUT", "/v1/admin/stock/MUG-CLASSIC/STORE-BOS", Some(&admin), Some(&json!({"onHand": -3})), &[])
            .await?
            .status,
        400
    );
    let neg = json!({"name": "x", "price": {"amount": -1, "currency": "USD"}, "weightGrams": 1});
    assert_eq!(s.call("PUT", "/v1/admin/products/NEG", Some(&admin), Some(&neg), &[]).await?.status, 400);
    let cur = json!({"name": "x", "price": {"amount": 1, "currency": "ZZZ"}, "weightGrams": 1});
    assert_eq!(s.call("PUT", "/v1/admin/products/CUR", Some(&admin), Some(&cur), &[]).await?.status, 400);

    let t = s.token("cust-9");
    for i in 0..3 {
        let r = s
            .call(
                "POST",
                "/v1/orders",
                Some(&t),
                Some(&order_body(json!([{"sku": "SOCKS-3PK", "quantity": 1}]))),
                &[("Idempotency-Key", &format!("a-{i}"))],
            )
            .await?;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let by_email = s.call("GET", "/v1/admin/orders?email=ANN@example.com&limit=2", Some(&admin), None, &[]).await?;
    assert_eq!(by_email.json()["orders"].as_array().unwrap().len(), 2);
    let cursor = by_email.json()["nextCursor"].as_str().unwrap().to_owned();
    let next = s
        .call(
            "GET",
            &format!("/v1/admin/orders?email=ann@example.com&limit=2&cursor={cursor}"),
            Some(&admin),
            None,
            &[],
        )
        .await?;
    assert_eq!(next.json()["orders"].as_array().unwrap().len(), 1);
    let by_status = s.call("GET", "/v1/admin/orders?status=placed&from=2020-01-01", Some(&admin), None, &[]).await?;
    assert_eq!(by_status.json()["orders"].as_array().unwrap().len(), 3);
    assert_eq!(s.call("GET", "/v1/admin/orders", Some(&admin), None, &[]).await?.status, 400);
    assert_eq!(s.call("GET", "/v1/admin/orders?status=lost", Some(&admin), None, &[]).await?.status, 400);
    Ok(())
}

#[tokio::test]
async fn pickup_orders_hold_at_the_chosen_store() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let t = s.token("cust-pickup");
    let before = s.available("HEADPHONES-X1", "STORE-NYC").await?;
    let mut body = order_body(json!([{"sku": "HEADPHONES-X1", "quantity": 2}]));
    body.as_object_mut().unwrap().remove("serviceLevel");
    body["deliveryOptionId"] = json!("pickup-STORE-NYC");
    let r = s.call("POST", "/v1/orders", Some(&t), Some(&body), &[("Idempotency-Key", "p-1")]).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["delivery"]["pickupLocation"], "STORE-NYC");
    assert_eq!(r.json()["totals"]["shipping"]["amount"], 0);
    assert_eq!(s.available("HEADPHONES-X1", "STORE-NYC").await?.0, before.0 - 2);
    body["deliveryOptionId"] = json!("pickup-STORE-SF");
    let far = s.call("POST", "/v1/orders", Some(&t), Some(&body), &[("Idempotency-Key", "p-2")]).await?;
    assert_eq!(far.status, 422, "{}", far.text);
    Ok(())
}

/// Choices that exclude each other, and a delivery that is not on offer, name the field.
#[tokio::test]
async fn conflicting_choices_and_an_unknown_delivery_option_name_their_field() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let t = s.token("cust-fields");
    let mut cases: Vec<(Value, u16, &str)> = Vec::new();
    let mut both = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
    both["cartId"] = json!("01JDQ0000000000000000000ZZ");
    cases.push((both, 400, "lines"));
    let mut neither = order_body(json!([]));
    neither.as_object_mut().map(|o| o.remove("lines"));
    cases.push((neither, 400, "lines"));
    let mut two = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
    two["deliveryOptionId"] = json!("standard");
    two["serviceLevel"] = json!("standard");
    cases.push((two, 400, "deliveryOptionId"));
    let mut nope = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
    nope.as_object_mut().map(|o| o.remove("serviceLevel"));
    nope["deliveryOptionId"] = json!("pickup-NOPE");
    cases.push((nope, 422, "deliveryOptionId"));
    for (body, status, field) in cases {
        let key = ulid::Ulid::new().to_string();
        let r = s.call("POST", "/v1/orders", Some(&t), Some(&body), &[("Idempotency-Key", &key)]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (status, Some(field)), "{body}: {}", r.text);
    }
    assert!(
        s.local
            .oms
            .store
            .customer_orders_up_to(&oms_shared::domain::CustomerId::parse("cust-fields")?, 10)
            .await?
            .is_empty()
    );
    Ok(())
}
