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
    let email = "deferred@example.com";
    let (id, _) = s.ready_order("cust-fx", email, json!([{"sku": "SOCKS-3PK", "quantity": 1}])).await?;
    let order = OrderId::parse(&id)?;
    // Everything committed so far goes out (taken off the queue unsent).
    s.drain_notifications().await?;
    let mine = |v: Vec<oms_shared::domain::OutboxEntry>| v.into_iter().filter(|e| e.order_id == order).count();
    assert_eq!(mine(s.local.oms.store.pending_effects(100).await?), 0, "dispatched records are not pending");

    // An agent re-sends the confirmation: one change record with one mail.
    let resend = s
        .call(
            "POST",
            &format!("/v1/admin/orders/{id}/notifications"),
            Some(&s.admin_token()),
            Some(&json!({"type": "order.confirmed"})),
            &[],
        )
        .await?;
    assert_eq!(resend.status, 202, "{}", resend.text);
    assert_eq!(mine(s.local.oms.store.pending_effects(100).await?), 0, "the commit puts nothing in the index");

    // The stream hands it over while the notification queue is down: deferred, not lost.
    let broken = oms_shared::app::effects::Effects {
        notifications: Arc::new(SqsQueue::new(s.local.sqs.clone(), "http://127.0.0.1:9/queue/none")),
        ..s.local.effects.clone()
    };
    assert_eq!(s.local.effects_reader.dispatch(&broken).await?, 0);
    let pending = s.local.oms.store.pending_effects(100).await?;
    assert_eq!(pending.iter().filter(|e| e.order_id == order).count(), 1, "{pending:?}");
    // A drain while still down keeps it pending; once the queue is back it goes out and leaves.
    assert_eq!(broken.drain().await.map_err(|e| anyhow::anyhow!(e.to_string()))?, 0);
    assert_eq!(mine(s.local.oms.store.pending_effects(100).await?), 1);
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
