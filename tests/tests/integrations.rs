//! ERP, CRM and loyalty consumers end to end: an order placed, delivered, partly returned and
//! refunded reaches each system through its own rule and queue; every event delivered again
//! (as the bus and the stream may) changes nothing the systems keep.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use oms_shared::app::integrations::{IntegrationConsumer, Target};
use oms_shared::domain::integrations::ErpDocument;
use oms_tests::Stack;
use serde_json::{Value, json};

#[tokio::test]
async fn an_order_reaches_the_erp_crm_and_loyalty_once_whatever_the_redeliveries() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let customer = "cust-int";
    let id = s.delivered_order(customer, "int@example.com", json!([{"sku": "MUG-CLASSIC", "quantity": 2}])).await?;
    let ret = json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": "damaged"}], "resolution": "refund"});
    let r = s.open_return(customer, &id, &ret).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let rma = r.json()["id"].as_str().unwrap_or_default().to_owned();
    let got = s.receive_return(&rma, json!([{"lineId": "L1", "quantity": 1, "condition": "damaged"}])).await?;
    assert_eq!(got.status, 200, "{}", got.text);
    let order = s.order(customer, &id).await?;
    let subtotal = order["totals"]["subtotal"]["amount"].as_i64().unwrap_or(0);
    let refunded = order["payment"]["refunded"]["amount"].as_i64().unwrap_or(0);
    assert!(refunded > 0, "{order}");

    let sys = s.local.integrations.clone();
    let so = format!("SO-{id}");
    // Generous: under the whole suite's load the stream poller, moto's bus and the queues are slow.
    let mut missing = Vec::new();
    for _ in 0..900 {
        let docs = sys.documents.lock().map(|d| d.clone()).unwrap_or_default();
        // The sales order's newest revision carries the order's status as published: delivered
        // or later (a refund revises it too).
        let after_delivery = ["delivered", "return_requested", "partially_returned", "returned", "completed"];
        let delivered =
            matches!(docs.get(&so), Some(ErpDocument::SalesOrder(o)) if after_delivery.contains(&o.status.as_str()));
        let note =
            docs.values().any(|d| matches!(d, ErpDocument::CreditNote(c) if c.order_id == id && c.reason == "return"));
        let reversed = sys.points.lock().map(|p| p.values().any(|t| t.kind == "reverse")).unwrap_or(false);
        let activities =
            sys.activities.lock().map(|a| a.values().any(|x| x.activity_type == "return.refunded")).unwrap_or(false);
        // The invoice and the credit note are issued after the commits that took and gave back
        // the money: their events come last.
        let documents = sys
            .activities
            .lock()
            .map(|a| a.values().filter(|x| x.activity_type == "invoice.issued").count() >= 2)
            .unwrap_or(false);
        missing = [
            ("sales order delivered", delivered),
            ("credit note", note),
            ("points reversed", reversed),
            ("CRM return.refunded", activities),
            ("CRM invoice and credit note", documents),
        ]
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(what, _)| what)
        .collect();
        if missing.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let docs_now = sys.documents.lock().map(|d| format!("{d:?}")).unwrap_or_default();
    assert!(missing.is_empty(), "still missing after 90 s: {missing:?}; documents {docs_now:?}");
    // The sales order: the order's lines, totals and the latest status; the credit note: the
    // refund's amount; points: the goods' whole dollars, less the refunded unit's.
    let docs = sys.documents.lock().map(|d| d.clone()).unwrap_or_default();
    let Some(ErpDocument::SalesOrder(doc)) = docs.get(&so) else { anyhow::bail!("no sales order") };
    assert_eq!((doc.lines.len(), doc.lines[0].sku.as_str(), doc.lines[0].quantity), (1, "MUG-CLASSIC", 2));
    assert_eq!(doc.total, order["totals"]["total"]["amount"].as_i64().unwrap_or(0));
    let notes: i64 =
        docs.values().filter_map(|d| if let ErpDocument::CreditNote(c) = d { Some(c.amount) } else { None }).sum();
    assert_eq!(notes, refunded, "credit notes add up to the refunds");
    let balance = sys.balance(customer);
    assert!(balance > 0 && balance < subtotal / 100, "accrued {} less reversed: {balance}", subtotal / 100);

    // Every event again, twice, to each consumer: nothing more is kept.
    let before = (
        sys.documents.lock().map(|d| d.len()).unwrap_or(0),
        sys.activities.lock().map(|a| a.len()).unwrap_or(0),
        sys.points.lock().map(|p| p.len()).unwrap_or(0),
        balance,
    );
    let mut envelopes: Vec<Value> = s.take_messages("IntegrationEventsQueue").await?;
    // Stock events are not the consumers' (their rules do not pass them).
    envelopes.retain(|e| e["detail-type"] != "inventory.changed");
    assert!(envelopes.len() >= 8, "{}", envelopes.len());
    for target in [Target::Erp(sys.clone()), Target::Crm(sys.clone()), Target::Loyalty(sys.clone())] {
        let c = IntegrationConsumer { target };
        for round in 0..2 {
            let mut ev = SqsEvent::default();
            ev.records = envelopes
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let mut m = SqsMessage::default();
                    m.message_id = Some(format!("again-{round}-{i}"));
                    m.body = Some(e.to_string());
                    m
                })
                .collect();
            let out = oms_runtime::integration_batch(&c, ev).await;
            assert!(out.batch_item_failures.is_empty());
        }
    }
    let after = (
        sys.documents.lock().map(|d| d.len()).unwrap_or(0),
        sys.activities.lock().map(|a| a.len()).unwrap_or(0),
        sys.points.lock().map(|p| p.len()).unwrap_or(0),
        sys.balance(customer),
    );
    assert_eq!(after, before, "(documents, activities, point transactions, balance)");
    let activities = sys.activities.lock().map(|a| a.len()).unwrap_or(0);
    assert_eq!(activities, envelopes.len(), "one CRM activity per event");
    // A message that is not an event is dropped, not retried for ever.
    let mut junk = SqsEvent::default();
    let mut m = SqsMessage::default();
    m.message_id = Some("junk".into());
    m.body = Some("{\"detail\": 42}".into());
    junk.records = vec![m];
    let out = oms_runtime::integration_batch(&IntegrationConsumer { target: Target::Crm(sys.clone()) }, junk).await;
    assert!(out.batch_item_failures.is_empty());
    Ok(())
}
