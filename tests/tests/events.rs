//! Every sample event in `events/` is replayed through the handler it belongs to: API Gateway v2
//! events through the placement router exactly as `lambda_http` parses them, step inputs
//! through the step dispatcher the Lambdas run.

use oms_tests::Stack;
use serde_json::Value;
use std::collections::BTreeMap;

const ORDER: &str = "01JDQ0000000000000000000AA";
const CART: &str = "01JDQ0000000000000000000BB";

fn load(dir: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(oms_harness::repo_root().join("events").join(dir))? {
        let p = e?.path();
        out.insert(p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p)?);
    }
    Ok(out)
}

async fn invoke(s: &Stack, text: &str) -> anyhow::Result<(u16, Value)> {
    let router = oms_local::functions_router(&s.local);
    let event: Value = serde_json::from_str(text)?;
    let res = oms_local::gateway::invoke(&router, &event).await;
    let status = res.status().as_u16();
    let body = http_body_util::BodyExt::collect(res.into_body()).await?.to_bytes();
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

#[tokio::test]
async fn every_api_gateway_sample_replays_through_the_lambda_handler() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let events = load("apigw")?;
    // First with the ids as written (nothing exists yet), then with ids of real objects.
    let first: BTreeMap<&str, u16> = [
        ("admin-locations-put", 200),
        ("admin-orders-cancel", 404),
        ("admin-orders-get", 404),
        ("admin-orders-label", 404),
        ("admin-orders-list", 200),
        ("admin-orders-release-hold", 404),
        ("admin-products-put", 200),
        ("admin-stock-put", 200),
        ("carts-create", 201),
        ("carts-get", 404),
        ("carts-list", 200),
        ("carts-set-item", 404),
        ("orders-cancel", 404),
        ("orders-edit", 404),
        ("orders-get", 404),
        ("orders-list", 200),
        ("orders-place", 201),
        ("quotes-create", 200),
        ("returns-open", 404),
        ("returns-list", 404),
        ("returns-label", 404),
        ("admin-returns-receive", 404),
        ("admin-orders-note", 404),
        ("admin-orders-hold", 404),
        ("admin-orders-resend", 404),
        ("admin-orders-refund", 404),
        ("admin-orders-cases", 200),
        ("admin-cases-open", 404),
        ("admin-cases-list", 200),
        ("admin-cases-update", 404),
        ("preferences-get", 200),
        ("preferences-put", 200),
    ]
    .into();
    assert_eq!(
        events.keys().map(String::as_str).collect::<Vec<_>>(),
        first.keys().copied().collect::<Vec<_>>(),
        "a sample per route"
    );
    let mut order_id = String::new();
    let mut cart_id = String::new();
    for (name, text) in &events {
        let (status, body) = invoke(&s, text).await?;
        assert_eq!(status, first[name.as_str()], "{name}: {body}");
        if name == "orders-place" {
            order_id = body["orderId"].as_str().unwrap().to_owned();
            // The same event again is an idempotent replay.
            let (again, body2) = invoke(&s, text).await?;
            assert_eq!((again, &body2), (201, &body));
        }
        if name == "carts-create" {
            cart_id = body["cartId"].as_str().unwrap().to_owned();
        }
    }
    let second: Vec<(&str, u16)> = vec![
        ("carts-get", 200),
        ("carts-set-item", 200),
        ("orders-get", 200),
        ("orders-edit", 200),
        ("admin-orders-get", 200),
        ("orders-cancel", 200),
        ("admin-orders-cancel", 200),
        ("admin-orders-note", 200),
        ("admin-cases-open", 201),
        ("returns-list", 200),
        ("returns-open", 422),
        ("admin-orders-release-hold", 409),
    ];
    for (name, want) in second {
        let text = events[name].replace(ORDER, &order_id).replace(CART, &cart_id);
        let (status, body) = invoke(&s, &text).await?;
        assert_eq!(status, want, "{name} on real ids: {body}");
    }
    Ok(())
}

#[tokio::test]
async fn every_step_sample_replays_through_the_step_dispatcher() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let events = load("steps")?;
    let body = oms_tests::order_body(serde_json::json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
    let id = s.place("cust-42", &body).await?;
    for step in ["validate-order", "allocate-order", "authorize-payment", "create-labels"] {
        let input: Value = serde_json::from_str(&events[step].replace(ORDER, &id))?;
        s.local.fulfillment.dispatch(step, input).await.map_err(|e| anyhow::anyhow!("{step}: {e}"))?;
    }
    assert_eq!(s.order("cust-42", &id).await?["status"], "ready_to_ship");
    let other = s.place("cust-42", &body).await?;
    let input: Value = serde_json::from_str(&events["compensate-order"].replace(ORDER, &other))?;
    s.local.fulfillment.dispatch("compensate-order", input).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(s.order("cust-42", &other).await?["status"], "on_hold");
    assert_eq!(events.len(), 5);
    // The sample ids as written name no order: a typed error, not a panic.
    let err = s
        .local
        .fulfillment
        .dispatch("validate-order", serde_json::from_str(&events["validate-order"])?)
        .await
        .unwrap_err();
    assert_eq!(err.name, "OrderNotActive");
    Ok(())
}

