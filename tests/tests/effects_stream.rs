//! Effects from the table's stream (decision 11, fourth round): the change record is not put in
//! the outbox index at commit; the stream hands it to the dispatcher, a dispatch that fails
//! defers it to the drain, and a record the stream hands again sends nothing twice.

use oms_shared::adapters::sqs::SqsQueue;
use oms_shared::domain::{Notification, OrderId};
use oms_tests::Stack;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn a_failed_dispatch_is_deferred_then_drained_and_a_redelivered_record_mails_once() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    // Unique per run: the local mailbox keeps earlier runs' mail.
    let email = &format!("deferred-{}@example.com", ulid::Ulid::new().to_string().to_lowercase());
    let (id, _) = s.ready_order("cust-fx", email, json!([{"sku": "SOCKS-3PK", "quantity": 1}])).await?;
    let order = OrderId::parse(&id)?;
    // Everything committed so far goes out (taken off the queue unsent).
    s.drain_notifications().await?;
    let mine = |v: Vec<oms_shared::domain::OutboxEntry>| v.into_iter().filter(|e| e.order_id == order).count();
    assert_eq!(mine(s.local.oms.store.pending_effects(100).await?), 0, "dispatched records are not pending");

    // An agent re-sends the confirmation: one change record with one mail.
    resend(&s, &id).await?;
    assert_eq!(mine(s.local.oms.store.pending_effects(100).await?), 0, "the commit puts nothing in the index");

    // The stream hands it over while the notification queue is down: deferred, not lost.
    let broken = queue_down(&s);
    assert_eq!(s.local.effects_reader.dispatch(&broken).await?, 0);
    let pending = s.local.oms.store.pending_effects(100).await?;
    assert_eq!(pending.iter().filter(|e| e.order_id == order).count(), 1, "{pending:?}");
    // A drain while still down keeps it pending, with an attempt counted and a retry time; the
    // next drain leaves it alone until then.
    assert_eq!(broken.drain().await.map_err(|e| anyhow::anyhow!(e.to_string()))?, 0);
    assert_eq!(mine(s.local.oms.store.pending_effects(100).await?), 1);
    assert_eq!(s.local.effects.drain().await.map_err(|e| anyhow::anyhow!(e.to_string()))?, 0, "not due yet");
    // Once due, with the queue back, it goes out and leaves.
    let e = s.local.oms.store.pending_effects(100).await?.into_iter().find(|e| e.order_id == order).unwrap();
    let d = e.left();
    assert_eq!((d.attempts, d.effects_from), (1, 0));
    let due = oms_shared::ports::Settlement {
        effects_from: d.effects_from,
        events: d.events,
        attempts: d.attempts,
        retry_at: Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
        parked: false,
    };
    assert!(s.local.oms.store.settle_effects(&e, &due).await?);
    assert_eq!(s.local.effects.drain().await.map_err(|e| anyhow::anyhow!(e.to_string()))?, 1);
    assert_eq!(mine(s.local.oms.store.pending_effects(100).await?), 0);
    // The record stays as the timeline, with its effects listed for an operator.
    assert!(!s.local.oms.store.effects_of_order(&order).await?.is_empty());

    // The stream hands every record of the order again (a crashed batch): the re-send is queued
    // again under the same key, and the notifier mails it once.
    assert!(oms_local::redeliver_effects(&s.local, &id).await? > 0);
    let queued = s.drain_notifications().await?;
    let resent: Vec<Notification> = queued
        .into_iter()
        .filter(|n| n["dedupeKey"].as_str().is_some_and(|k| k.contains("#resend-")))
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()?;
    assert_eq!(resent.len(), 2, "once from the drain, once from the redelivery");
    for n in &resent {
        s.local.notifier.handle(n).await.map_err(|e| anyhow::anyhow!(format!("{e:?}")))?;
    }
    let confirmed = s.mail_to(email).await?.into_iter().filter(|m| m == "Your order is confirmed").count();
    assert_eq!(confirmed, 1);
    Ok(())
}

/// A table stream event of INSERTs of the given change records (keys and the `dispatch` cue
/// only: the handler reads what the image does not hold).
fn inserts(records: &[(String, String)]) -> serde_json::Value {
    let recs: Vec<serde_json::Value> = records
        .iter()
        .enumerate()
        .map(|(i, (pk, sk))| {
            json!({
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": {"PK": {"S": pk}, "SK": {"S": sk}},
                    "NewImage": {"PK": {"S": pk}, "SK": {"S": sk}, "entity": {"S": "timeline"}, "dispatch": {"S": "effects"}},
                    "SequenceNumber": format!("{}", 900 + i),
                    "StreamViewType": "NEW_AND_OLD_IMAGES"
                }
            })
        })
        .collect();
    json!({ "Records": recs })
}

