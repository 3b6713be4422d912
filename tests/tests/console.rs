//! The agent console's API from outside, as agents, customers and strangers use it: customers
//! found every way an agent asks (phone in any format, e-mail, name words, order id, tracking
//! number, customer id), the customer window with everything on one page, confirmation calls
//! holding fulfillment until an agent confirms, the refund preview changing nothing, and the
//! customer conversation (web inquiry, mailed reply read back with a MIME parser, the
//! customer's mailed answer on the same case, a stranger's mail refused).

use oms_tests::{Stack, order_body};
use serde_json::{Value, json};

/// Letters only (a name word; digits would make the text an id).
fn word() -> String {
    ulid::Ulid::new()
        .to_string()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_digit() { (b'a' + (c as u8 - b'0')) as char } else { c })
        .take(12)
        .collect()
}

fn body_for(name: &str, email: &str, phone: &str, lines: Value) -> Value {
    let mut b = order_body(lines);
    b["email"] = json!(email);
    b["shippingAddress"]["name"] = json!(name);
    b["shippingAddress"]["phone"] = json!(phone);
    b
}

async fn search(s: &Stack, q: &str) -> anyhow::Result<Vec<String>> {
    let agent = s.scoped_token("agent-ann", "oms/agent");
    let path = format!("/v1/admin/customers?q={}", urlencode(q));
    let r = s.call("GET", &path, Some(&agent), None, &[]).await?;
    anyhow::ensure!(r.status == 200, "search {q}: {} {}", r.status, r.text);
    Ok(r.json()["customers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["customerId"].as_str().map(str::to_owned))
        .collect())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn agents_find_a_customer_every_way_they_ask_and_customers_cannot() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let w = word();
    let cust = format!("cust-{w}");
    let email = format!("zelda.{w}@example.com");
    let id = s
        .place(
            &cust,
            &body_for(
                &format!("Zelda {w}"),
                &email,
                "+1 (646) 555-0101",
                json!([{"sku": "MUG-CLASSIC", "quantity": 1}]),
            ),
        )
        .await?;
    let o = s.wait_for_status(&cust, &id, "ready_to_ship").await?;
    let tracking = o["shipments"][0]["trackingNumber"].as_str().unwrap_or_default().to_owned();
    // The profile is written from the order body by the stream: eventually found by phone.
    s.eventually("the profile", || async { Ok(search(&s, "646-555-0101").await?.contains(&cust)) }).await?;
    for q in [
        "+16465550101".to_owned(),
        email.to_uppercase(),
        w.chars().take(5).collect::<String>(),
        format!("zelda {w}"),
        id.clone(),
        tracking.clone(),
        cust.clone(),
    ] {
        assert_eq!(search(&s, &q).await?, vec![cust.clone()], "searching {q:?}");
    }
    assert!(search(&s, &format!("nobody{w}")).await?.is_empty());

    // Bad queries are 400 problems naming the field; customers get 403 from every agent read.
    let agent = s.scoped_token("agent-ann", "oms/agent");
    for path in
        ["/v1/admin/customers", "/v1/admin/customers?q=%20", &format!("/v1/admin/customers?q={}", "x".repeat(300))]
    {
        let r = s.call("GET", path, Some(&agent), None, &[]).await?;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_eq!(r.content_type(), "application/problem+json");
        assert_eq!(r.json()["field"], "q");
    }
    let customer = s.token(&cust);
    for path in [
        "/v1/admin/customers?q=zelda".to_owned(),
        format!("/v1/admin/customers/{cust}"),
        "/v1/admin/stock?sku=MUG-CLASSIC".to_owned(),
        "/v1/admin/products".to_owned(),
        "/v1/admin/locations".to_owned(),
        format!("/v1/admin/cases/{}", ulid::Ulid::new()),
    ]
    .into_iter()
    .chain(
        ["confirmation-calls", "on-hold", "returns-awaiting-receipt", "cases", "disputes"]
            .map(|q| format!("/v1/admin/queues/{q}")),
    ) {
        let r = s.call("GET", &path, Some(&customer), None, &[]).await?;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
    }
    // The warehouse reads stock but not customers.
    let wh = s.scoped_token("wh-1", "oms/warehouse");
    assert_eq!(s.call("GET", "/v1/admin/stock?sku=MUG-CLASSIC", Some(&wh), None, &[]).await?.status, 200);
    assert_eq!(s.call("GET", "/v1/admin/customers?q=zelda", Some(&wh), None, &[]).await?.status, 403);
    Ok(())
}

#[tokio::test]
async fn the_customer_window_has_orders_ledger_cases_notes_and_tips_on_one_page() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let w = word();
    let (a, b) = (format!("cust-a-{w}"), format!("cust-b-{w}"));
    let admin = s.admin_token();
    // Another customer's history: mugs go with desk lamps.
    s.place(
        &b,
        &body_for(
            "Bo Other",
            &format!("bo.{w}@example.com"),
            "+1 212 555 0111",
            json!([{"sku": "MUG-CLASSIC", "quantity": 1}, {"sku": "DESK-LAMP", "quantity": 1}]),
        ),
    )
    .await?;
    let email = format!("ann.{w}@example.com");
    let delivered = s.delivered_order(&a, &email, json!([{"sku": "MUG-CLASSIC", "quantity": 2}])).await?;
    let other = s
        .place(&a, &body_for("Ann Lee", &email, "+1 212 555 0122", json!([{"sku": "SOCKS-3PK", "quantity": 1}])))
        .await?;
    let r = s
        .call(
            "POST",
            &format!("/v1/admin/orders/{other}/hold"),
            Some(&admin),
            Some(&json!({"reason": "address check"})),
            &[],
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .call(
            "POST",
            &format!("/v1/admin/orders/{delivered}/notes"),
            Some(&admin),
            Some(&json!({"text": "prefers mornings"})),
            &[],
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let case = json!({"orderId": delivered, "kind": "complaint", "subject": "Mug chipped"});
    assert_eq!(s.call("POST", "/v1/admin/cases", Some(&admin), Some(&case), &[]).await?.status, 201);

    // The preview changes nothing; the refund then does what it said.
    let before = s.order(&a, &delivered).await?;
    let refund = json!({"amount": {"amount": 500, "currency": "USD"}, "reason": "chipped mug"});
    let p = s
        .call("POST", &format!("/v1/admin/orders/{delivered}/refunds/preview"), Some(&admin), Some(&refund), &[])
        .await?;
    assert_eq!(p.status, 200, "{}", p.text);
    let p = p.json();
    let captured = before["payment"]["captured"]["amount"].as_i64().unwrap_or(0);
    assert!(captured > 500);
    assert_eq!(p["refundableBefore"]["amount"], captured);
    assert_eq!(p["refundableAfter"]["amount"], captured - 500);
    assert_eq!(p["allowed"], true);
    assert_eq!(s.order(&a, &delivered).await?["version"], before["version"], "a preview writes nothing");
    let too_much = json!({"amount": {"amount": captured + 1, "currency": "USD"}, "reason": "x"});
    let p = s
        .call("POST", &format!("/v1/admin/orders/{delivered}/refunds/preview"), Some(&admin), Some(&too_much), &[])
        .await?;
    assert_eq!(p.json()["allowed"], false);
    let r = s
        .call(
            "POST",
            &format!("/v1/admin/orders/{delivered}/refunds"),
            Some(&admin),
            Some(&refund),
            &[("Idempotency-Key", "gw-1")],
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.text);

    let agent = s.scoped_token("agent-ann", "oms/agent");
    let mut win = Value::Null;
    for _ in 0..100 {
        let r = s.call("GET", &format!("/v1/admin/customers/{a}"), Some(&agent), None, &[]).await?;
        win = r.json();
        if r.status == 200 && win["customer"]["phones"].as_array().is_some_and(|p| !p.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(win["customer"]["name"], "Ann Lee");
    assert_eq!(win["customer"]["emails"], json!([email]));
    let orders = win["orders"].as_array().cloned().unwrap_or_default();
    assert_eq!(orders.len(), 2);
    let d = orders.iter().find(|o| o["orderId"] == delivered.as_str()).cloned().unwrap_or_default();
    assert_eq!(d["payment"]["captured"]["amount"], captured);
    assert_eq!(d["payment"]["refunded"]["amount"], 500);
    assert_eq!(win["lifetimeValue"]["amount"], captured - 500);
    assert!(orders.iter().any(|o| o["orderId"] == other.as_str() && o["status"] == "on_hold"));
    assert_eq!(win["notes"][0]["note"], "prefers mornings");
    assert_eq!(win["cases"][0]["subject"], "Mug chipped");
    let tips: Vec<&str> = win["tips"].as_array().into_iter().flatten().filter_map(|t| t["sku"].as_str()).collect();
    assert!(tips.contains(&"DESK-LAMP"), "bought with mugs by others: {tips:?}");
    assert_eq!(s.call("GET", &format!("/v1/admin/customers/nobody-{w}"), Some(&agent), None, &[]).await?.status, 404);
    Ok(())
}

#[tokio::test]
async fn a_confirmation_call_holds_fulfillment_until_an_agent_confirms() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let w = word();
    let cust = format!("cust-{w}");
    let agent = s.scoped_token("agent-ann", "oms/agent");
    let supervisor = s.scoped_token("sup-1", "oms/supervisor");
    let rule = json!({"enabled": true, "minTotal": {"amount": 40000, "currency": "USD"}, "firstOrder": false, "withServices": true, "timeoutMinutes": 120, "onTimeout": "release"});
    let path = "/v1/admin/settings/confirmation-calls";
    assert_eq!(s.call("PUT", path, Some(&agent), Some(&rule), &[]).await?.status, 403, "agents do not set the rule");
    let bad = json!({"enabled": true, "timeoutMinutes": 0});
    let r = s.call("PUT", path, Some(&supervisor), Some(&bad), &[]).await?;
    assert_eq!((r.status, r.json()["field"].clone()), (400, json!("timeoutMinutes")));
    assert_eq!(s.call("PUT", path, Some(&supervisor), Some(&rule), &[]).await?.status, 200);
    assert_eq!(s.call("GET", path, Some(&agent), None, &[]).await?.json(), rule);

    let tv = s.place(&cust, &order_body(json!([{"sku": "TV-55", "quantity": 1}]))).await?;
    let mug = s.place(&cust, &order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]))).await?;
    s.wait_for_status(&cust, &mug, "ready_to_ship").await?;
    let o = s.order(&cust, &tv).await?;
    assert_eq!(o["status"], "awaiting_confirmation");
    assert_eq!(s.customer_order(&cust, &tv).await?["status"], "placed", "the buyer sees a placed order");
    let q = s.call("GET", "/v1/admin/queues/confirmation-calls", Some(&agent), None, &[]).await?.json();
    let item =
        q["items"].as_array().into_iter().flatten().find(|i| i["orderId"] == tv.as_str()).cloned().unwrap_or_default();
    assert!(item["reason"].as_str().unwrap_or("").contains("at or above"), "{item}");
    assert!(item["confirmBy"].is_string());
    // Nothing moves while it waits; the agent's confirm starts fulfillment, once.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(s.order(&cust, &tv).await?["status"], "awaiting_confirmation");
    let r = s
        .call(
            "POST",
            &format!("/v1/admin/orders/{tv}/confirm"),
            Some(&agent),
            Some(&json!({"note": "spoke to Ann"})),
            &[],
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let again = s.call("POST", &format!("/v1/admin/orders/{tv}/confirm"), Some(&agent), None, &[]).await?;
    assert_eq!(again.status, 200, "a repeated confirm answers the order: {}", again.text);
    let o = s.wait_for_status(&cust, &tv, "ready_to_ship").await?;
    let kinds: Vec<&str> = o["timeline"].as_array().into_iter().flatten().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "order.confirmed_by_call").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "labels.created").count(), 1, "the workflow ran once: {kinds:?}");
    // An order that never waited cannot be confirmed; a cancelled one neither.
    let r = s.call("POST", &format!("/v1/admin/orders/{mug}/confirm"), Some(&agent), None, &[]).await?;
    assert_eq!(r.status, 409, "{}", r.text);
    let svc = s
        .place(&cust, &order_body(json!([{"sku": "TV-55", "quantity": 1}, {"sku": "INSTALL-TV", "quantity": 1}])))
        .await?;
    assert_eq!(s.order(&cust, &svc).await?["status"], "awaiting_confirmation");
    let r = s.call("POST", &format!("/v1/orders/{svc}/cancel"), Some(&s.token(&cust)), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.call("POST", &format!("/v1/admin/orders/{svc}/confirm"), Some(&agent), None, &[]).await?.status, 409);
    Ok(())
}

