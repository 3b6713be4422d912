//! Order core under races, agent actions and partial failures: one named test per finding of
//! the correctness issue, reproduced from outside (HTTP, signed webhooks, the workflow's steps).

use oms_shared::domain::{OrderId, ReservationState};
use oms_tests::{Stack, order_body};
use serde_json::{Value, json};

/// Every stock counter equals the sum of the open holds and allocations of the orders that
/// name it (the orders given are all the orders of the test).
async fn stock_owned(s: &Stack, ids: &[String], sku: &str, loc: &str) -> anyhow::Result<(i64, i64)> {
    let (mut held, mut allocated) = (0i64, 0i64);
    for id in ids {
        let o = s.local.oms.store.get_order(&OrderId::parse(id)?).await?.unwrap();
        for r in o.reservations.iter().filter(|r| r.sku.as_str() == sku && r.location_id.as_str() == loc) {
            match r.state {
                ReservationState::Held => held += i64::from(r.quantity),
                ReservationState::Allocated => allocated += i64::from(r.quantity),
                _ => {}
            }
        }
    }
    Ok((held, allocated))
}

/// Runs workflow steps in order with the state the state machine passes along (each step's
/// result under its `ResultPath`; allocation reads validation's).
async fn steps(s: &Stack, id: &str, names: &[&str]) -> anyhow::Result<Value> {
    let mut state = json!({"orderId": id});
    for name in names {
        let input = match *name {
            "allocate-order" => json!({"orderId": id, "validation": state["validation"]}),
            _ => json!({"orderId": id}),
        };
        let out = s.local.fulfillment.dispatch(name, input).await.map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let path = match *name {
            "validate-order" => "validation",
            "allocate-order" => "allocation",
            "authorize-payment" => "payment",
            _ => "labels",
        };
        state[path] = out;
    }
    Ok(state)
}

#[tokio::test]
async fn agent_hold_then_customer_edit_keeps_allocated_units_owned() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let start = s.available("MUG-CLASSIC", "WH-NJ").await?;
    let id = s.place("cust-h", &order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 2}]))).await?;
    steps(&s, &id, &["validate-order", "allocate-order"]).await?;
    let admin = s.admin_token();
    let hold = s
        .call("POST", &format!("/v1/admin/orders/{id}/hold"), Some(&admin), Some(&json!({"reason": "call"})), &[])
        .await?;
    assert_eq!(hold.status, 200, "{}", hold.text);
    let version = hold.json()["version"].as_u64().unwrap().to_string();
    let t = s.token("cust-h");
    let edit = s
        .call(
            "PATCH",
            &format!("/v1/orders/{id}"),
            Some(&t),
            Some(&json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 3}]})),
            &[("If-Match", &version)],
        )
        .await?;
    assert_eq!(edit.status, 200, "an order on hold before handover can be edited: {}", edit.text);
    // The counters equal what the order owns, whatever state its units are in.
    let (_, held, allocated) = s.available("MUG-CLASSIC", "WH-NJ").await?;
    assert_eq!(stock_owned(&s, std::slice::from_ref(&id), "MUG-CLASSIC", "WH-NJ").await?, (held, allocated));
    let cancel = s.call("POST", &format!("/v1/orders/{id}/cancel"), Some(&t), None, &[]).await?;
    assert_eq!(cancel.status, 200, "{}", cancel.text);
    assert_eq!(s.available("MUG-CLASSIC", "WH-NJ").await?, start, "everything released");
    let kinds: Vec<Value> = s.drain_notifications().await?.into_iter().map(|n| n["type"].clone()).collect();
    assert_eq!(kinds, vec![json!("order.cancelled")], "one mail, for the change that committed");
    Ok(())
}

#[tokio::test]
async fn cancels_racing_the_workflow_leave_no_label_or_authorization_open() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let t = s.token("cust-r");
    let mut ids = Vec::new();
    for i in 0..16u64 {
        let id = s.place("cust-r", &order_body(json!([{"sku": "SOCKS-3PK", "quantity": 1}]))).await?;
        tokio::time::sleep(std::time::Duration::from_millis(i * 7 % 60)).await;
        let _ = s.call("POST", &format!("/v1/orders/{id}/cancel"), Some(&t), None, &[]).await?;
        ids.push(id);
    }
    // Quiescence: every order cancelled or ready to ship, effects dispatched.
    s.eventually("the workflows to settle", || async {
        for id in &ids {
            let st = s.order("cust-r", id).await?["status"].clone();
            if st != "cancelled" && st != "ready_to_ship" {
                return Ok(false);
            }
        }
        s.effects_settled().await
    })
    .await?;
    let mut live_labels = 0;
    let mut live_auths = 0;
    for id in &ids {
        let o = s.order("cust-r", id).await?;
        if o["status"] == "ready_to_ship" {
            live_labels += o["shipments"].as_array().unwrap().len();
            live_auths += 1;
        }
    }
    assert_eq!(s.local.carrier.active_labels(), live_labels, "no label left on a cancelled order");
    assert_eq!(s.local.payments.open_authorizations(), live_auths, "no authorization left on a cancelled order");
    Ok(())
}

