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
    let items = oms_local::change_records(&s.local, id).await?;
    let placed = items
        .iter()
        .find(|i| i.get("events").and_then(|v| v.as_s().ok()).is_some_and(|e| e.contains("order.placed")))
        .ok_or_else(|| anyhow::anyhow!("no change record announced order.placed"))?;
    let s_of = |k: &str| placed.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    let n_of = |k: &str| placed.get(k).and_then(|v| v.as_n().ok()).cloned().unwrap_or_default();
    Ok(json!({"Records": [{
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"PK": {"S": s_of("PK")}, "SK": {"S": s_of("SK")}},
            "NewImage": {
                "PK": {"S": s_of("PK")}, "SK": {"S": s_of("SK")}, "entity": {"S": "timeline"},
                "events": {"S": s_of("events")}, "sequence": {"N": n_of("sequence")}, "createdAt": {"S": s_of("createdAt")}
            },
            "SequenceNumber": "900000000000000000000001",
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        }
    }]}))
}
