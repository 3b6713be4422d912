//! Security from outside: every route × every role × own/other customer, what a customer reads
//! of an order staff annotated, held and opened a case on, refund limits per role, and hostile
//! bodies answered with a problem naming the field and writing nothing.

use oms_tests::{Stack, nyc, order_body};
use serde_json::{Value, json};

const WHO: [&str; 9] =
    ["anon", "owner", "other", "agent", "supervisor", "warehouse", "finance", "integration", "admin"];

fn token(s: &Stack, who: &str) -> Option<String> {
    match who {
        "anon" => None,
        "owner" => Some(s.token("cust-a")),
        "other" => Some(s.token("cust-b")),
        "admin" => Some(s.admin_token()),
        role => Some(s.scoped_token(&format!("{role}-1"), &format!("oms/{role}"))),
    }
}

/// `A` allowed (neither 401 nor 403), `U` 401, `F` 403, `N` 404.
fn expected(cell: char, status: u16) -> bool {
    match cell {
        'A' => status != 401 && status != 403,
        'U' => status == 401,
        'F' => status == 403,
        'N' => status == 404,
        _ => false,
    }
}

#[tokio::test]
async fn every_route_for_every_role_and_customer() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let id = s.place("cust-a", &order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]))).await?;
    let fake = "01M8PP64VJ2VZG60TADGPAQRX3";
    let o = format!("/v1/orders/{id}");
    let a = format!("/v1/admin/orders/{id}");
    let product = json!({"name": "Matrix", "price": {"amount": 500, "currency": "USD"}, "weightGrams": 100});
    let location = json!({"name": "Matrix store", "kind": "store", "coordinates": {"latE6": 40_750_000, "lonE6": -73_990_000},
        "country": "US", "postalCode": "10001", "ships": true, "pickup": true});
    let refund = json!({"amount": {"amount": 100, "currency": "USD"}, "reason": "late"});
    let case = json!({"orderId": id, "kind": "complaint", "subject": "parcel late"});
    let edit = json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 2}]});
    // (method, path, body, cells for anon owner other agent supervisor warehouse finance integration admin)
    let rows: Vec<(&str, String, Option<Value>, &str)> = vec![
        ("GET", o.clone(), None, "UANAAAAAA"),
        ("GET", "/v1/orders".into(), None, "UAAAAAAAA"),
        ("GET", format!("{o}/returns"), None, "UANAAAAAA"),
        ("GET", "/v1/me/preferences".into(), None, "UAAAAAAAA"),
        ("GET", a.clone(), None, "UFFAAAAAA"),
        ("GET", "/v1/admin/orders?status=placed".into(), None, "UFFAAAAAA"),
        ("GET", format!("{a}/cases"), None, "UFFAAFAFA"),
        ("GET", "/v1/admin/cases?status=open".into(), None, "UFFAAFAFA"),
        ("GET", "/v1/admin/webhook-subscriptions".into(), None, "UFFFAFFAA"),
        ("POST", format!("{a}/notes"), Some(json!({"text": "called"})), "UFFAAFFFA"),
        ("POST", format!("{a}/hold"), Some(json!({"reason": "check"})), "UFFAAFFFA"),
        ("POST", format!("{a}/release-hold"), None, "UFFAAFFFA"),
        ("POST", format!("{a}/notifications"), Some(json!({"type": "order.confirmed"})), "UFFAAFFFA"),
        ("POST", "/v1/admin/cases".into(), Some(case), "UFFAAFFFA"),
        ("GET", "/v1/admin/promotions".into(), None, "UFFAAFFFA"),
        (
            "PUT",
            "/v1/admin/promotions/matrix".into(),
            Some(
                json!({"name": "Matrix", "discount": {"type": "percent", "basisPoints": 100}, "target": {"type": "skus", "skus": ["DESK-LAMP"]}}),
            ),
            "UFFFAFFFA",
        ),
        (
            "POST",
            format!("{a}/adjustments"),
            Some(json!({"discount": {"type": "percent", "basisPoints": 100}, "reason": "matrix", "preview": true})),
            "UFFAAFFFA",
        ),
        ("GET", "/v1/admin/approvals".into(), None, "UFFAAFFFA"),
        ("GET", "/v1/admin/inventory/drift".into(), None, "UFFFFAFAA"),
        ("GET", "/v1/admin/inventory/low".into(), None, "UFFFFAFAA"),
        (
            "POST",
            "/v1/admin/stock/NO-SUCH-SKU/WH-NJ/adjustments".into(),
            Some(json!({"delta": 1, "reason": "found"})),
            "UFFFFAFAA",
        ),
        ("POST", "/v1/admin/approvals/APR-01M8PP64VJ2VZG60TADGPAQRX3/approve".into(), None, "UFFFAFFFA"),
        ("GET", "/v1/services/INSTALL-TV/slots?postalCode=10001".into(), None, "AAAAAAAAA"),
        ("GET", "/v1/admin/service-capacity/US/2031-01-01".into(), None, "UFFFAFFAA"),
        (
            "PUT",
            "/v1/admin/service-capacity/US/2031-01-01".into(),
            Some(json!({"windows": [{"start": "08:00", "end": "12:00", "technicianMinutes": 240}]})),
            "UFFFAFFAA",
        ),
        ("POST", format!("{o}/visits"), Some(json!({"lineId": "L1", "slotId": "US.20310101.0800"})), "UANAANNNA"),
        ("POST", format!("{o}/visits/V1/reschedule"), Some(json!({"slotId": "US.20310101.0800"})), "UANAANNNA"),
        ("POST", format!("{o}/visits/V1/cancel"), None, "UANAANNNA"),
        (
            "POST",
            format!("{o}/warranty-claims"),
            Some(
                json!({"lineId": "L1", "remedy": "repair", "reason": "broken", "serviceSku": "INSTALL-TV", "slotId": "US.20310101.0800"}),
            ),
            "UANAANNNA",
        ),
        ("POST", format!("{a}/visits/V1/status"), Some(json!({"status": "dispatched"})), "UFFFAFFAA"),
        (
            "POST",
            format!("{a}/visits/V1/repeat"),
            Some(json!({"slotId": "US.20310101.0800", "reason": "again"})),
            "UFFAAFFFA",
        ),
        ("GET", "/v1/admin/backorders/TV-55".into(), None, "UFFAAAAAA"),
        ("POST", "/v1/admin/backorders/TV-55/allocate".into(), None, "UFFFFAFAA"),
        ("GET", format!("/v1/backorders/TV-55/{fake}"), None, "UAAAAAAAA"),
        ("POST", format!("{a}/refunds"), Some(refund), "UFFAAFAFA"),
        ("GET", "/v1/admin/reconciliation".into(), None, "UFFFFFAFA"),
        ("GET", "/v1/admin/effects/parked".into(), None, "UFFFFFAFA"),
        (
            "POST",
            "/v1/admin/effects/parked/retry".into(),
            Some(json!({"orderId": fake, "entryId": "2020-01-01T00:00:00.000Z#01JDQ0000000000000000000ZZ"})),
            "UFFFFFAFA",
        ),
        ("PUT", "/v1/admin/products/MATRIX-1".into(), Some(product), "UFFFFFFAA"),
        ("PUT", "/v1/admin/locations/MATRIX-LOC".into(), Some(location), "UFFFFAFAA"),
        ("PUT", "/v1/admin/stock/MATRIX-1/WH-NJ".into(), Some(json!({"onHand": 5})), "UFFFFAFAA"),
        ("POST", format!("/v1/admin/returns/{fake}/receive"), Some(json!({"lines": []})), "UFFFFAFFA"),
        ("GET", format!("{a}/shipments/{fake}/label"), None, "UFFAAAFFA"),
        ("PATCH", o.clone(), Some(edit), "UANAANNNA"),
        ("POST", format!("{a}/cancel"), None, "UFFAAFFFA"),
        ("POST", format!("{o}/cancel"), None, "UANAANNNA"),
    ];
    let mut wrong = Vec::new();
    let mut cells = 0;
    for (method, path, body, want) in &rows {
        for (who, cell) in WHO.iter().zip(want.chars()) {
            let t = token(&s, who);
            let key = ulid::Ulid::new().to_string();
            let h = [("Idempotency-Key", key.as_str()), ("If-Match", "\"v1\"")];
            let r = s
                .call(method, path, t.as_deref(), body.as_ref(), if *method == "PATCH" { &h } else { &h[..1] })
                .await?;
            cells += 1;
            if !expected(cell, r.status) {
                wrong.push(format!("{method} {path} as {who}: {} (want {cell}) {}", r.status, r.text));
            }
            if r.status >= 400 {
                assert_eq!(r.content_type(), "application/problem+json", "{method} {path} as {who}");
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {cells} cells wrong:\n{}", wrong.len(), wrong.join("\n"));
    Ok(())
}

#[tokio::test]
async fn a_customer_sees_none_of_what_staff_wrote_on_their_order() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let id = s.place("cust-a", &order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]))).await?;
    let admin = s.admin_token();
    let a = format!("/v1/admin/orders/{id}");
    let note = s
        .call("POST", &format!("{a}/notes"), Some(&admin), Some(&json!({"text": "SECRET-NOTE reseller?"})), &[])
        .await?;
    assert_eq!(note.status, 200, "{}", note.text);
    let hold =
        s.call("POST", &format!("{a}/hold"), Some(&admin), Some(&json!({"reason": "fraud HOLD-REASON"})), &[]).await?;
    assert_eq!(hold.status, 200, "{}", hold.text);
    let case = json!({"orderId": id, "kind": "dispute", "subject": "CASE-SUBJECT chargeback"});
    assert_eq!(s.call("POST", "/v1/admin/cases", Some(&admin), Some(&case), &[]).await?.status, 201);

    let mine = s.customer_order("cust-a", &id).await?;
    let text = mine.to_string();
    for secret in
        ["SECRET-NOTE", "HOLD-REASON", "CASE-SUBJECT", "fraud", "agent-1", "on_hold", "statusReason", "note.added"]
    {
        assert!(!text.contains(secret), "{secret} reached the customer: {text}");
    }
    assert_eq!(mine["status"], "placed", "a hold shows as the status it was held from");
    let kinds: Vec<&str> = mine["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["order.placed"]);
    assert!(mine["timeline"][0]["message"].is_string() && mine["timeline"][0].get("note").is_none());
    let listed = s.call("GET", "/v1/orders", Some(&s.token("cust-a")), None, &[]).await?.json();
    assert_eq!(listed["orders"][0]["status"], "placed");

    let agent = s.order("cust-a", &id).await?.to_string();
    for seen in ["SECRET-NOTE", "HOLD-REASON", "CASE-SUBJECT", "on_hold"] {
        assert!(agent.contains(seen), "agents see {seen}");
    }
    let machine = s.call("GET", &a, Some(&s.scoped_token("erp", "oms/integration")), None, &[]).await?.json();
    let machine_text = machine.to_string();
    assert!(
        machine["customerId"] == "cust-a"
            && !machine_text.contains("SECRET-NOTE")
            && !machine_text.contains("CASE-SUBJECT")
    );
    Ok(())
}