#[tokio::test]
async fn a_cancel_after_the_carrier_scan_was_accepted_is_refused() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let (id, tracking) =
        s.ready_order("cust-s", "s@example.com", json!([{"sku": "MUG-CLASSIC", "quantity": 1}])).await?;
    let scan = s.carrier_event("evt_scan_1", &tracking[0], "in_transit").await?;
    assert_eq!(scan.status, 200);
    // The scan is accepted (the tracking consumer has not run yet): the parcel is moving.
    let cancel = s.call("POST", &format!("/v1/orders/{id}/cancel"), Some(&s.token("cust-s")), None, &[]).await?;
    assert_eq!(cancel.status, 409, "{}", cancel.text);
    assert_eq!(s.local.payments.open_authorizations(), 1, "the capture still has its authorization");
    Ok(())
}

#[tokio::test]
async fn a_return_of_lines_from_two_locations_restocks_each_where_it_shipped_from() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    let id = s
        .delivered_order(
            "cust-2l",
            "two@example.com",
            json!([{"sku": "DESK-LAMP", "quantity": 1}, {"sku": "TV-55", "quantity": 1}]),
        )
        .await?;
    let o = s.order("cust-2l", &id).await?;
    let from = |sku: &str| {
        o["shipments"].as_array().unwrap().iter().find(|sh| sh["lines"][0]["sku"] == sku).unwrap()["locationId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (lamp_from, tv_from) = (from("DESK-LAMP"), from("TV-55"));
    assert_ne!(lamp_from, tv_from, "a split order");
    let lamp_before = s.available("DESK-LAMP", &lamp_from).await?.0;
    let tv_before = s.available("TV-55", &tv_from).await?.0;
    let lines: Vec<Value> = o["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| json!({"lineId": l["lineId"], "quantity": 1, "reason": "no_longer_needed"}))
        .collect();
    let rma = s.open_return("cust-2l", &id, &json!({"lines": lines, "resolution": "refund"})).await?;
    assert_eq!(rma.status, 201, "{}", rma.text);
    let rma_id = rma.json()["id"].as_str().unwrap().to_owned();
    let receive: Vec<Value> = o["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| json!({"lineId": l["lineId"], "quantity": 1, "condition": "resellable"}))
        .collect();
    let r = s.receive_return(&rma_id, json!(receive)).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.available("DESK-LAMP", &lamp_from).await?.0, lamp_before + 1, "the lamp goes back to {lamp_from}");
    assert_eq!(s.available("TV-55", &tv_from).await?.0, tv_before + 1, "the TV goes back to {tv_from}");
    Ok(())
}

#[tokio::test]
async fn goodwill_and_return_refunds_never_exceed_what_was_captured() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    let id = s.delivered_order("cust-g", "g@example.com", json!([{"sku": "MUG-CLASSIC", "quantity": 2}])).await?;
    let o = s.order("cust-g", &id).await?;
    let total = o["totals"]["total"]["amount"].as_i64().unwrap();
    let admin = s.admin_token();
    let g = s
        .call(
            "POST",
            &format!("/v1/admin/orders/{id}/refunds"),
            Some(&admin),
            Some(&json!({"amount": {"amount": total, "currency": "USD"}, "reason": "all of it"})),
            &[("Idempotency-Key", "g-1")],
        )
        .await?;
    assert_eq!(g.status, 200, "{}", g.text);
    let rma = s
        .open_return(
            "cust-g",
            &id,
            &json!({"lines": [{"lineId": "L1", "quantity": 2, "reason": "other"}], "resolution": "refund"}),
        )
        .await?;
    assert_eq!(rma.status, 201, "{}", rma.text);
    let rma_id = rma.json()["id"].as_str().unwrap().to_owned();
    let _ = s.receive_return(&rma_id, json!([{"lineId": "L1", "quantity": 2, "condition": "resellable"}])).await?;
    s.settle_effects().await?;
    assert!(
        s.local.payments.refunded_total() <= s.local.payments.captured_total(),
        "refunded {} of {} captured",
        s.local.payments.refunded_total(),
        s.local.payments.captured_total()
    );
    Ok(())
}

/// A goodwill refund's key names one refund of the order whoever sends it: a second member of
/// staff with the same key gets the first refund's answer or 422, never a second ledger entry
/// under the provider key the first one used (the provider would refund once, the ledger twice).
#[tokio::test]
async fn one_goodwill_key_is_one_refund_whoever_sends_it() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    let id = s.delivered_order("cust-gk", "gk@example.com", json!([{"sku": "MUG-CLASSIC", "quantity": 2}])).await?;
    let path = format!("/v1/admin/orders/{id}/refunds");
    let agent = s.scoped_token("agent-gk", "oms/agent");
    let supervisor = s.scoped_token("sup-gk", "oms/supervisor");
    let body = |amount: i64| json!({"amount": {"amount": amount, "currency": "USD"}, "reason": "late delivery"});
    let key = [("Idempotency-Key", "ticket-1")];
    let r = s.call("POST", &path, Some(&agent), Some(&body(500)), &key).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.call("POST", &path, Some(&supervisor), Some(&body(3000)), &key).await?;
    assert_eq!(
        (r.status, r.json()["type"].as_str()),
        (422, Some("urn:oms:problem:idempotency-key-reused")),
        "{}",
        r.text
    );
    let r = s.call("POST", &path, Some(&supervisor), Some(&body(500)), &key).await?;
    assert_eq!(r.status, 200, "the first refund's answer: {}", r.text);
    s.settle_effects().await?;
    let o = s.local.oms.store.get_order(&oms_shared::domain::OrderId::parse(&id)?).await?.unwrap();
    let refunds: Vec<i64> = o
        .payment
        .ledger
        .iter()
        .filter(|e| e.kind == oms_shared::domain::LedgerKind::Refunded)
        .map(|e| e.amount.amount())
        .collect();
    assert_eq!(refunds, vec![500], "one refund in the ledger");
    assert_eq!(s.local.payments.refunded_total(), 500, "one refund at the provider");
    Ok(())
}

