//! Integration events end to end: one order placed -> delivered -> returned and refunded, its
//! events read from the queue behind the bus's rule (moto's EventBridge delivers `PutEvents`
//! to the rule's SQS target, as on AWS), each valid against its schema in `docs/events/`, in
//! sequence; a duplicated stream record publishes the same event ids again; the committed
//! samples stay valid and the published fields keep their types.

use oms_tests::Stack;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn schema(kind: &str) -> anyhow::Result<jsonschema::Validator> {
    let path = oms_harness::repo_root().join("docs/events").join(format!("{kind}.schema.json"));
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    jsonschema::options()
        .should_validate_formats(true)
        .build(&serde_json::from_str(&text)?)
        .map_err(|e| anyhow::anyhow!("{kind} schema: {e}"))
}

fn assert_valid(event: &Value) -> anyhow::Result<()> {
    let kind = event["type"].as_str().unwrap_or_default();
    let v = schema(kind)?;
    let errors: Vec<String> = v.iter_errors(event).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    anyhow::ensure!(errors.is_empty(), "{kind} is not valid against its schema: {errors:?}\n{event}");
    Ok(())
}

/// Every event on the integrations queue so far (EventBridge's envelope unwrapped: `detail`).
async fn drain(s: &Stack, into: &mut Vec<Value>) -> anyhow::Result<()> {
    for envelope in s.take_messages("IntegrationEventsQueue").await? {
        assert_eq!(envelope["source"], "oms");
        assert_eq!(envelope["detail-type"], envelope["detail"]["type"], "the rule can match on the type");
        into.push(envelope["detail"].clone());
    }
    Ok(())
}