#[tokio::test]
async fn refunds_over_the_agent_limit_need_a_supervisor() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let id = s.delivered_order("cust-r", "rita@example.com", json!([{"sku": "DESK-LAMP", "quantity": 3}])).await?;
    let path = format!("/v1/admin/orders/{id}/refunds");
    let over = json!({"amount": {"amount": 10_001, "currency": "USD"}, "reason": "damaged on arrival"});
    let agent = s
        .call("POST", &path, Some(&s.scoped_token("agent-9", "oms/agent")), Some(&over), &[("Idempotency-Key", "r1")])
        .await?;
    assert_eq!(
        (agent.status, agent.json()["type"].as_str()),
        (403, Some("urn:oms:problem:over-limit")),
        "{}",
        agent.text
    );
    let within = json!({"amount": {"amount": 1_000, "currency": "USD"}, "reason": "late"});
    let ok = s
        .call("POST", &path, Some(&s.scoped_token("agent-9", "oms/agent")), Some(&within), &[("Idempotency-Key", "r2")])
        .await?;
    assert_eq!(ok.status, 200, "{}", ok.text);
    // The limit is per order: another 95.00 on top of the 10.00 given is over it.
    let more = json!({"amount": {"amount": 9_500, "currency": "USD"}, "reason": "still late"});
    let agent9 = s.scoped_token("agent-9", "oms/agent");
    let split = s.call("POST", &path, Some(&agent9), Some(&more), &[("Idempotency-Key", "r4")]).await?;
    assert_eq!(split.status, 403, "refunds split to pass the limit: {}", split.text);
    let sup = s
        .call(
            "POST",
            &path,
            Some(&s.scoped_token("sup-1", "oms/supervisor")),
            Some(&over),
            &[("Idempotency-Key", "r3")],
        )
        .await?;
    assert_eq!(sup.status, 200, "{}", sup.text);

    // Disputes: agents may not open them; finance may open and move them.
    let dispute = json!({"orderId": id, "kind": "dispute", "subject": "chargeback"});
    let by_agent = s.call("POST", "/v1/admin/cases", Some(&agent9), Some(&dispute), &[]).await?;
    assert_eq!(by_agent.status, 403, "{}", by_agent.text);
    let finance = s.scoped_token("fin-1", "oms/finance");
    let opened = s.call("POST", "/v1/admin/cases", Some(&finance), Some(&dispute), &[]).await?;
    assert_eq!(opened.status, 201, "{}", opened.text);
    let case_path = format!("/v1/admin/cases/{}", opened.json()["id"].as_str().unwrap());
    let moved = s.call("PATCH", &case_path, Some(&finance), Some(&json!({"status": "escalated"})), &[]).await?;
    assert_eq!(moved.status, 200, "{}", moved.text);

    // A customer's return hides the label document id and the internal split.
    let lines = s.order("cust-r", &id).await?["lines"].clone();
    let line = lines[0]["lineId"].as_str().unwrap().to_owned();
    let ret = json!({"lines": [{"lineId": line, "quantity": 1, "reason": "damaged"}], "resolution": "refund"});
    let opened = s.call("POST", &format!("/v1/orders/{id}/returns"), Some(&s.token("cust-r")), Some(&ret), &[]).await?;
    assert_eq!(opened.status, 201, "{}", opened.text);
    for internal in ["labelId", "origins", "receipts", "\"customer\""] {
        assert!(!opened.text.contains(internal), "{internal} reached the customer: {}", opened.text);
    }
    let staff = s.call("GET", &format!("/v1/orders/{id}/returns"), Some(&s.admin_token()), None, &[]).await?;
    assert!(staff.text.contains("labelId"), "staff see the label id: {}", staff.text);
    // The return label prints the address: finance does not handle labels.
    let rma = opened.json()["id"].as_str().unwrap().to_owned();
    let label = s.call("GET", &format!("/v1/orders/{id}/returns/{rma}/label"), Some(&finance), None, &[]).await?;
    assert_eq!(label.status, 404, "{}", label.text);

    // A replacement is priced in the order's currency and within the order cap, checked when
    // the return is opened (not when the parcel is back).
    let admin = s.admin_token();
    let yen = json!({"name": "Yen lamp", "price": {"amount": 50_000, "currency": "JPY"}, "weightGrams": 500});
    assert_eq!(s.call("PUT", "/v1/admin/products/YEN-LAMP", Some(&admin), Some(&yen), &[]).await?.status, 200);
    let pricey = json!({"name": "Pricey", "price": {"amount": 900_000, "currency": "USD"}, "weightGrams": 500});
    assert_eq!(s.call("PUT", "/v1/admin/products/PRICEY-1", Some(&admin), Some(&pricey), &[]).await?.status, 200);
    for (sku, qty, kind) in [("YEN-LAMP", 1, "invalid-exchange"), ("PRICEY-1", 99, "order-total-over-limit")] {
        let ex = json!({"lines": [{"lineId": line, "quantity": 1, "reason": "does_not_fit"}], "resolution": "exchange",
            "exchangeLines": [{"sku": sku, "quantity": qty}]});
        let r = s.call("POST", &format!("/v1/orders/{id}/returns"), Some(&s.token("cust-r")), Some(&ex), &[]).await?;
        assert_eq!(
            (r.status, r.json()["type"].as_str()),
            (422, Some(&*format!("urn:oms:problem:{kind}"))),
            "{}",
            r.text
        );
    }

    // An agent's hold sent the customer nothing: there is nothing to re-send.
    let a = format!("/v1/admin/orders/{id}");
    let resend = s
        .call("POST", &format!("{a}/notifications"), Some(&admin), Some(&json!({"type": "order.on_hold"})), &[])
        .await?;
    assert_eq!(resend.status, 409, "{}", resend.text);
    // Re-sends are bounded per kind.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = s
            .call("POST", &format!("{a}/notifications"), Some(&admin), Some(&json!({"type": "order.delivered"})), &[])
            .await?;
        statuses.push(r.status);
    }
    assert_eq!(statuses[3], 409, "{statuses:?}");
    Ok(())
}

