//! Payment recovery, from outside: a declined order waits `payment_required` with its stock
//! held and the customer asked (by mail, read with a MIME parser) for another payment method
//! before a deadline; a new token resumes the workflow to shipping, a second decline asks again
//! with the same deadline; an order nobody pays for is cancelled at the deadline with its stock
//! released and a mail. The decline code reaches agents, never the customer.

use chrono::{DateTime, Duration, Utc};
use oms_shared::ports::Clock;
use oms_tests::{Stack, order_body};
use serde_json::{Value, json};
use std::sync::Arc;

struct At(DateTime<Utc>);
impl Clock for At {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn declined_body(email: &str, sku: &str) -> Value {
    let mut b = order_body(json!([{"sku": sku, "quantity": 1}]));
    b["paymentToken"] = json!("tok_chargeDeclined");
    b["email"] = json!(email);
    b
}

/// Text bodies of the mails to `email` with `subject`, parsed as MIME.
async fn mails(s: &Stack, email: &str, subject: &str) -> anyhow::Result<Vec<String>> {
    let all = oms_local::mail(&s.local.moto_endpoint).await?;
    Ok(all
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["to"].to_string().contains(email))
        .filter_map(|m| mail_parser::MessageParser::default().parse(m["raw"].as_str().unwrap_or_default().as_bytes()))
        .filter(|m| m.subject() == Some(subject))
        .map(|m| m.body_text(0).unwrap_or_default().to_string())
        .collect())
}

async fn wait_mails(s: &Stack, email: &str, subject: &str, n: usize) -> anyhow::Result<Vec<String>> {
    s.eventually(&format!("{n} x {subject}"), || async { Ok(mails(s, email, subject).await?.len() >= n) }).await?;
    mails(s, email, subject).await
}

async fn pay(s: &Stack, customer: &str, id: &str, body: &Value) -> anyhow::Result<oms_tests::Reply> {
    s.call("POST", &format!("/v1/orders/{id}/payment"), Some(&s.token(customer)), Some(body), &[]).await
}

