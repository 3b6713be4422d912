//! Carrier webhooks, the tracking consumer, the notifier and cart reminders on DynamoDB Local
//! and moto (SQS, SES v2), with the local queue workers delivering real SQS batches.

use oms_tests::Stack;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn signed_carrier_events_drive_an_order_to_delivered_with_one_capture_and_three_mails() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    let email = "journey-5@example.com";
    let (id, tracking) = s.ready_order("cust-j5", email, json!([{"sku": "TV-55", "quantity": 1}])).await?;
    let total = s.order("cust-j5", &id).await?["totals"]["total"]["amount"].as_i64().unwrap();
    assert_eq!(s.carrier_event("evt_1", &tracking[0], "in_transit").await?.status, 200);
    s.wait_for_status("cust-j5", &id, "shipped").await?;
    assert_eq!(s.carrier_event("evt_2", &tracking[0], "delivered").await?.status, 200);
    let o = s.wait_for_status("cust-j5", &id, "delivered").await?;
    assert_eq!(o["shipments"][0]["status"], "delivered");
    assert_eq!(s.local.payments.captured_total(), total);
    assert_eq!(s.local.payments.calls.lock().unwrap().iter().filter(|c| c.0 == "capture").count(), 1);
    assert_eq!(s.available("TV-55", "WH-NJ").await?, (7, 0, 0), "the unit left the building");
    let want = vec!["Your order is confirmed", "Your order has shipped", "Your order was delivered"];
    s.eventually("three mails and the invoice", || async { Ok(s.mail_to(email).await?.len() >= 4) }).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mail = s.mail_to(email).await?;
    // The invoice follows the capture's commit on its own, in any place among the others.
    let (docs, others): (Vec<String>, Vec<String>) = mail.into_iter().partition(|m| m.starts_with("Your invoice INV-"));
    assert_eq!(others, want);
    assert_eq!(docs.len(), 1, "one invoice for the one capture: {docs:?}");
    Ok(())
}

#[tokio::test]
async fn bad_webhooks_are_refused_and_change_nothing() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    let (id, tracking) =
        s.ready_order("cust-w", "w@example.com", json!([{"sku": "MUG-CLASSIC", "quantity": 1}])).await?;
    let body = oms_local::carrier_event("evt_bad", &tracking[0], "in_transit", None).to_string();
    let sign = |b: &str| Some(oms_shared::app::webhooks::sign(oms_local::WEBHOOK_SECRET, b.as_bytes()));
    let unknown = oms_local::carrier_event("evt_u", "SBX000", "in_transit", None).to_string();
    let cases: Vec<(&str, String, Option<String>, u16)> = vec![
        ("no signature", body.clone(), None, 401),
        ("wrong secret", body.clone(), Some(oms_shared::app::webhooks::sign("guess", body.as_bytes())), 401),
        ("tampered body", body.replace("in_transit", "delivered"), sign(&body), 401),
        ("malformed json", "{nope".to_owned(), sign("{nope"), 400),
        ("unknown tracking", unknown.clone(), sign(&unknown), 422),
    ];
    for (name, body, sig, status) in cases {
        let r = s.raw_webhook("sandbox", &body, sig.as_deref()).await?;
        assert_eq!(r.status, status, "{name}: {}", r.text);
        assert_eq!(r.content_type(), "application/problem+json", "{name}");
    }
    assert_eq!(
        s.raw_webhook(
            "fedex-ish",
            &body,
            Some(&oms_shared::app::webhooks::sign(oms_local::WEBHOOK_SECRET, body.as_bytes()))
        )
        .await?
        .status,
        404
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.queue_depth("TrackingQueue").await?, 0, "nothing enqueued");
    assert_eq!(s.order("cust-w", &id).await?["status"], "ready_to_ship", "nothing written");
    // A valid event signed with the rotated-in secret is accepted; its replay is a no-op.
    let sig = oms_shared::app::webhooks::sign(oms_local::WEBHOOK_SECRET_NEXT, body.as_bytes());
    let r = s.raw_webhook("sandbox", &body, Some(&sig)).await?;
    assert_eq!((r.status, r.json()["received"].clone()), (200, json!("enqueued")));
    s.wait_for_status("cust-w", &id, "shipped").await?;
    let version = s.order("cust-w", &id).await?["version"].clone();
    let again = s.raw_webhook("sandbox", &body, Some(&sig)).await?;
    // Queued again; the consumer's write finds the event applied and changes nothing.
    assert_eq!((again.status, again.json()["received"].clone()), (200, json!("enqueued")));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.order("cust-w", &id).await?["version"], version);
    Ok(())
}