async fn wait_for(s: &Stack, seen: &mut Vec<Value>, kinds: &[&str]) -> anyhow::Result<()> {
    // Generous: under the whole suite's load the stream poller and moto are slow.
    for _ in 0..400 {
        drain(s, seen).await?;
        if kinds.iter().all(|k| seen.iter().any(|e| e["type"] == *k)) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let got: Vec<&Value> = seen.iter().map(|e| &e["type"]).collect();
    anyhow::bail!("timed out waiting for {kinds:?}; got {got:?}")
}

#[tokio::test]
async fn an_orders_life_reaches_the_bus_as_valid_events_in_sequence() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let id = s
        .delivered_order("cust-ev", "events-journey@example.com", json!([{"sku": "HEADPHONES-X1", "quantity": 2}]))
        .await?;
    let mut seen = Vec::new();
    wait_for(
        &s,
        &mut seen,
        &[
            "order.placed",
            "payment.authorized",
            "order.ready_to_ship",
            "payment.captured",
            "shipment.shipped",
            "shipment.delivered",
        ],
    )
    .await?;

    let r = s
        .open_return(
            "cust-ev",
            &id,
            &json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": "no_longer_needed"}], "resolution": "refund"}),
        )
        .await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let rma = r.json()["id"].as_str().unwrap_or_default().to_owned();
    let got = s.receive_return(&rma, json!([{"lineId": "L1", "quantity": 1, "condition": "resellable"}])).await?;
    assert_eq!(got.status, 200, "{}", got.text);
    wait_for(&s, &mut seen, &["return.requested", "return.received", "payment.refunded", "return.refunded"]).await?;
    // A customer's inquiry, resolved by an agent: the case events carry the order's cases.
    let ask = json!({"kind": "inquiry", "subject": "Where is my refund?", "message": "private words"});
    let r = s.call("POST", &format!("/v1/orders/{id}/inquiries"), Some(&s.token("cust-ev")), Some(&ask), &[]).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json()["caseId"].as_str().unwrap_or_default().to_owned();
    let done = json!({"status": "resolved", "resolution": "explained the refund"});
    let r = s.call("PATCH", &format!("/v1/admin/cases/{case}"), Some(&s.admin_token()), Some(&done), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    wait_for(&s, &mut seen, &["case.opened", "case.resolved"]).await?;
    let resolved = seen.iter().find(|e| e["type"] == "case.resolved").cloned().unwrap_or_default();
    assert_eq!(resolved["data"]["cases"][0]["caseId"], case.as_str());
    assert_eq!(resolved["data"]["cases"][0]["status"], "resolved");
    assert!(
        !resolved.to_string().contains("private words") && !resolved.to_string().contains("explained"),
        "no case words"
    );

    // Stock events: the SKU's level at its location as holds, shipping and the receipt moved
    // it, each valid, the same id always the same level, and the newest the level now.
    let mut stock: Vec<Value> = Vec::new();
    let mut newest = Value::Null;
    for _ in 0..400 {
        stock.extend(seen.iter().filter(|e| e["type"] == "inventory.changed").cloned());
        seen.retain(|e| e["type"] != "inventory.changed");
        newest = stock
            .iter()
            .filter(|e| e["sku"] == "HEADPHONES-X1")
            .max_by_key(|e| e["sequence"].as_u64().unwrap_or(0))
            .cloned()
            .unwrap_or_default();
        let loc = newest["locationId"].as_str().unwrap_or("WH-CA");
        let (available, held, _) = s.available("HEADPHONES-X1", loc).await?;
        if (newest["data"]["available"].as_i64(), newest["data"]["held"].as_i64()) == (Some(available), Some(held)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        drain(&s, &mut seen).await?;
    }
    let loc = newest["locationId"].as_str().unwrap_or_default().to_owned();
    let (available, held, _) = s.available("HEADPHONES-X1", &loc).await?;
    assert_eq!(
        (newest["data"]["available"].as_i64(), newest["data"]["held"].as_i64()),
        (Some(available), Some(held)),
        "the newest stock event is the level now: {newest}"
    );
    let mut levels: BTreeMap<String, Value> = BTreeMap::new();
    for e in &stock {
        assert_valid(e)?;
        let same = levels.entry(e["id"].as_str().unwrap_or_default().to_owned()).or_insert_with(|| e["data"].clone());
        assert_eq!(same, &e["data"], "one id, one level");
    }
    // One order's events only, each valid, each id once (the journey had no redelivery).
    let mine: Vec<&Value> = seen.iter().filter(|e| e["orderId"] == id.as_str()).collect();
    assert_eq!(mine.len(), seen.len(), "this stack's bus carries this order only");
    // Samples for docs and the compatibility test (OMS_WRITE_EVENT_SAMPLES=1).
    if std::env::var("OMS_WRITE_EVENT_SAMPLES").is_ok() {
        let dir = oms_harness::repo_root().join("events/domain");
        std::fs::create_dir_all(&dir)?;
        let mut first: BTreeMap<String, &Value> = BTreeMap::new();
        for e in &mine {
            first.entry(e["type"].as_str().unwrap_or_default().to_owned()).or_insert(e);
        }
        first.insert("inventory.changed".into(), &newest);
        for (k, e) in first {
            std::fs::write(dir.join(format!("{k}.json")), serde_json::to_string_pretty(e)? + "\n")?;
        }
    }
    let mut ids = std::collections::BTreeSet::new();
    for e in &mine {
        assert_valid(e)?;
        assert!(ids.insert(e["id"].as_str().unwrap_or_default().to_owned()), "duplicate id {}", e["id"]);
        assert_eq!(e["customerId"], "cust-ev");
        let text = e.to_string();
        assert!(!text.contains("riskScore") && !text.contains("\"note\""), "integration projection only: {text}");
    }
    // In sequence: the business order of the changes, whatever order the queue returned them in.
    let mut by_seq: Vec<&Value> = mine.clone();
    by_seq.sort_by_key(|e| (e["sequence"].as_u64().unwrap_or(0), e["occurredAt"].as_str().unwrap_or("").to_owned()));
    let order: Vec<&str> = by_seq.iter().map(|e| e["type"].as_str().unwrap_or("")).collect();
    let pos = |k: &str| order.iter().position(|t| *t == k).unwrap_or(usize::MAX);
    for pair in [
        ("order.placed", "payment.authorized"),
        ("payment.authorized", "order.ready_to_ship"),
        ("order.ready_to_ship", "shipment.shipped"),
        ("payment.authorized", "payment.captured"),
        ("payment.captured", "shipment.delivered"),
        ("shipment.shipped", "shipment.delivered"),
        ("shipment.delivered", "return.requested"),
        ("return.requested", "return.received"),
    ] {
        assert!(pos(pair.0) < pos(pair.1), "{} before {}: {order:?}", pair.0, pair.1);
    }
    let placed = by_seq[0];
    assert_eq!((placed["type"].as_str(), placed["sequence"].as_u64()), (Some("order.placed"), Some(1)));
    // A consumer keeps the newest state: the highest sequence carries the final status.
    let last = by_seq.last().copied().unwrap_or(placed);
    assert!(last["data"]["order"]["version"].as_u64() >= last["sequence"].as_u64());
    let refunded = mine.iter().find(|e| e["type"] == "return.refunded").copied().unwrap_or(placed);
    assert_eq!(refunded["data"]["returns"][0]["status"], "completed");

    // A duplicated stream record (the stream delivers at least once): the same event ids again.
    let dup = duplicated_placement_record(&s, &id).await?;
    for _ in 0..2 {
        let out = oms_runtime::effects_batch(&s.local.effects, &dup).await;
        assert_eq!(out["batchItemFailures"], json!([]));
    }
    let mut again = Vec::new();
    wait_for(&s, &mut again, &["order.placed"]).await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drain(&s, &mut again).await?;
    assert_eq!(again.len(), 2, "one event per delivery of the record: {again:?}");
    assert!(again.iter().all(|e| e["id"] == placed["id"]), "a consumer deduplicating on the id keeps one");

    Ok(())
}

/// The stream record of the order's placement change, as Lambda hands it to the effects
/// function (built from the change record in the table).
async fn duplicated_placement_record(s: &Stack, id: &str) -> anyhow::Result<Value> {
    let records = event_records(s, id).await?;
    let placed = records
        .into_iter()
        .find(|r| r["dynamodb"]["NewImage"]["events"]["S"].as_str().is_some_and(|e| e.contains("order.placed")))
        .ok_or_else(|| anyhow::anyhow!("no change record announced order.placed"))?;
    Ok(json!({ "Records": [placed] }))
}

/// The stream records of the order's change records that announced events, oldest first, as
/// Lambda hands them to the effects function (events only: no effects to run again).
async fn event_records(s: &Stack, id: &str) -> anyhow::Result<Vec<Value>> {
    let items = oms_local::change_records(&s.local, id).await?;
    Ok(items
        .iter()
        .filter(|i| i.get("events").is_some())
        .enumerate()
        .map(|(n, r)| {
            let s_of = |k: &str| r.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let n_of = |k: &str| r.get(k).and_then(|v| v.as_n().ok()).cloned().unwrap_or_default();
            json!({
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": {"PK": {"S": s_of("PK")}, "SK": {"S": s_of("SK")}},
                    "NewImage": {
                        "PK": {"S": s_of("PK")}, "SK": {"S": s_of("SK")}, "entity": {"S": "timeline"},
                        "events": {"S": s_of("events")}, "sequence": {"N": n_of("sequence")}, "createdAt": {"S": s_of("createdAt")}
                    },
                    "SequenceNumber": format!("{}", 900000000000000000000001u128 + n as u128),
                    "StreamViewType": "NEW_AND_OLD_IMAGES"
                }
            })
        })
        .collect())
}

/// EventBridge refusing every call (an outage longer than the stream's retries): the effects
/// function defers each record's events to the drain instead of failing the batch, so the
/// stream never gives up on them; the drain publishes them, with the same ids, once the bus is
/// back, and runs none of the records' effects again.
#[tokio::test]
async fn events_the_bus_refuses_are_deferred_and_the_drain_publishes_them() -> anyhow::Result<()> {
    use oms_shared::adapters::{aws, eventbridge::EventBridgeBus};
    let s = Stack::without_stream().await?;
    let (id, _) =
        s.ready_order("cust-bd", "bus-down@example.com", json!([{"sku": "SOCKS-3PK", "quantity": 1}])).await?;
    let order = oms_shared::domain::OrderId::parse(&id)?;
    // Everything committed so far is dispatched (its mails taken off the queue unsent).
    s.drain_notifications().await?;
    let records = event_records(&s, &id).await?;
    let types: Vec<String> = records
        .iter()
        .flat_map(|r| r["dynamodb"]["NewImage"]["events"]["S"].as_str().unwrap_or_default().split_whitespace())
        .map(str::to_owned)
        .collect();
    assert!(types.len() >= 2, "{types:?}");
    let unreachable = aws::eventbridge_client(&aws::load_config(true).await, Some("http://127.0.0.1:9"));
    let down = oms_shared::app::effects::Effects {
        bus: std::sync::Arc::new(EventBridgeBus::new(unreachable, "oms")),
        ..s.local.effects.clone()
    };
    let out = oms_runtime::effects_batch(&down, &json!({ "Records": records })).await;
    assert_eq!(out["batchItemFailures"], json!([]), "deferred: the stream goes on");
    let mut seen = Vec::new();
    drain(&s, &mut seen).await?;
    assert!(seen.is_empty(), "{seen:?}");
    let pending: Vec<_> =
        s.local.oms.store.pending_effects(1000).await?.into_iter().filter(|e| e.order_id == order).collect();
    assert_eq!(pending.len(), records.len());
    assert!(pending.iter().all(|e| e.left().events && e.left().effects_from == e.effects.len()), "{pending:?}");
    // The bus is back: the drain publishes every deferred event, in the order's sequence.
    let done = s.local.effects.drain().await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    assert!(done >= records.len(), "{done}");
    assert!(s.local.oms.store.pending_effects(1000).await?.iter().all(|e| e.order_id != order));
    let wanted: Vec<&str> = types.iter().map(String::as_str).collect();
    wait_for(&s, &mut seen, &wanted).await?;
    let mine: Vec<&Value> = seen.iter().filter(|e| e["data"]["order"]["orderId"] == id.as_str()).collect();
    assert_eq!(mine.len(), types.len(), "each once: {mine:?}");
    let sequences: Vec<u64> = mine.iter().filter_map(|e| e["sequence"].as_u64()).collect();
    assert!(sequences.windows(2).all(|w| w[0] <= w[1]), "in sequence: {sequences:?}");
    for e in &mine {
        assert_valid(e)?;
    }
    assert!(s.take_messages("NotificationsQueue").await?.is_empty(), "no effect ran again");
    Ok(())
}