const TRACK: &str = "SBX000000000001";

#[tokio::test]
async fn webhook_sqs_and_scheduled_samples_replay_through_their_handlers() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let (id, tracking) = s
        .ready_order("cust-42", "events@example.com", serde_json::json!([{"sku": "MUG-CLASSIC", "quantity": 1}]))
        .await?;
    let root = oms_harness::repo_root().join("events");

    // The webhook sample as written is signed with the local secret but names an unknown parcel.
    let text = std::fs::read_to_string(root.join("webhooks/carrier-tracker-updated.json"))?;
    let router = tracking_webhook::router(s.local.webhooks.clone());
    let event: Value = serde_json::from_str(&text)?;
    let res = oms_local::gateway::invoke(&router, &event).await;
    assert_eq!(res.status().as_u16(), 422);
    // Re-signed for a real parcel, it is accepted; replayed, it is queued again and the
    // consumer's write dedupes it (the batch below applies the parcel's scans once).
    let mut event: Value = serde_json::from_str(&text)?;
    let body = event["body"].as_str().unwrap().replace(TRACK, &tracking[0]);
    event["headers"]["x-hmac-signature"] =
        Value::String(oms_shared::app::webhooks::sign(oms_local::WEBHOOK_SECRET, body.as_bytes()));
    event["body"] = Value::String(body);
    assert_eq!(oms_local::gateway::invoke(&router, &event).await.status().as_u16(), 200);
    let replay = oms_local::gateway::invoke(&router, &event).await;
    let replay_body = http_body_util::BodyExt::collect(replay.into_body()).await?.to_bytes();
    assert_eq!(serde_json::from_slice::<Value>(&replay_body)?["received"], "enqueued");

    // The SQS samples through the consumers' batch handlers.
    let tracking_text = std::fs::read_to_string(root.join("sqs/tracking-batch.json"))?.replace(TRACK, &tracking[0]);
    let ev: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_str(&tracking_text)?;
    assert!(oms_runtime::tracking_batch(&s.local.tracking, ev).await.batch_item_failures.is_empty());
    assert_eq!(s.order("cust-42", &id).await?["status"], "shipped");
    let as_written: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(&std::fs::read_to_string(root.join("sqs/tracking-batch.json"))?)?;
    assert_eq!(
        oms_runtime::tracking_batch(&s.local.tracking, as_written).await.batch_item_failures.len(),
        1,
        "unknown parcel: reported, not panicked"
    );
    let note_text = std::fs::read_to_string(root.join("sqs/notifications-batch.json"))?.replace(ORDER, &id);
    let ev: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_str(&note_text)?;
    assert!(oms_runtime::notifier_batch(&s.local.notifier, ev).await.batch_item_failures.is_empty());
    assert_eq!(s.mail_to("events@example.com").await?, vec!["Your order is confirmed"]);

    // The payment webhook sample's signature is a placeholder (and old): refused before parsing.
    let pay: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("webhooks/payment-dispute-created.json"))?)?;
    assert_eq!(oms_local::gateway::invoke(&oms_local::functions_router(&s.local), &pay).await.status().as_u16(), 401);

    // The table stream sample through the effects handler: as written its outbox entry does not
    // exist (nothing to do, nothing failed); pointed at a real one, its effects go out once.
    let stream_text = std::fs::read_to_string(root.join("streams/outbox-insert.json"))?;
    let as_written: Value = serde_json::from_str(&stream_text)?;
    let work = oms_runtime::stream_batch(&as_written);
    assert_eq!(work.iter().filter(|w| w.outbox.is_some()).count(), 1, "only the change record with effects");
    // A change record that announced integration events: what the publisher reads from it.
    let announced: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("streams/change-events-insert.json"))?)?;
    let work = oms_runtime::stream_batch(&announced);
    let c = work.first().and_then(|w| w.events.clone()).expect("the change's events");
    assert_eq!(
        (c.types, c.sequence, c.change_id.ends_with("01JDQ0000000000000000000DD")),
        (vec!["order.placed".to_owned()], Some(1), true)
    );
    assert_eq!(
        oms_runtime::effects_batch(&s.local.effects, &announced).await["batchItemFailures"],
        serde_json::json!([]),
        "no such order: nothing to publish, nothing failed"
    );
    assert_eq!(
        oms_runtime::effects_batch(&s.local.effects, &as_written).await["batchItemFailures"],
        serde_json::json!([])
    );
    // Stock items written: a hold moves available units (an event), an allocation does not;
    // two holds of one SKU and location in a batch publish its level once.
    let stock: Value = serde_json::from_str(&std::fs::read_to_string(root.join("streams/stock-modify.json"))?)?;
    let work = oms_runtime::stream_batch(&stock);
    assert_eq!(work.iter().filter(|w| w.stock.is_some()).count(), 2, "the allocation's record is not an event");
    s.take_messages("IntegrationEventsQueue").await?;
    assert_eq!(oms_runtime::effects_batch(&s.local.effects, &stock).await["batchItemFailures"], serde_json::json!([]));
    let mut inventory = Vec::new();
    for _ in 0..50 {
        inventory.extend(
            s.take_messages("IntegrationEventsQueue")
                .await?
                .into_iter()
                .filter(|e| e["detail-type"] == "inventory.changed" && e["detail"]["locationId"] == "WH-CA"),
        );
        if !inventory.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let from_batch: Vec<&Value> = inventory.iter().filter(|e| e["detail"]["sku"] == "HEADPHONES-X1").collect();
    assert!(!from_batch.is_empty(), "the batch published the level");
    let level = s.available("HEADPHONES-X1", "WH-CA").await?.0;
    assert!(from_batch.iter().all(|e| e["detail"]["data"]["available"] == level), "the level as read: {from_batch:?}");
    let resend = s
        .call(
            "POST",
            &format!("/v1/admin/orders/{id}/notifications"),
            Some(&s.admin_token()),
            Some(&serde_json::json!({"type": "order.confirmed"})),
            &[],
        )
        .await?;
    assert_eq!(resend.status, 202, "{}", resend.text);
    let order_id = oms_shared::domain::OrderId::parse(&id)?;
    // The re-send's change record (the newest with effects): not in the outbox index (the
    // stream delivers it), handed by the stream twice.
    assert!(oms_shared::ports::Outbox::pending_effects(&s.local.dynamo, 100).await?.is_empty());
    let records = oms_local::change_records(&s.local, &id).await?;
    let entry_id = records
        .iter()
        .rev()
        .filter(|r| r.get("dispatch").and_then(|v| v.as_s().ok()).is_some_and(|d| d == "effects"))
        .find_map(|r| {
            let (pk, sk) = (r.get("PK")?.as_s().ok()?, r.get("SK")?.as_s().ok()?);
            oms_shared::adapters::dynamo::keys::parse_outbox(pk, sk).filter(|(o, _)| *o == order_id).map(|(_, e)| e)
        })
        .expect("the re-send's change record");
    let real: Value =
        serde_json::from_str(&stream_text.replace(ORDER, &id).replace("01JDQ0000000000000000000CC", &entry_id))?;
    assert_eq!(oms_runtime::effects_batch(&s.local.effects, &real).await["batchItemFailures"], serde_json::json!([]));
    assert_eq!(oms_runtime::effects_batch(&s.local.effects, &real).await["batchItemFailures"], serde_json::json!([]));
    let sent = s.drain_notifications().await?;
    let resent: Vec<&Value> =
        sent.iter().filter(|n| n["dedupeKey"].as_str().is_some_and(|k| k.contains("#resend-"))).collect();
    // However often the stream hands it, the re-send is one mail's key (the notifier sends a
    // key once).
    assert!(resent.len() >= 2, "{sent:?}");
    assert!(resent.iter().all(|n| n["dedupeKey"] == resent[0]["dedupeKey"]), "{resent:?}");
    let drain: Value = serde_json::from_str(&std::fs::read_to_string(root.join("scheduled/effects-drain.json"))?)?;
    assert!(drain.get("Records").is_none(), "the schedule's event drains pending effects");
    assert_eq!(s.local.effects.drain().await.map_err(|e| anyhow::anyhow!(e.to_string()))?, 0);

    // The reconciliation schedule's event: the handler ignores its payload; nothing differs.
    let recon: Value = serde_json::from_str(&std::fs::read_to_string(root.join("scheduled/reconciliation.json"))?)?;
    assert_eq!(recon["source"], "aws.scheduler");
    let report = s.local.oms.reconcile().await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    assert_eq!(report.differences(), 0, "{report:?}");

    // The scheduler's event: the reminder handler ignores its payload and runs once.
    let sched: Value = serde_json::from_str(&std::fs::read_to_string(root.join("scheduled/cart-reminders.json"))?)?;
    assert_eq!(sched["source"], "aws.scheduler");
    assert_eq!(s.local.reminders.run().await.map_err(anyhow::Error::msg)?, 0);
    Ok(())
}