#[tokio::test]
async fn one_dispute_event_delivered_eight_times_at_once_opens_one_case() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let (id, _) = s.ready_order("cust-dd", "dd@example.com", json!([{"sku": "MUG-CLASSIC", "quantity": 1}])).await?;
    let auth = s.local.oms.store.get_order(&OrderId::parse(&id)?).await?.unwrap().payment.authorization_id.unwrap();
    let body = json!({"id": "evt_dup_1", "object": "event", "type": "charge.dispute.created", "data": {"object": {"id": "dp_9", "object": "dispute", "payment_intent": auth, "amount": 1350, "reason": "fraudulent", "status": "needs_response"}}}).to_string();
    let sig = oms_shared::app::disputes::sign(
        oms_local::PAYMENT_WEBHOOK_SECRET,
        chrono::Utc::now().timestamp(),
        body.as_bytes(),
    );
    let posts = (0..8).map(|_| {
        s.http
            .post(s.url("/v1/webhooks/payments/stripe"))
            .header("content-type", "application/json")
            .header("stripe-signature", sig.clone())
            .body(body.clone())
            .send()
    });
    for r in futures::future::join_all(posts).await {
        assert_eq!(r?.status().as_u16(), 200);
    }
    let cases = s.local.oms.store.cases_of_order(&OrderId::parse(&id)?).await?;
    assert_eq!(cases.len(), 1, "{cases:?}");
    Ok(())
}