#[tokio::test]
async fn a_declined_order_waits_with_its_stock_and_ships_after_a_new_payment_method() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let email = format!("recover-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    let before = s.available("DESK-LAMP", "WH-TX").await?;
    let id = s.place("cust-pay", &declined_body(&email, "DESK-LAMP")).await?;
    let staff = s.wait_for_status("cust-pay", &id, "payment_required").await?;
    // Agents see why and until when; the units stay allocated to the order.
    assert_eq!(staff["payment"]["recovery"]["reason"], "card_declined", "{staff}");
    assert_eq!(staff["payment"]["recovery"]["attempts"], 0);
    let due = staff["payment"]["recovery"]["dueBy"].as_str().unwrap_or_default().to_owned();
    let due_at: DateTime<Utc> = due.parse()?;
    assert!(due_at > Utc::now() + Duration::hours(23), "24 hours by default: {due}");
    let held = s.available("DESK-LAMP", "WH-TX").await?;
    assert_eq!(held.0, before.0 - 1, "the unit stays set aside for the order: {before:?} -> {held:?}");
    // The customer sees the status and the deadline, never the provider's code.
    let mine = s.customer_order("cust-pay", &id).await?;
    assert_eq!(
        (mine["status"].as_str(), mine["paymentDueBy"].as_str()),
        (Some("payment_required"), Some(due.as_str()))
    );
    assert!(!mine.to_string().contains("card_declined"), "{mine}");
    let asked = wait_mails(&s, &email, "There is a problem with your payment", 1).await?;
    assert!(asked[0].contains("another payment method") && asked[0].contains(&id), "{}", asked[0]);

    // Hostile and wrong requests change nothing.
    let v = s.order("cust-pay", &id).await?["version"].clone();
    for (body, status, field) in [
        (json!({}), 400, "paymentToken"),
        (json!({"paymentToken": ""}), 400, "paymentToken"),
        (json!({"paymentToken": "tok visa"}), 400, "paymentToken"),
        (json!({"paymentToken": "x".repeat(300)}), 400, "paymentToken"),
        (json!({"paymentToken": "tok_visa", "amount": 1}), 400, ""),
        (json!({"paymentToken": ["tok_visa"]}), 400, ""),
    ] {
        let r = pay(&s, "cust-pay", &id, &body).await?;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert_eq!(r.content_type(), "application/problem+json");
        assert!(r.text.contains(field), "{body}: {}", r.text);
    }
    let r = pay(&s, "cust-other", &id, &json!({"paymentToken": "tok_visa"})).await?;
    assert_eq!(r.status, 404, "another customer's order: {}", r.text);
    assert_eq!(s.order("cust-pay", &id).await?["version"], v, "nothing written");

    // A second card is declined too: asked again, same deadline, its own authorization key.
    let r = pay(&s, "cust-pay", &id, &json!({"paymentToken": "tok_chargeDeclinedInsufficientFunds"})).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["status"], "allocated");
    s.eventually("the second decline", || async {
        let o = s.order("cust-pay", &id).await?;
        Ok(o["status"] == "payment_required" && o["payment"]["recovery"]["attempts"] == 1)
    })
    .await?;
    let o = s.order("cust-pay", &id).await?;
    assert_eq!(o["payment"]["recovery"]["reason"], "insufficient_funds");
    assert_eq!(o["payment"]["recovery"]["dueBy"].as_str(), Some(due.as_str()), "the deadline is not extended");
    wait_mails(&s, &email, "There is a problem with your payment", 2).await?;

    // A good card: authorized, labelled, shipped. The same request again answers the same.
    let r = pay(&s, "cust-pay", &id, &json!({"paymentToken": "tok_visa"})).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let again = pay(&s, "cust-pay", &id, &json!({"paymentToken": "tok_visa"})).await?;
    assert_eq!(again.status, 200, "a retried request: {}", again.text);
    let ready = s.wait_for_status("cust-pay", &id, "ready_to_ship").await?;
    assert_eq!(ready["payment"]["authorized"]["amount"], ready["totals"]["total"]["amount"], "{ready}");
    assert_eq!(ready["payment"]["recovery"]["attempts"], 2, "{ready}");
    let tracking = ready["shipments"][0]["trackingNumber"].as_str().unwrap_or_default().to_owned();
    let r = s.carrier_event(&format!("evt-{id}"), &tracking, "in_transit").await?;
    assert!(r.status < 300, "{}", r.text);
    s.wait_for_status("cust-pay", &id, "shipped").await?;
    let mine = s.customer_order("cust-pay", &id).await?;
    assert!(mine.get("paymentDueBy").is_none(), "no deadline once paid: {mine}");
    let kinds: Vec<&str> =
        mine["timeline"].as_array().into_iter().flatten().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"payment.method_updated") && kinds.contains(&"order.payment_declined"), "{kinds:?}");
    // Once paid, another method is refused.
    let r = pay(&s, "cust-pay", &id, &json!({"paymentToken": "tok_mastercard"})).await?;
    assert_eq!(r.status, 409, "{}", r.text);
    let total = ready["totals"]["total"]["amount"].as_i64().unwrap_or(0);
    assert_eq!(s.local.payments.captured_total(), total, "one authorization (the third card), captured at shipping");
    let tried: Vec<String> = s
        .local
        .payments
        .calls
        .lock()
        .map(|c| c.iter().filter(|x| x.0 == "authorize").map(|x| x.1.clone()).collect())
        .unwrap_or_default();
    assert_eq!(
        tried,
        ["tok_chargeDeclined", "tok_chargeDeclinedInsufficientFunds", "tok_visa"],
        "each card tried once"
    );
    Ok(())
}