async fn resend(s: &Stack, id: &str) -> anyhow::Result<()> {
    let r = s
        .call(
            "POST",
            &format!("/v1/admin/orders/{id}/notifications"),
            Some(&s.admin_token()),
            Some(&json!({"type": "order.confirmed"})),
            &[],
        )
        .await?;
    anyhow::ensure!(r.status == 202, "{}", r.text);
    Ok(())
}

#[tokio::test]
async fn a_batch_defers_a_failed_record_and_holds_the_orders_later_records_behind_it() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let (id, _) = s.ready_order("cust-fb", "held@example.com", json!([{"sku": "SOCKS-3PK", "quantity": 1}])).await?;
    let order = OrderId::parse(&id)?;
    s.drain_notifications().await?;
    resend(&s, &id).await?;
    resend(&s, &id).await?;
    let keys: Vec<(String, String)> = oms_local::change_records(&s.local, &id)
        .await?
        .into_iter()
        .filter(|r| r.get("dispatch").and_then(|v| v.as_s().ok()).is_some_and(|d| d == "effects"))
        .filter_map(|r| Some((r.get("PK")?.as_s().ok()?.clone(), r.get("SK")?.as_s().ok()?.clone())))
        .collect();
    let last_two = keys[keys.len() - 2..].to_vec();
    // The first fails (the queue is down): deferred; the second is not run ahead of it.
    let broken = queue_down(&s);
    let out = oms_runtime::effects_batch(&broken, &inserts(&last_two)).await;
    assert_eq!(out["batchItemFailures"], json!([]), "both deferred: the stream goes on");
    let pending: Vec<String> = s
        .local
        .oms
        .store
        .pending_effects(100)
        .await?
        .into_iter()
        .filter(|e| e.order_id == order)
        .map(|e| e.id)
        .collect();
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert!(s.take_messages("NotificationsQueue").await?.is_empty(), "nothing ran out of order");
    // The drain sends both, oldest first, and the pending list is empty again.
    assert_eq!(s.local.effects.drain().await.map_err(|e| anyhow::anyhow!(e.to_string()))?, 2);
    assert!(s.local.oms.store.pending_effects(100).await?.iter().all(|e| e.order_id != order));
    Ok(())
}

#[tokio::test]
async fn an_effect_this_version_cannot_read_is_deferred_and_does_not_stop_the_drain() -> anyhow::Result<()> {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let s = Stack::without_stream().await?;
    let (id, _) = s.ready_order("cust-nv", "newer@example.com", json!([{"sku": "SOCKS-3PK", "quantity": 1}])).await?;
    s.drain_notifications().await?;
    resend(&s, &id).await?;
    // Then a record written by a newer release, with an effect this one does not know.
    let (pk, sk) = (format!("ORDER#{id}"), "EVENT#2099-12-02T00:00:00.000Z#01JDQ0000000000000000000ZZ".to_owned());
    let client = oms_harness::dynamodb_client(&s.local.dynamodb_endpoint).await;
    let effect = A::M([("type".to_owned(), A::S("teleport".into()))].into());
    client
        .put_item()
        .table_name(&s.local.table)
        .item("PK", A::S(pk.clone()))
        .item("SK", A::S(sk.clone()))
        .item("entity", A::S("timeline".into()))
        .item("dispatch", A::S("effects".into()))
        .item("effects", A::L(vec![effect]))
        .item("createdAt", A::S("2099-12-02T00:00:00Z".into()))
        .send()
        .await?;
    // The stream hands both over while the queue is down: the re-send is deferred; the
    // unreadable one is deferred by its key, for a release that reads it.
    let broken = queue_down(&s);
    assert_eq!(s.local.effects_reader.dispatch(&broken).await?, 0);
    let item = client
        .get_item()
        .table_name(&s.local.table)
        .key("PK", A::S(pk.clone()))
        .key("SK", A::S(sk.clone()))
        .consistent_read(true)
        .send()
        .await?
        .item
        .unwrap_or_default();
    assert!(item.contains_key("GSI2PK"), "deferred by its key: {item:?}");
    // The Lambda handler does the same with the record (no failure reported to the stream).
    let out = oms_runtime::effects_batch(&s.local.effects, &inserts(&[(pk, sk)])).await;
    assert_eq!(out["batchItemFailures"], json!([]));
    // The drain goes on for the others, leaving the unreadable one pending.
    assert_eq!(s.local.effects.drain().await.map_err(|e| anyhow::anyhow!(e.to_string()))?, 1);
    // The order's staff view with its timeline, and the customer's view, still read.
    let staff = s.call("GET", &format!("/v1/admin/orders/{id}"), Some(&s.admin_token()), None, &[]).await?;
    assert_eq!(staff.status, 200, "{}", staff.text);
    assert!(staff.json()["timeline"].as_array().is_some_and(|t| !t.is_empty()), "{}", staff.text);
    let mine = s.call("GET", &format!("/v1/orders/{id}"), Some(&s.token("cust-nv")), None, &[]).await?;
    assert_eq!(mine.status, 200, "{}", mine.text);
    Ok(())
}