#[tokio::test]
async fn out_of_order_events_end_delivered_and_never_regress() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    let (id, tracking) = s.ready_order("cust-o", "o@example.com", json!([{"sku": "SOCKS-3PK", "quantity": 1}])).await?;
    s.carrier_event("evt_d", &tracking[0], "delivered").await?;
    s.wait_for_status("cust-o", &id, "delivered").await?;
    s.carrier_event("evt_t", &tracking[0], "in_transit").await?;
    s.carrier_event("evt_p", &tracking[0], "pre_transit").await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let o = s.order("cust-o", &id).await?;
    assert_eq!((o["status"].as_str(), o["shipments"][0]["status"].as_str()), (Some("delivered"), Some("delivered")));
    assert_eq!(s.local.payments.calls.lock().unwrap().iter().filter(|c| c.0 == "capture").count(), 1);
    Ok(())
}

#[tokio::test]
async fn every_message_delivered_three_times_changes_and_sends_once() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let email = "thrice@example.com";
    let (id, tracking) = s
        .ready_order("cust-3", email, json!([{"sku": "DESK-LAMP", "quantity": 1}, {"sku": "TV-55", "quantity": 1}]))
        .await?;
    assert_eq!(tracking.len(), 2, "split order");
    for (i, t) in tracking.iter().enumerate() {
        for st in ["in_transit", "delivered"] {
            assert_eq!(s.carrier_event(&format!("evt_{i}_{st}"), t, st).await?.status, 200);
        }
    }
    let tq = s.local.queues["TrackingQueue"].clone();
    let nq = s.local.queues["NotificationsQueue"].clone();
    // Tracking messages, each batch delivered three times.
    let mut batches = Vec::new();
    loop {
        let ev = oms_local::workers::receive_batch(&s.local.sqs, &tq, "arn:tracking", 30).await?;
        if ev.records.is_empty() {
            break;
        }
        batches.push(ev);
    }
    for ev in &batches {
        for _ in 0..3 {
            let r = oms_runtime::tracking_batch(&s.local.tracking, ev.clone()).await;
            assert!(r.batch_item_failures.is_empty(), "{:?}", r.batch_item_failures);
        }
    }
    let o = s.order("cust-3", &id).await?;
    assert_eq!(o["status"], "delivered");
    assert_eq!(
        s.local.payments.calls.lock().unwrap().iter().filter(|c| c.0 == "capture").count(),
        2,
        "one capture per shipment"
    );
    assert_eq!(s.local.payments.captured_total(), o["totals"]["total"]["amount"].as_i64().unwrap());
    let kinds: Vec<&str> = o["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "payment.captured").count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == "order.delivered").count(), 1);
    // The effects the commits recorded go out (the stream's consumer), then the stream hands
    // every record again (a crashed batch): nothing doubles.
    s.local.dispatch_committed().await?;
    assert!(oms_local::redeliver_effects(&s.local, &id).await? > 0);
    // Notifications, each batch delivered three times.
    loop {
        let ev = oms_local::workers::receive_batch(&s.local.sqs, &nq, "arn:notifications", 30).await?;
        if ev.records.is_empty() {
            break;
        }
        for _ in 0..3 {
            let r = oms_runtime::notifier_batch(&s.local.notifier, ev.clone()).await;
            assert!(r.batch_item_failures.is_empty(), "{:?}", r.batch_item_failures);
        }
    }
    let mut mail = s.mail_to(email).await?;
    mail.sort();
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let (first, second) = (format!("Your invoice INV-{year}-000001"), format!("Your invoice INV-{year}-000002"));
    assert_eq!(
        mail,
        vec![
            first.as_str(),
            second.as_str(),
            "Your order has shipped",
            "Your order has shipped",
            "Your order is confirmed",
            "Your order was delivered"
        ],
        "one shipped mail and one invoice per parcel"
    );
    Ok(())
}