#[tokio::test]
async fn hostile_bodies_name_the_field_and_write_nothing() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let t = s.token("cust-h");
    let admin = s.admin_token();
    let before = s.available("MUG-CLASSIC", "WH-NJ").await?;
    let good = serde_json::to_string(&order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}])))?;
    let cases: Vec<(&str, String, &str)> = vec![
        ("duplicate key", good.replacen("\"email\":", "\"email\":\"x@example.com\",\"email\":", 1), "email"),
        ("null email", good.replacen("\"email\":\"ann@example.com\"", "\"email\":null", 1), "email"),
        ("quantity past the limit", good.replacen("\"quantity\":1", "\"quantity\":100", 1), "lines[0].quantity"),
        (
            "quantity that overflows",
            good.replacen("\"quantity\":1", "\"quantity\":18446744073709551616", 1),
            "lines[0].quantity",
        ),
        ("wrong type", good.replacen("\"quantity\":1", "\"quantity\":\"1\"", 1), "lines[0].quantity"),
        ("unknown field", good.replacen("{", "{\"discount\":100,", 1), "discount"),
        (
            "an array for an object",
            good.replacen("\"shippingAddress\":{", "\"shippingAddress\":[", 1).replacen("},\"email", "],\"email", 1),
            "",
        ),
    ];
    for (i, (name, body, field)) in cases.into_iter().enumerate() {
        let key = format!("hostile-{i}");
        let r = s.raw("POST", "/v1/orders", Some(&t), body, &[("Idempotency-Key", &key)]).await?;
        assert_eq!(r.status, 400, "{name}: {}", r.text);
        assert_eq!(r.content_type(), "application/problem+json", "{name}");
        if !field.is_empty() {
            assert_eq!(r.json()["field"], field, "{name}: {}", r.text);
        }
    }
    let listed = s.call("GET", "/v1/orders", Some(&t), None, &[]).await?.json();
    assert_eq!(listed["orders"].as_array().map(Vec::len), Some(0), "nothing was placed");
    assert_eq!(s.available("MUG-CLASSIC", "WH-NJ").await?, before, "no stock moved");

    // A price that would overflow a total, and a currency the shop does not sell in.
    for (price, field) in [
        (json!({"amount": i64::MAX, "currency": "USD"}), "price"),
        (json!({"amount": 100, "currency": "HUF"}), "price"),
    ] {
        let body = json!({"name": "Hostile", "price": price, "weightGrams": 10});
        let r = s.call("PUT", "/v1/admin/products/HOSTILE-1", Some(&admin), Some(&body), &[]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (400, Some(field)), "{}", r.text);
    }
    let id = s.place("cust-h", &order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]))).await?;
    let null_reason =
        s.call("POST", &format!("/v1/orders/{id}/cancel"), Some(&t), Some(&json!({"reason": null})), &[]).await?;
    assert_eq!(
        (null_reason.status, null_reason.json()["field"].as_str()),
        (400, Some("reason")),
        "{}",
        null_reason.text
    );
    let bell =
        s.call("POST", &format!("/v1/orders/{id}/cancel"), Some(&t), Some(&json!({"reason": "x\u{7}y"})), &[]).await?;
    assert_eq!((bell.status, bell.json()["field"].as_str()), (400, Some("reason")), "{}", bell.text);
    let both = json!({"version": 7, "lines": [{"sku": "MUG-CLASSIC", "quantity": 2}]});
    let conflict =
        s.call("PATCH", &format!("/v1/orders/{id}"), Some(&t), Some(&both), &[("If-Match", "\"v1\"")]).await?;
    assert_eq!(conflict.status, 412, "a body version that differs from If-Match: {}", conflict.text);
    assert_eq!(s.order("cust-h", &id).await?["status"], "placed", "the refused cancel changed nothing");
    // A postal code with a multi-byte character, bidirectional controls in a name, NUL in a
    // product name: a 400 naming the field, never a dropped connection.
    let mut odd = nyc();
    odd["postalCode"] = json!("12345é678");
    let q = s
        .call(
            "POST",
            "/v1/quotes",
            Some(&t),
            Some(&json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "shippingAddress": odd})),
            &[],
        )
        .await?;
    assert_eq!((q.status, q.json()["field"].as_str()), (400, Some("shippingAddress.postalCode")), "{}", q.text);
    let mut spoof = nyc();
    spoof["name"] = json!("Ann \u{202e}eeL");
    let q = s
        .call(
            "POST",
            "/v1/quotes",
            Some(&t),
            Some(&json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "shippingAddress": spoof})),
            &[],
        )
        .await?;
    assert_eq!((q.status, q.json()["field"].as_str()), (400, Some("shippingAddress.name")), "{}", q.text);
    let nul = json!({"name": "Fz\u{0}", "price": {"amount": 100, "currency": "USD"}, "weightGrams": 10});
    assert_eq!(s.call("PUT", "/v1/admin/products/FZ-1", Some(&admin), Some(&nul), &[]).await?.status, 400);
    let cart = s.raw("POST", "/v1/carts", Some(&t), r#"["a@example.com",[["SOCKS-3PK",2]]]"#.into(), &[]).await?;
    assert_eq!(cart.status, 400, "a struct from an array: {}", cart.text);
    // Scopes are separated by spaces only: a no-break space joins nothing.
    let odd = s.scoped_token("odd-1", "oms/agent\u{a0}oms/finance");
    assert_eq!(s.call("GET", "/v1/admin/reconciliation", Some(&odd), None, &[]).await?.status, 403);

    let huge = format!("{{\"id\":\"{}\"}}", "x".repeat(300 * 1024));
    let r = s.raw("POST", "/v1/webhooks/carriers/easypost", None, huge, &[]).await?;
    assert_eq!((r.status, r.content_type()), (413, "application/problem+json"), "{}", r.text);
    Ok(())
}