/// The stack's effects with the notification queue unreachable.
fn queue_down(s: &Stack) -> oms_shared::app::effects::Effects {
    oms_shared::app::effects::Effects {
        notifications: Arc::new(SqsQueue::new(s.local.sqs.clone(), "http://127.0.0.1:9/queue/none")),
        ..s.local.effects.clone()
    }
}

/// An operator's view of what the drain gave up on: parked records are listed for finance
/// (not for agents or customers), a retry with a bad body is a 400 naming the field, one for
/// a record that is not parked a 404, and a retry puts it back, due, for the drain to finish.
#[tokio::test]
async fn parked_records_are_listed_and_retried_through_the_api() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let (id, _) = s.ready_order("cust-pk", "parked@example.com", json!([{"sku": "SOCKS-3PK", "quantity": 1}])).await?;
    let order = OrderId::parse(&id)?;
    s.drain_notifications().await?;
    resend(&s, &id).await?;
    // The stream hands the re-send over while the queue is down; the drain gives up on it.
    let broken = queue_down(&s);
    assert_eq!(s.local.effects_reader.dispatch(&broken).await?, 0);
    let e = s.local.oms.store.pending_effects(1000).await?.into_iter().find(|e| e.order_id == order).unwrap();
    let d = e.left();
    let give_up = oms_shared::ports::Settlement {
        effects_from: d.effects_from,
        attempts: 10,
        parked: true,
        ..Default::default()
    };
    assert!(s.local.oms.store.settle_effects(&e, &give_up).await?);

    let finance = s.scoped_token("fin-pk", "oms/finance");
    let list = s.call("GET", "/v1/admin/effects/parked", Some(&finance), None, &[]).await?;
    assert_eq!(list.status, 200, "{}", list.text);
    let items = list.json()["items"].as_array().cloned().unwrap_or_default();
    let mine: Vec<&serde_json::Value> = items.iter().filter(|i| i["orderId"] == id.as_str()).collect();
    assert_eq!(mine.len(), 1, "{}", list.text);
    assert_eq!(mine[0]["effectsLeft"], json!(["notify"]));
    assert_eq!((mine[0]["entryId"].as_str(), mine[0]["attempts"].as_u64()), (Some(e.id.as_str()), Some(10)));
    for (who, token) in [("agent", s.scoped_token("ag-pk", "oms/agent")), ("customer", s.token("cust-pk"))] {
        let r = s.call("GET", "/v1/admin/effects/parked", Some(&token), None, &[]).await?;
        assert_eq!(r.status, 403, "{who}: {}", r.text);
    }
    // Bad bodies change nothing.
    for (body, field) in [
        (json!({"orderId": "nope", "entryId": e.id}), "orderId"),
        (json!({"orderId": id, "entryId": "a b"}), "entryId"),
        (json!({"orderId": id, "entryId": e.id, "extra": 1}), "extra"),
    ] {
        let r = s.call("POST", "/v1/admin/effects/parked/retry", Some(&finance), Some(&body), &[]).await?;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.text.contains(field), "{field}: {}", r.text);
    }
    let other = json!({"orderId": id, "entryId": "2020-01-01T00:00:00.000Z#01JDQ0000000000000000000ZZ"});
    let r = s.call("POST", "/v1/admin/effects/parked/retry", Some(&finance), Some(&other), &[]).await?;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(s.local.oms.store.parked_effects(1000).await?.iter().filter(|p| p.order_id == order).count(), 1);
    // The retry: pending again and due; the drain sends the mail and nothing is left.
    let body = json!({"orderId": id, "entryId": e.id});
    let r = s.call("POST", "/v1/admin/effects/parked/retry", Some(&finance), Some(&body), &[]).await?;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.json()["status"], "pending");
    let again = s.call("POST", "/v1/admin/effects/parked/retry", Some(&finance), Some(&body), &[]).await?;
    assert_eq!(again.status, 404, "no longer parked: {}", again.text);
    assert!(s.local.effects.drain().await.map_err(|e| anyhow::anyhow!(e.to_string()))? >= 1);
    let store = &s.local.oms.store;
    assert!(
        store
            .pending_effects(1000)
            .await?
            .iter()
            .chain(&store.parked_effects(1000).await?)
            .all(|p| p.order_id != order)
    );
    let queued = s.take_messages("NotificationsQueue").await?;
    assert!(queued.iter().any(|n| n["dedupeKey"].as_str().is_some_and(|k| k.contains("#resend-"))), "{queued:?}");
    Ok(())
}
