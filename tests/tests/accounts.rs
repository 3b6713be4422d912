//! Orders on account (B2B), from outside: a company's buyer orders with a purchase-order number
//! instead of a card; the company's credit is drawn in the same commit as the order, so orders
//! over the limit are refused with nothing written, even when they race; a cancel gives the
//! credit back; the invoice is due at the company's terms; finance records payments.

use oms_tests::{Stack, order_body};
use serde_json::{Value, json};

fn on_account(sku: &str, qty: u32, po: &str) -> Value {
    let mut b = order_body(json!([{"sku": sku, "quantity": qty}]));
    b.as_object_mut().map(|o| o.remove("paymentToken"));
    b["purchaseOrder"] = json!({"companyId": "acme", "number": po});
    b
}

async fn company(s: &Stack) -> anyhow::Result<Value> {
    let finance = s.scoped_token("fin-1", "oms/finance");
    Ok(s.call("GET", "/v1/admin/companies/acme", Some(&finance), None, &[]).await?.json())
}

#[tokio::test]
async fn a_buyer_orders_on_account_within_the_credit_limit_and_never_past_it() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let finance = s.scoped_token("fin-1", "oms/finance");
    let account = json!({"name": "Acme GmbH", "creditLimit": {"amount": 10000, "currency": "USD"},
        "buyers": ["buyer-1", "buyer-2"], "paymentTermsDays": 30});
    for (token, status) in [(s.scoped_token("agent-1", "oms/agent"), 403), (s.token("buyer-1"), 403)] {
        let r = s.call("PUT", "/v1/admin/companies/acme", Some(&token), Some(&account), &[]).await?;
        assert_eq!(r.status, status, "{}", r.text);
    }
    for (body, field) in [
        (json!({"name": "", "creditLimit": {"amount": 1, "currency": "USD"}, "buyers": []}), "name"),
        (
            json!({"name": "A", "creditLimit": {"amount": 1, "currency": "USD"}, "buyers": [], "paymentTermsDays": 0}),
            "paymentTermsDays",
        ),
        (json!({"name": "A", "creditLimit": {"amount": 1, "currency": "USD"}, "buyers": [" x"]}), "buyers"),
    ] {
        let r = s.call("PUT", "/v1/admin/companies/acme", Some(&finance), Some(&body), &[]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (400, Some(field)), "{body}: {}", r.text);
    }
    let r = s.call("PUT", "/v1/admin/companies/acme", Some(&finance), Some(&account), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["available"]["amount"], 10000);

    // A buyer's order on account: no card, the credit drawn, the order goes on to ship.
    let id = s.place("buyer-1", &on_account("MUG-CLASSIC", 1, "PO-1")).await?;
    let o = s.wait_for_status("buyer-1", &id, "ready_to_ship").await?;
    let total = o["totals"]["total"]["amount"].as_i64().unwrap_or_default();
    assert_eq!(o["payment"]["authorizationId"], "trm_acme_PO-1", "{o}");
    assert_eq!(company(&s).await?["exposure"], total);

    // Refused with nothing written: not a buyer, a card as well, over the limit.
    let before = s.available("TV-55", "WH-NJ").await?;
    let t = s.token("buyer-1");
    let stranger = s.token("someone-else");
    let mut with_card = on_account("MUG-CLASSIC", 1, "PO-2");
    with_card["paymentToken"] = json!("tok_visa");
    for (token, body, status, field) in [
        (&stranger, on_account("MUG-CLASSIC", 1, "PO-2"), 400, "purchaseOrder.companyId"),
        (&t, with_card, 400, "purchaseOrder"),
        (&t, on_account("MUG-CLASSIC", 1, "PO 2"), 400, "purchaseOrder.number"),
        (&t, on_account("TV-55", 1, "PO-3"), 422, "purchaseOrder"),
    ] {
        let r = s
            .call(
                "POST",
                "/v1/orders",
                Some(token),
                Some(&body),
                &[("Idempotency-Key", &format!("k-{field}-{status}"))],
            )
            .await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (status, Some(field)), "{body}: {}", r.text);
    }
    assert_eq!(s.available("TV-55", "WH-NJ").await?, before, "no stock held for a refused order");
    assert_eq!(company(&s).await?["exposure"], total, "no credit drawn");

    // Buyers racing for the rest of the credit: exactly the orders that fit are placed.
    let left = 10000 - total;
    let fits = left / total;
    let bodies: Vec<Value> = (0..fits + 3).map(|i| on_account("MUG-CLASSIC", 1, &format!("PO-R{i}"))).collect();
    let tokens = [s.token("buyer-1"), s.token("buyer-2")];
    let stack = &s;
    let calls = bodies.iter().enumerate().map(|(i, b)| {
        let key = format!("race-{i}");
        let token = tokens[i % 2].clone();
        async move { stack.call("POST", "/v1/orders", Some(&token), Some(b), &[("Idempotency-Key", &key)]).await }
    });
    let replies = futures::future::join_all(calls).await;
    let mut placed = Vec::new();
    for r in replies {
        let r = r?;
        match r.status {
            201 => placed.push(r.json()["orderId"].as_str().unwrap_or_default().to_owned()),
            422 => assert!(r.text.contains("credit-limit-exceeded"), "{}", r.text),
            other => anyhow::bail!("{other}: {}", r.text),
        }
    }
    assert_eq!(placed.len() as i64, fits, "exactly the orders that fit");
    let c = company(&s).await?;
    assert_eq!(c["exposure"], total * (1 + fits), "{c}");
    assert!(c["exposure"].as_i64().unwrap_or(i64::MAX) <= 10000);

    // A cancel gives its credit back; an edit of an order on account is refused.
    let cancelled = placed[0].clone();
    let owner = if s.order("buyer-1", &cancelled).await?["customerId"] == "buyer-1" { "buyer-1" } else { "buyer-2" };
    let edit = json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 3}]});
    // The workflow is still moving the order on, so a version read may be stale by the PATCH: an
    // edit at the version it then has is refused as an account order.
    let mut r = None;
    for _ in 0..20 {
        let v = s.order(owner, &cancelled).await?["version"].as_u64().unwrap_or(0).to_string();
        let path = format!("/v1/orders/{cancelled}");
        let reply = s.call("PATCH", &path, Some(&s.token(owner)), Some(&edit), &[("If-Match", &v)]).await?;
        if reply.status != 412 {
            r = Some(reply);
            break;
        }
    }
    let r = r.ok_or_else(|| anyhow::anyhow!("the order never held still for an edit"))?;
    assert_eq!((r.status, r.json()["type"].as_str()), (409, Some("urn:oms:problem:account-order")), "{}", r.text);
    let r = s.call("POST", &format!("/v1/orders/{cancelled}/cancel"), Some(&s.token(owner)), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(company(&s).await?["exposure"], total * fits);

    // Shipped: the invoice is due at the terms (30 days), not paid by card.
    let tracking = o["shipments"][0]["trackingNumber"].as_str().unwrap_or_default().to_owned();
    let r = s.carrier_event(&format!("evt-{id}"), &tracking, "in_transit").await?;
    assert!(r.status < 300, "{}", r.text);
    s.wait_for_status("buyer-1", &id, "shipped").await?;
    let oid = oms_shared::domain::OrderId::parse(&id)?;
    s.eventually("the invoice", || async { Ok(!s.local.oms.store.documents_of_order(&oid).await?.is_empty()) }).await?;
    let number = s.local.oms.store.documents_of_order(&oid).await?[0].number.clone();
    let due = s.local.oms.store.get_invoice(&number).await?.and_then(|i| i.due_on);
    assert_eq!(due, Some(chrono::Utc::now().date_naive() + chrono::Duration::days(30)));

    // Finance records the company's payment: the credit is free again.
    let pay = json!({"amount": {"amount": total, "currency": "USD"}});
    let r = s.call("POST", "/v1/admin/companies/acme/payments", Some(&finance), Some(&pay), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["exposure"], total * (fits - 1));
    // More than the account owes is refused whole: the excess would vanish (exposure stops at 0).
    let over = json!({"amount": {"amount": total * fits, "currency": "USD"}});
    let r = s.call("POST", "/v1/admin/companies/acme/payments", Some(&finance), Some(&over), &[]).await?;
    assert_eq!((r.status, r.json()["type"].as_str()), (422, Some("urn:oms:problem:overpayment")), "{}", r.text);
    assert_eq!(r.json()["field"], "amount");
    assert_eq!(company(&s).await?["exposure"], total * (fits - 1));
    Ok(())
}