#[tokio::test]
async fn an_order_nobody_pays_for_is_cancelled_at_its_deadline_with_its_stock_released() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let email = format!("unpaid-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    let before = s.available("SOCKS-3PK", "WH-NJ").await?;
    let id = s.place("cust-unpaid", &declined_body(&email, "SOCKS-3PK")).await?;
    let o = s.wait_for_status("cust-unpaid", &id, "payment_required").await?;
    let due: DateTime<Utc> = o["payment"]["recovery"]["dueBy"].as_str().unwrap_or_default().parse()?;
    // Before the deadline the sweep leaves it alone.
    let mut early = s.local.oms.clone();
    early.clock = Arc::new(At(due - Duration::minutes(5)));
    early.sweep_payments().await?;
    assert_eq!(s.order("cust-unpaid", &id).await?["status"], "payment_required");
    // After it: cancelled, the unit back, the customer told; a late payment is refused.
    let mut late = s.local.oms.clone();
    late.clock = Arc::new(At(due + Duration::minutes(1)));
    assert!(late.sweep_payments().await? >= 1);
    let o = s.order("cust-unpaid", &id).await?;
    assert_eq!(o["status"], "cancelled", "{o}");
    assert!(o["statusReason"].as_str().unwrap_or_default().starts_with("payment not received"), "{o}");
    assert_eq!(s.available("SOCKS-3PK", "WH-NJ").await?, before, "the unit is released");
    let cancelled = wait_mails(&s, &email, "Your order is cancelled", 1).await?;
    assert!(cancelled[0].contains(&id), "{}", cancelled[0]);
    let r = pay(&s, "cust-unpaid", &id, &json!({"paymentToken": "tok_visa"})).await?;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(late.sweep_payments().await? == 0 || s.order("cust-unpaid", &id).await?["status"] == "cancelled");
    Ok(())
}

#[tokio::test]
async fn a_payment_after_the_deadline_is_refused_and_a_cancel_or_hold_stops_the_wait() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let email = format!("late-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    let id = s.place("cust-late", &declined_body(&email, "DESK-LAMP")).await?;
    let run = s.local.workflow.run(&id).await;
    assert!(run.result.is_ok(), "the run ends waiting, not failed: {:?}", run.result);
    let o = s.order("cust-late", &id).await?;
    assert_eq!(o["status"], "payment_required", "{o}");
    // The step run again (a retry) changes nothing and ends the same way.
    assert!(s.local.workflow.run(&id).await.result.is_ok());
    assert_eq!(s.order("cust-late", &id).await?["version"], o["version"]);
    // Past the deadline (before the sweep ran) the new method is refused.
    let due: DateTime<Utc> = o["payment"]["recovery"]["dueBy"].as_str().unwrap_or_default().parse()?;
    let mut late = s.local.oms.clone();
    late.clock = Arc::new(At(due + Duration::seconds(1)));
    let caller = oms_shared::app::Caller::customer(oms_shared::domain::CustomerId::parse("cust-late")?);
    let oid = oms_shared::domain::OrderId::parse(&id)?;
    let req = oms_shared::app::orders::PaymentRequest { payment_token: "tok_visa".into() };
    let err = late.submit_payment(&caller, &oid, None, req).await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("waited for payment"), "{err}");
    // An agent's hold stops the customer's payment (the agent is on it); release returns it.
    let admin = s.admin_token();
    let r = s
        .call(
            "POST",
            &format!("/v1/admin/orders/{id}/hold"),
            Some(&admin),
            Some(&json!({"reason": "call the customer"})),
            &[],
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = pay(&s, "cust-late", &id, &json!({"paymentToken": "tok_visa"})).await?;
    assert_eq!((r.status, r.json()["type"].as_str()), (409, Some("urn:oms:problem:order-under-review")), "{}", r.text);
    assert_eq!(s.customer_order("cust-late", &id).await?["status"], "payment_required", "the hold is internal");
    let r = s.call("POST", &format!("/v1/admin/orders/{id}/release-hold"), Some(&admin), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.order("cust-late", &id).await?["status"], "payment_required");
    // The customer cancels instead: the stock goes back, the payment route refuses.
    let r = s.call("POST", &format!("/v1/orders/{id}/cancel"), Some(&s.token("cust-late")), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = pay(&s, "cust-late", &id, &json!({"paymentToken": "tok_visa"})).await?;
    assert_eq!(r.status, 409, "{}", r.text);
    Ok(())
}