/// What schemathesis with every check found before this contract was tightened: each stays
/// fixed here.
#[tokio::test]
async fn contract_regressions_stay_fixed() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let t = s.token("cust-c");
    let admin = s.admin_token();
    // null where the contract says string.
    let cart = s.call("POST", "/v1/carts", Some(&t), Some(&json!({"email": null})), &[]).await?;
    assert_eq!((cart.status, cart.json()["field"].as_str()), (400, Some("email")), "{}", cart.text);
    // Every listing parameter is checked, even beside a tracking number.
    let q = s.call("GET", "/v1/admin/orders?tracking=x&status=bogus", Some(&admin), None, &[]).await?;
    assert_eq!((q.status, q.json()["field"].as_str()), (400, Some("status")), "{}", q.text);
    let q = s.call("GET", "/v1/admin/orders?status=placed&to=garbage", Some(&admin), None, &[]).await?;
    assert_eq!(q.json()["field"], "to", "{}", q.text);
    // Names are counted in characters, not bytes.
    let name: String = "é".repeat(150);
    let p = json!({"name": name, "price": {"amount": 500, "currency": "USD"}, "weightGrams": 100});
    assert_eq!(s.call("PUT", "/v1/admin/products/UNICODE-1", Some(&admin), Some(&p), &[]).await?.status, 200);
    // An integral float is an integer.
    let c = s.call("POST", "/v1/carts", Some(&t), Some(&json!({"email": "c@example.com"})), &[]).await?.json();
    let path = format!("/v1/carts/{}/items/MUG-CLASSIC", c["cartId"].as_str().unwrap());
    let put = s.raw("PUT", &path, Some(&t), r#"{"quantity": 3.0}"#.into(), &[]).await?;
    assert_eq!((put.status, put.json()["items"][0]["quantity"].as_i64()), (200, Some(3)), "{}", put.text);
    // A case's resolution is checked and kept when its status does not change.
    let id = s.place("cust-c", &order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]))).await?;
    let case = s
        .call(
            "POST",
            "/v1/admin/cases",
            Some(&admin),
            Some(&json!({"orderId": id, "kind": "inquiry", "subject": "where"})),
            &[],
        )
        .await?
        .json();
    let path = format!("/v1/admin/cases/{}", case["id"].as_str().unwrap());
    let long = json!({"status": "open", "resolution": "x".repeat(2001)});
    assert_eq!(s.call("PATCH", &path, Some(&admin), Some(&long), &[]).await?.status, 400);
    let kept = s
        .call("PATCH", &path, Some(&admin), Some(&json!({"status": "open", "resolution": "called back"})), &[])
        .await?;
    assert_eq!((kept.status, kept.json()["resolution"].as_str()), (200, Some("called back")), "{}", kept.text);
    Ok(())
}