#[tokio::test]
async fn inquiries_by_web_and_by_mail_stay_on_one_case_and_replies_are_mailed() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let w = word();
    let cust = format!("cust-{w}");
    let email = format!("ivy.{w}@example.com");
    let mut body = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
    body["email"] = json!(email);
    let id = s.place(&cust, &body).await?;
    let ask = json!({"kind": "inquiry", "subject": "Gift wrap?", "message": "Can you wrap it?"});
    // Only the order's customer (or staff) may ask about it.
    let r =
        s.call("POST", &format!("/v1/orders/{id}/inquiries"), Some(&s.token("someone-else")), Some(&ask), &[]).await?;
    assert_eq!(r.status, 404);
    let r = s
        .call(
            "POST",
            &format!("/v1/orders/{id}/inquiries"),
            Some(&s.token(&cust)),
            Some(&json!({"kind": "dispute", "subject": "x", "message": "y"})),
            &[],
        )
        .await?;
    assert_eq!(r.status, 400);
    let r = s.call("POST", &format!("/v1/orders/{id}/inquiries"), Some(&s.token(&cust)), Some(&ask), &[]).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["caseId"].as_str().unwrap_or_default().to_owned();
    assert_eq!(r.json()["messages"][0]["body"], "Can you wrap it?");
    assert!(r.json().get("openedBy").is_none(), "the customer's projection");

    let agent = s.scoped_token("agent-ann", "oms/agent");
    let r = s
        .call(
            "POST",
            &format!("/v1/admin/cases/{case}/replies"),
            Some(&agent),
            Some(&json!({"message": "Yes, in blue paper."})),
            &[],
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.text);
    // The reply arrives as mail (read back with a MIME parser by the runner).
    let mut reply = Value::Null;
    for _ in 0..100 {
        let all = oms_local::mail(&s.local.moto_endpoint).await?;
        let found = all
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["to"].to_string().contains(&email) && m["subject"].as_str().unwrap_or("").contains(&case));
        if let Some(m) = found {
            reply = m.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(reply["body"].as_str().unwrap_or("").contains("Yes, in blue paper."), "{reply}");

    // The customer answers by mail: on the same case. A mail naming only the order opens a new
    // inquiry; a stranger's mail naming the order is refused and lands nowhere.
    let mail = |from: &str, subject: &str, text: &str| {
        format!(
            "From: {from}\r\nTo: support@shop.example\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        )
    };
    let inbound = |raw: String| {
        let s = &s;
        async move { s.http.post(s.url("/dev/inbound-mail")).body(raw).send().await }
    };
    let r = inbound(mail(
        &format!("Ivy <{}>", email.to_uppercase()),
        &format!("Re: Gift wrap? [case {case}]"),
        "Lovely, thanks!\r\n\r\nOn Mon, Shop wrote:\r\n> Yes, in blue paper.",
    ))
    .await?;
    assert_eq!(r.status(), 202);
    let r = inbound(mail(&email, "Another question", &format!("About order {id}: can I pay by invoice?"))).await?;
    assert_eq!(r.status(), 202);
    let second = r.json::<Value>().await?["caseId"].as_str().unwrap_or_default().to_owned();
    assert_ne!(second, case);
    let r = inbound(mail("mallory@evil.example", "Order", &format!("Cancel order {id}"))).await?;
    assert_eq!(r.status(), 422);
    assert_eq!(inbound("garbage".into()).await?.status(), 400);

    let c = s.call("GET", &format!("/v1/admin/cases/{case}"), Some(&agent), None, &[]).await?.json();
    let msgs: Vec<(&str, &str)> = c["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| (m["from"].as_str().unwrap_or(""), m["body"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        msgs,
        vec![("customer", "Can you wrap it?"), ("agent", "Yes, in blue paper."), ("customer", "Lovely, thanks!")]
    );
    let cases = s.call("GET", &format!("/v1/admin/orders/{id}/cases"), Some(&agent), None, &[]).await?.json();
    assert_eq!(cases["cases"].as_array().map(Vec::len), Some(2), "the stranger's mail opened nothing");

    // The same mail delivered twice (one Message-ID) opens one case; two senders are refused.
    let twice = format!(
        "From: {email}\r\nMessage-ID: <abc.{case}@mail.example>\r\nSubject: Order {id}\r\n\r\nDid it ship?\r\n"
    );
    let a = inbound(twice.clone()).await?.json::<Value>().await?;
    let b = inbound(twice).await?.json::<Value>().await?;
    assert_eq!(a["caseId"], b["caseId"]);
    let two = format!("From: {email}, mallory@evil.example\r\nSubject: Order {id}\r\n\r\nHi\r\n");
    assert_eq!(inbound(two).await?.status(), 400);

    // Two replies a moment apart: each mail carries its own words.
    for text in ["FIRST: refund approved", "SECOND: and a coupon"] {
        let r = s
            .call(
                "POST",
                &format!("/v1/admin/cases/{case}/replies"),
                Some(&agent),
                Some(&json!({"message": text})),
                &[],
            )
            .await?;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let mut bodies: Vec<String> = Vec::new();
    for _ in 0..100 {
        let all = oms_local::mail(&s.local.moto_endpoint).await?;
        bodies = all
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["to"].to_string().contains(&email))
            .filter_map(|m| m["body"].as_str().map(str::to_owned))
            .collect();
        if bodies.iter().any(|b| b.contains("SECOND")) && bodies.iter().any(|b| b.contains("FIRST")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for text in ["FIRST: refund approved", "SECOND: and a coupon"] {
        assert_eq!(bodies.iter().filter(|b| b.contains(text)).count(), 1, "{text} in {bodies:?}");
    }

    // A few open conversations per order; a flood is refused.
    let t = s.token(&cust);
    let mut refused = 0;
    for i in 0..6 {
        let ask = json!({"kind": "inquiry", "subject": format!("Q{i}"), "message": "?"});
        let r = s.call("POST", &format!("/v1/orders/{id}/inquiries"), Some(&t), Some(&ask), &[]).await?;
        if r.status == 409 {
            assert_eq!(r.json()["type"], "urn:oms:problem:too-many-open-cases");
            refused += 1;
        }
    }
    assert!(refused >= 3, "five open cases at most: {refused} refused");
    // Cases and queues are for customer service, not for the warehouse or integrations.
    for token in [s.scoped_token("wh-1", "oms/warehouse"), s.scoped_token("erp", "oms/integration")] {
        for path in [
            format!("/v1/admin/cases/{case}"),
            format!("/v1/admin/orders/{id}/cases"),
            "/v1/admin/queues/on-hold".into(),
        ] {
            assert_eq!(s.call("GET", &path, Some(&token), None, &[]).await?.status, 403, "{path}");
        }
    }
    Ok(())
}