#[tokio::test]
async fn a_poison_message_reaches_the_dlq_after_five_receives_while_its_batch_succeeds() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    let (id, tracking) =
        s.ready_order("cust-p", "p@example.com", json!([{"sku": "MUG-CLASSIC", "quantity": 1}])).await?;
    let tq = s.local.queues["TrackingQueue"].clone();
    s.local.sqs.send_message().queue_url(&tq).message_body("{this is not an event").send().await?;
    s.carrier_event("evt_ok", &tracking[0], "in_transit").await?;
    s.wait_for_status("cust-p", &id, "shipped").await?;
    s.eventually("poison in the DLQ", || async { Ok(s.queue_depth("TrackingDLQ").await? == 1) }).await?;
    let dlq = s.local.queues["TrackingDLQ"].clone();
    let m = s
        .local
        .sqs
        .receive_message()
        .queue_url(&dlq)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await?;
    let msg = &m.messages()[0];
    assert_eq!(msg.body(), Some("{this is not an event"));
    let receives = msg
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount))
        .cloned()
        .unwrap_or_default();
    assert!(receives.parse::<u32>().unwrap_or(0) >= 5, "received {receives} times");
    assert_eq!(s.queue_depth("TrackingQueue").await?, 0);
    Ok(())
}

#[tokio::test]
async fn idle_carts_get_one_reminder_per_stage_unless_opted_out() -> anyhow::Result<()> {
    use oms_shared::app::reminders::Reminders;
    use oms_shared::ports::Clock;
    struct Later(chrono::DateTime<chrono::Utc>);
    impl Clock for Later {
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            self.0
        }
    }
    let s = Stack::with_workers_only().await?;
    let mk = |sub: &'static str, email: &'static str| {
        let s = &s;
        async move {
            let t = s.token(sub);
            let c = s
                .call(
                    "POST",
                    "/v1/carts",
                    Some(&t),
                    Some(&json!({"email": email, "items": [{"sku": "MUG-CLASSIC", "quantity": 1}]})),
                    &[],
                )
                .await?;
            anyhow::Ok((t, c.json()["cartId"].as_str().unwrap().to_owned()))
        }
    };
    let (_, _c1) = mk("rem-1", "rem-1@example.com").await?;
    let (t2, _c2) = mk("rem-2", "rem-2@example.com").await?;
    let (_, _c3) = mk("rem-3", "rem-3@example.com").await?;
    let empty =
        s.call("POST", "/v1/carts", Some(&s.token("rem-4")), Some(&json!({"email": "rem-4@example.com"})), &[]).await?;
    assert_eq!(empty.status, 201);
    assert_eq!(
        s.call("PUT", "/v1/me/preferences", Some(&t2), Some(&json!({"marketingEmails": false})), &[]).await?.status,
        200
    );
    // rem-3 converts its cart into an order.
    let mut body = oms_tests::order_body(serde_json::Value::Null);
    body.as_object_mut().unwrap().remove("lines");
    body["cartId"] = json!(_c3);
    s.place("rem-3", &body).await?;

    let at = |hours: i64| Reminders {
        oms: oms_shared::app::Oms {
            clock: std::sync::Arc::new(Later(chrono::Utc::now() + chrono::Duration::hours(hours))),
            ..s.local.oms.clone()
        },
        ..s.local.reminders.clone()
    };
    assert_eq!(at(1).run().await.map_err(anyhow::Error::msg)?, 0, "not idle long enough");
    assert_eq!(at(5).run().await.map_err(anyhow::Error::msg)?, 2, "rem-1 and rem-2 (opted out, filtered at send)");
    assert_eq!(at(5).run().await.map_err(anyhow::Error::msg)?, 0, "running twice sends nothing new");
    assert_eq!(at(25).run().await.map_err(anyhow::Error::msg)?, 2, "the 24 h stage");
    assert_eq!(at(26).run().await.map_err(anyhow::Error::msg)?, 0);
    s.eventually("two reminders to rem-1", || async { Ok(s.mail_to("rem-1@example.com").await?.len() == 2) }).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.mail_to("rem-1@example.com").await?, vec!["You left something in your cart"; 2]);
    assert!(s.mail_to("rem-2@example.com").await?.is_empty(), "opted out");
    assert!(s.mail_to("rem-3@example.com").await?.iter().all(|m| m != "You left something in your cart"));
    assert!(s.mail_to("rem-4@example.com").await?.is_empty());
    Ok(())
}