/// Findings of an outside-in review (contract 1.16.2): refusals that name their field instead
/// of cutting a body short or dropping part of it, and cart edits from many devices at once.
#[tokio::test]
async fn admin_and_cart_bodies_are_refused_whole_and_named() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let admin = s.admin_token();
    let refused = |r: &oms_tests::Reply, status: u16, field: &str| {
        assert_eq!((r.status, r.json()["field"].as_str()), (status, Some(field)), "{}", r.text);
    };
    // A store's day with a third time is refused, not cut to two; nothing is written.
    let store = |days: Value| {
        json!({"name": "Review store", "kind": "store", "coordinates": {"latE6": 40_700_000, "lonE6": -74_000_000},
            "country": "US", "postalCode": "10001", "ships": true, "pickup": true,
            "openingHours": {"utcOffsetMinutes": 0, "days": days}})
    };
    let r = s
        .call(
            "PUT",
            "/v1/admin/locations/REVIEW-1",
            Some(&admin),
            Some(&store(json!({"mon": ["09:00", "10:00", "23:00"]}))),
            &[],
        )
        .await?;
    refused(&r, 400, "openingHours.days.mon");
    let listed = s.call("GET", "/v1/admin/locations", Some(&admin), None, &[]).await?.text;
    assert!(!listed.contains("REVIEW-1"), "nothing written: {listed}");
    let mut far = store(json!({"mon": ["09:00", "18:00"]}));
    far["coordinates"]["latE6"] = json!(90_000_001);
    refused(&s.call("PUT", "/v1/admin/locations/REVIEW-1", Some(&admin), Some(&far), &[]).await?, 400, "coordinates");
    // Goods without a weight, a promotion code another promotion has.
    let p = json!({"name": "No weight", "price": {"amount": 100, "currency": "USD"}});
    refused(&s.call("PUT", "/v1/admin/products/REVIEW-SKU", Some(&admin), Some(&p), &[]).await?, 400, "weightGrams");
    let promo = |name: &str| json!({"name": name, "codes": ["review5"], "discount": {"type": "percent", "basisPoints": 500}, "target": {"type": "order"}});
    let r = s.call("PUT", "/v1/admin/promotions/review-a", Some(&admin), Some(&promo("A")), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    refused(&s.call("PUT", "/v1/admin/promotions/review-b", Some(&admin), Some(&promo("B")), &[]).await?, 409, "codes");
    // Stock cannot be adjusted past its maximum: said as such, not as "below committed".
    let r = s
        .call(
            "POST",
            "/v1/admin/stock/MUG-CLASSIC/WH-NJ/adjustments",
            Some(&admin),
            Some(&json!({"delta": 10_000_000, "reason": "received"})),
            &[],
        )
        .await?;
    assert_eq!((r.status, r.json()["type"].as_str()), (422, Some("urn:oms:problem:stock-above-maximum")), "{}", r.text);
    assert_eq!(r.json()["field"], "delta");
    // A cart naming a SKU twice, SMS kinds named twice.
    let t = s.token("cust-review");
    let twice = json!({"items": [{"sku": "MUG-CLASSIC", "quantity": 2}, {"sku": "MUG-CLASSIC", "quantity": 3}]});
    refused(&s.call("POST", "/v1/carts", Some(&t), Some(&twice), &[]).await?, 422, "items");
    let sms = json!({"marketingEmails": true, "sms": {"phone": "+12025550123", "kinds": ["order.confirmed", "order.confirmed"]}});
    let r = s.call("PUT", "/v1/me/preferences", Some(&t), Some(&sms), &[]).await?;
    assert_eq!(r.status, 400, "{}", r.text);
    // Many devices editing one cart at once: every edit lands (no 412 without an If-Match).
    let cart = s.call("POST", "/v1/carts", Some(&t), Some(&json!({})), &[]).await?.json();
    let cart = cart["cartId"].as_str().unwrap_or_default().to_owned();
    let skus = ["MUG-CLASSIC", "DESK-LAMP", "SOCKS-3PK", "HEADPHONES-X1"];
    let edits = (0..16).map(|i| {
        let (s, t, cart) = (&s, &t, &cart);
        async move {
            let path = format!("/v1/carts/{cart}/items/{}", skus[i % 4]);
            s.call("PUT", &path, Some(t), Some(&json!({"quantity": 1 + i / 4})), &[]).await
        }
    });
    for r in futures::future::join_all(edits).await {
        let r = r?;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let items = s.call("GET", &format!("/v1/carts/{cart}"), Some(&t), None, &[]).await?.json()["items"].clone();
    assert_eq!(items.as_array().map(Vec::len), Some(4), "{items}");
    // A listing from a date no order key can hold is refused naming it (it was a 503).
    let r = s.call("GET", "/v1/admin/orders?status=on_hold&from=9000-01-01", Some(&admin), None, &[]).await?;
    refused(&r, 400, "from");
    Ok(())
}