#[tokio::test]
async fn an_order_edited_after_authorization_is_relabelled_and_charged_once() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    let id = s.place("cust-e", &order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]))).await?;
    steps(&s, &id, &["validate-order", "allocate-order", "authorize-payment"]).await?;
    let t = s.token("cust-e");
    let v = s.order("cust-e", &id).await?["version"].as_u64().unwrap().to_string();
    let edit = s
        .call(
            "PATCH",
            &format!("/v1/orders/{id}"),
            Some(&t),
            Some(&json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": 2}]})),
            &[("If-Match", &v)],
        )
        .await?;
    assert_eq!(edit.status, 200, "{}", edit.text);
    assert_eq!(edit.json()["status"], "placed", "the workflow runs again");
    s.settle_effects().await?;
    let ex = s.local.workflow.run(&id).await;
    assert!(ex.result.is_ok(), "{:?}", ex.result);
    let o = s.order("cust-e", &id).await?;
    assert_eq!(o["status"], "ready_to_ship");
    let live: Vec<&Value> =
        o["shipments"].as_array().unwrap().iter().filter(|sh| sh["status"] != "cancelled").collect();
    let units: u64 =
        live.iter().flat_map(|sh| sh["lines"].as_array().unwrap()).map(|l| l["quantity"].as_u64().unwrap()).sum();
    assert_eq!(units, 2, "only the new lines are labelled: {o}");
    assert_eq!(s.local.carrier.active_labels(), live.len(), "no label for a cancelled shipment");
    assert_eq!(s.local.payments.open_authorizations(), 1, "the old authorization voided, a new one open");
    // Staff see what the standing authorization holds: the new total, not both.
    assert_eq!(o["payment"]["authorized"], o["totals"]["total"], "{}", o["payment"]);
    for sh in &live {
        let tn = sh["trackingNumber"].as_str().unwrap();
        for st in ["in_transit", "delivered"] {
            assert_eq!(s.carrier_event(&format!("evt-{tn}-{st}"), tn, st).await?.status, 200);
        }
    }
    let delivered = s.wait_for_status("cust-e", &id, "delivered").await?;
    assert_eq!(s.local.payments.captured_total(), delivered["totals"]["total"]["amount"].as_i64().unwrap());
    Ok(())
}

#[tokio::test]
async fn units_of_one_line_shipped_from_two_locations_go_back_to_each() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    let admin = s.admin_token();
    for loc in ["WH-TX", "WH-NJ"] {
        let r = s
            .call("PUT", &format!("/v1/admin/stock/DESK-LAMP/{loc}"), Some(&admin), Some(&json!({"onHand": 1})), &[])
            .await?;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let id = s.delivered_order("cust-2u", "2u@example.com", json!([{"sku": "DESK-LAMP", "quantity": 2}])).await?;
    assert_eq!(s.order("cust-2u", &id).await?["shipments"].as_array().unwrap().len(), 2, "one unit from each");
    let rma = s
        .open_return(
            "cust-2u",
            &id,
            &json!({"lines": [{"lineId": "L1", "quantity": 2, "reason": "other"}], "resolution": "refund"}),
        )
        .await?;
    assert_eq!(rma.status, 201, "{}", rma.text);
    let rma_id = rma.json()["id"].as_str().unwrap().to_owned();
    let r = s.receive_return(&rma_id, json!([{"lineId": "L1", "quantity": 2, "condition": "resellable"}])).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.available("DESK-LAMP", "WH-TX").await?.0, 1);
    assert_eq!(s.available("DESK-LAMP", "WH-NJ").await?.0, 1);
    Ok(())
}

#[tokio::test]
async fn an_exchange_credit_never_exceeds_what_is_left_of_the_payment() -> anyhow::Result<()> {
    let s = Stack::with_workers_only().await?;
    let id = s.delivered_order("cust-x", "x@example.com", json!([{"sku": "MUG-CLASSIC", "quantity": 1}])).await?;
    let total = s.order("cust-x", &id).await?["totals"]["total"]["amount"].as_i64().unwrap();
    let rma = s.open_return("cust-x", &id, &json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": "other"}], "resolution": "exchange", "exchangeLines": [{"sku": "MUG-CLASSIC", "quantity": 1}]})).await?;
    assert_eq!(rma.status, 201, "{}", rma.text);
    let admin = s.admin_token();
    let g = s
        .call(
            "POST",
            &format!("/v1/admin/orders/{id}/refunds"),
            Some(&admin),
            Some(&json!({"amount": {"amount": total, "currency": "USD"}, "reason": "everything back"})),
            &[("Idempotency-Key", "gx-1")],
        )
        .await?;
    assert_eq!(g.status, 200, "{}", g.text);
    let rma_id = rma.json()["id"].as_str().unwrap().to_owned();
    let r = s.receive_return(&rma_id, json!([{"lineId": "L1", "quantity": 1, "condition": "resellable"}])).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let replacement = OrderId::parse(r.json()["exchangeOrderId"].as_str().unwrap())?;
    let placed = s.local.oms.store.get_order(&replacement).await?.unwrap();
    assert_eq!(placed.credit.map(|c| c.amount()).unwrap_or(0), 0, "the money was already refunded");
    let report = s.local.oms.reconcile().await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
    assert!(report.payments.is_empty(), "{report:?}");
    Ok(())
}
