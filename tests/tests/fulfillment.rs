//! The fulfillment workflow, executed by the ASL executor from the real definition file, on
//! DynamoDB Local and moto SQS.

use oms_local::workflow::Fault;
use oms_tests::{Stack, order_body};
use serde_json::{Value, json};

fn by_type<'a>(msgs: &'a [Value], order: &str) -> Vec<&'a str> {
    msgs.iter().filter(|m| m["orderId"] == order).filter_map(|m| m["type"].as_str()).collect()
}

#[tokio::test]
async fn a_placed_order_reaches_ready_to_ship_through_the_stream_and_the_definition() -> anyhow::Result<()> {
    // Workflows from the stream; no queue workers, so the notification stays on the queue.
    let s = Stack::with(oms_local::Options { workers: false, ..Default::default() }).await?;
    let id = s
        .place("cust-1", &order_body(json!([{"sku": "TV-55", "quantity": 1}, {"sku": "SOCKS-3PK", "quantity": 2}])))
        .await?;
    let o = s.wait_for_status("cust-1", &id, "ready_to_ship").await?;
    let shipments = o["shipments"].as_array().unwrap();
    assert_eq!(shipments.len(), 1, "WH-NJ holds both: {o}");
    assert_eq!(shipments[0]["locationId"], "WH-NJ");
    assert_eq!(shipments[0]["status"], "label_created");
    assert!(shipments[0]["trackingNumber"].as_str().unwrap().starts_with("SBX"));
    let kinds: Vec<&str> = o["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        vec!["order.placed", "order.validated", "order.allocated", "payment.authorized", "labels.created"]
    );
    // Payment authorized, not captured.
    assert_eq!(s.local.payments.open_authorizations(), 1);
    // Stock moved from held to allocated.
    assert_eq!(s.available("TV-55", "WH-NJ").await?, (7, 0, 1));
    // One confirmation, from the state machine's SQS task.
    for _ in 0..100 {
        if !s.local.workflow.executions.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let msgs = s.drain_notifications().await?;
    assert_eq!(by_type(&msgs, &id), vec!["order.confirmed"]);
    // The label is a PDF.
    let label = s
        .call(
            "GET",
            &format!("/v1/admin/orders/{id}/shipments/{}/label", shipments[0]["id"].as_str().unwrap()),
            Some(&s.admin_token()),
            None,
            &[],
        )
        .await?;
    assert_eq!(label.status, 200);
    assert!(label.text.starts_with("%PDF-1.4"));
    Ok(())
}

/// Where the fault is injected and what the order must look like afterwards.
struct Case {
    state: &'static str,
    after: bool,
}

#[tokio::test]
async fn fault_matrix_every_failure_ends_consistent_with_one_notification() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let cases = [
        Case { state: "Validate", after: false },
        Case { state: "Validate", after: true },
        Case { state: "Allocate", after: false },
        Case { state: "Allocate", after: true },
        Case { state: "AuthorizePayment", after: false },
        Case { state: "AuthorizePayment", after: true },
        Case { state: "CreateLabels", after: false },
        Case { state: "CreateLabels", after: true },
    ];
    let start = s.available("TSHIRT-BLK-M", "WH-NJ").await?;
    for c in cases {
        let id = s.place("cust-f", &order_body(json!([{"sku": "TSHIRT-BLK-M", "quantity": 2}]))).await?;
        *s.local.workflow.tasks.faults.lock().unwrap() =
            vec![Fault { state: c.state.into(), after: c.after, error: "InjectedFailure".into(), times: 1 }];
        let ex = s.local.workflow.run(&id).await;
        let what = format!("{} {}", if c.after { "after" } else { "before" }, c.state);
        assert_eq!(ex.result.as_ref().unwrap_err().error, "OrderNotFulfilled", "{what}");
        let o = s.order("cust-f", &id).await?;
        assert_eq!(o["status"], "failed", "{what}: {o}");
        assert!(o["statusReason"].as_str().unwrap().contains("InjectedFailure"), "{what}");
        assert_eq!(s.available("TSHIRT-BLK-M", "WH-NJ").await?, start, "{what}: stock released");
        assert_eq!(s.local.payments.open_authorizations(), 0, "{what}: no authorization left open");
        assert_eq!(s.local.carrier.active_labels(), 0, "{what}: labels voided");
        assert!(o["shipments"].as_array().unwrap().iter().all(|sh| sh["status"] == "cancelled"), "{what}");
        let msgs = s.drain_notifications().await?;
        assert_eq!(by_type(&msgs, &id), vec!["order.failed"], "{what}");
        // Compensation again (a redelivered execution) changes nothing and sends nothing.
        let again = s
            .local
            .fulfillment
            .dispatch("compensate-order", json!({"orderId": id, "error": {"Error": "X", "Cause": ""}}))
            .await?;
        assert_eq!(again["compensated"], false);
        assert!(s.drain_notifications().await?.is_empty(), "{what}");
    }
    Ok(())
}

#[tokio::test]
async fn transient_failures_before_and_after_side_effects_are_retried_safely() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    for state in ["Validate", "Allocate", "AuthorizePayment", "CreateLabels"] {
        for after in [false, true] {
            let id = s.place("cust-t", &order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]))).await?;
            let before = s.local.payments.calls.lock().unwrap().iter().filter(|c| c.0 == "authorize").count();
            *s.local.workflow.tasks.faults.lock().unwrap() =
                vec![Fault { state: state.into(), after, error: "StoreTransient".into(), times: 1 }];
            let ex = s.local.workflow.run(&id).await;
            assert!(ex.result.is_ok(), "{state} {after}: {:?}", ex.result);
            let o = s.order("cust-t", &id).await?;
            assert_eq!(o["status"], "ready_to_ship", "{state} {after}");
            assert_eq!(o["shipments"].as_array().unwrap().len(), 1, "{state} {after}: one shipment, not two");
            let auths = s.local.payments.calls.lock().unwrap().iter().filter(|c| c.0 == "authorize").count() - before;
            assert!(auths <= 2, "{state} {after}: {auths} authorize calls");
            assert_eq!(by_type(&s.drain_notifications().await?, &id), vec!["order.confirmed"], "{state} {after}");
        }
    }
    assert_eq!(s.local.carrier.active_labels(), 8);
    Ok(())
}

#[tokio::test]
async fn declined_payment_waits_for_another_payment_method_with_stock_held() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let before = s.available("DESK-LAMP", "WH-TX").await?;
    let mut body = order_body(json!([{"sku": "DESK-LAMP", "quantity": 1}]));
    body["paymentToken"] = json!("tok_chargeDeclined");
    let id = s.place("cust-d", &body).await?;
    let ex = s.local.workflow.run(&id).await;
    assert!(ex.result.is_ok(), "the run ends waiting for payment: {:?}", ex.result);
    assert_eq!(ex.history.last().map(|h| h.state.as_str()), Some("AwaitingPayment"));
    let o = s.order("cust-d", &id).await?;
    assert_eq!(o["status"], "payment_required");
    assert!(o["statusReason"].as_str().unwrap().starts_with("payment_declined"));
    let held = s.available("DESK-LAMP", "WH-TX").await?;
    assert_eq!(held.0, before.0 - 1, "the unit stays with the order: {before:?} {held:?}");
    assert_eq!(by_type(&s.drain_notifications().await?, &id), vec!["order.payment_declined"]);
    // Transient provider trouble and a lost response are retried with the same key.
    for token in ["tok_transientError", "tok_timeoutAfterSuccess"] {
        body["paymentToken"] = json!(token);
        let id = s.place("cust-d", &body).await?;
        assert!(s.local.workflow.run(&id).await.result.is_ok(), "{token}");
        assert_eq!(s.order("cust-d", &id).await?["status"], "ready_to_ship", "{token}");
    }
    assert_eq!(s.local.payments.open_authorizations(), 2, "one authorization per order, none duplicated");
    Ok(())
}

#[tokio::test]
async fn split_orders_get_two_shipments_and_pickup_allocates_at_the_store() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    // DESK-LAMP only at WH-TX, TV-55 at WH-NJ and WH-CA: two locations.
    let id = s
        .place("cust-s", &order_body(json!([{"sku": "DESK-LAMP", "quantity": 1}, {"sku": "TV-55", "quantity": 1}])))
        .await?;
    s.local.workflow.run(&id).await.result.map_err(|e| anyhow::anyhow!("{e}"))?;
    let o = s.order("cust-s", &id).await?;
    let mut locs: Vec<&str> =
        o["shipments"].as_array().unwrap().iter().map(|x| x["locationId"].as_str().unwrap()).collect();
    locs.sort();
    assert_eq!(locs, vec!["WH-NJ", "WH-TX"]);
    let tracking: std::collections::BTreeSet<&str> =
        o["shipments"].as_array().unwrap().iter().map(|x| x["trackingNumber"].as_str().unwrap()).collect();
    assert_eq!(tracking.len(), 2, "two labels");

    let mut pickup = order_body(json!([{"sku": "HEADPHONES-X1", "quantity": 1}]));
    pickup.as_object_mut().unwrap().remove("serviceLevel");
    pickup["deliveryOptionId"] = json!("pickup-STORE-NYC");
    let before = s.available("HEADPHONES-X1", "STORE-NYC").await?;
    let id = s.place("cust-s", &pickup).await?;
    s.local.workflow.run(&id).await.result.map_err(|e| anyhow::anyhow!("{e}"))?;
    let o = s.order("cust-s", &id).await?;
    assert_eq!(o["status"], "ready_for_pickup");
    assert_eq!(o["shipments"][0]["locationId"], "STORE-NYC");
    assert_eq!(o["shipments"][0]["serviceLevel"], "pickup");
    assert!(o["shipments"][0].get("trackingNumber").is_none(), "pickups need no label");
    assert_eq!(s.available("HEADPHONES-X1", "STORE-NYC").await?, (before.0 - 1, before.1, before.2 + 1));
    Ok(())
}

#[tokio::test]
async fn rerunning_any_step_with_the_same_input_changes_nothing() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let id = s.place("cust-r", &order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 3}]))).await?;
    s.local.workflow.run(&id).await.result.map_err(|e| anyhow::anyhow!("{e}"))?;
    let before = s.order("cust-r", &id).await?;
    let stock = s.available("MUG-CLASSIC", "WH-NJ").await?;
    s.drain_notifications().await?;
    for step in ["validate-order", "allocate-order", "authorize-payment", "create-labels"] {
        s.local.fulfillment.dispatch(step, json!({"orderId": id})).await.map_err(|e| anyhow::anyhow!("{step}: {e}"))?;
    }
    let after = s.order("cust-r", &id).await?;
    assert_eq!(after["version"], before["version"]);
    assert_eq!(after["shipments"], before["shipments"]);
    assert_eq!(after["timeline"].as_array().unwrap().len(), before["timeline"].as_array().unwrap().len());
    assert_eq!(s.available("MUG-CLASSIC", "WH-NJ").await?, stock);
    assert_eq!(s.local.payments.open_authorizations(), 1);
    assert_eq!(s.local.carrier.active_labels(), 1);
    assert!(s.drain_notifications().await?.is_empty());
    // Bad input is a typed step error.
    let bad = s.local.fulfillment.dispatch("validate-order", json!({"order": 1})).await.unwrap_err();
    assert_eq!(bad.name, "InvalidInput");
    Ok(())
}

#[tokio::test]
async fn fraud_holds_and_an_agent_release_re_enters_the_workflow() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let mut body = order_body(json!([{"sku": "TV-55", "quantity": 3}]));
    // High value and a foreign billing address: held for review.
    body["billingAddress"] = json!({"name": "Ann Lee", "line1": "10 Downing St", "city": "London", "postalCode": "SW1A 2AA", "country": "GB"});
    let id = s.place("cust-h", &body).await?;
    let held = s.wait_for_status("cust-h", &id, "on_hold").await?;
    assert!(held["statusReason"].as_str().unwrap().contains("billing_shipping_country_mismatch"));
    assert_eq!(s.available("TV-55", "WH-NJ").await?.1, 3, "a review hold keeps the stock held");
    let customer_try =
        s.call("POST", &format!("/v1/admin/orders/{id}/release-hold"), Some(&s.token("cust-h")), None, &[]).await?;
    assert_eq!(customer_try.status, 403);
    let r = s.call("POST", &format!("/v1/admin/orders/{id}/release-hold"), Some(&s.admin_token()), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let o = s.wait_for_status("cust-h", &id, "ready_to_ship").await?;
    assert!(
        o["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "order.hold_released" && e["actor"]["type"] == "agent")
    );
    let again =
        s.call("POST", &format!("/v1/admin/orders/{id}/release-hold"), Some(&s.admin_token()), None, &[]).await?;
    assert_eq!(again.status, 409);
    Ok(())
}

/// A name in another script (and an emoji) is accepted at placement and the order ships: the
/// label carries it spelled in Latin, the order keeps it as entered.
#[tokio::test]
async fn orders_to_names_in_other_scripts_get_labels() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    for name in ["Łukasz Wałęsa", "Владимир Петров", "李雷", "Ann 😀"] {
        let mut body = order_body(json!([{"sku": "SOCKS-3PK", "quantity": 1}]));
        body["shippingAddress"]["name"] = json!(name);
        let id = s.place("cust-scripts", &body).await?;
        let o = s.wait_for_status("cust-scripts", &id, "ready_to_ship").await?;
        assert!(o["shipments"][0]["trackingNumber"].as_str().is_some_and(|t| t.starts_with("SBX")), "{o}");
        assert_eq!(o["shippingAddress"]["name"], name, "{o}");
    }
    // A street line as long as placement takes once spelled in Latin (30 letters, 120 spelled)
    // ships whole; one letter more is refused at placement, naming the field, and nothing is
    // written (it used to be taken, paid for, and fail at the label).
    let mut body = order_body(json!([{"sku": "SOCKS-3PK", "quantity": 1}]));
    body["shippingAddress"]["line1"] = json!("Щ".repeat(30));
    let id = s.place("cust-scripts", &body).await?;
    s.wait_for_status("cust-scripts", &id, "ready_to_ship").await?;
    body["shippingAddress"]["line1"] = json!("Щ".repeat(31));
    let t = s.token("cust-long");
    let r = s.call("POST", "/v1/orders", Some(&t), Some(&body), &[("Idempotency-Key", "long-line-1")]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("shippingAddress.line1")), "{}", r.text);
    assert!(r.text.contains("label"), "{}", r.text);
    // A street or city a label would print as nothing (emoji, a ligature spelling a phrase).
    for (i, (field, value)) in [("line1", "🏠🏠🏠"), ("line1", "\u{FDFA}"), ("city", "🌆")].into_iter().enumerate()
    {
        let mut bad = order_body(json!([{"sku": "SOCKS-3PK", "quantity": 1}]));
        bad["shippingAddress"][field] = json!(value);
        let r =
            s.call("POST", "/v1/orders", Some(&t), Some(&bad), &[("Idempotency-Key", &format!("blank-{i}"))]).await?;
        assert_eq!(
            (r.status, r.json()["field"].as_str()),
            (400, Some(format!("shippingAddress.{field}").as_str())),
            "{}",
            r.text
        );
    }
    let mine = s.call("GET", "/v1/orders", Some(&t), None, &[]).await?.json();
    assert_eq!(mine["orders"].as_array().map(Vec::len), Some(0), "nothing placed: {mine}");
    // A location whose address a label cannot print whole is refused when it is saved, not
    // when its first parcel ships.
    let admin = s.admin_token();
    let all = s.call("GET", "/v1/admin/locations", Some(&admin), None, &[]).await?.json();
    let mut nj = all["locations"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["id"] == "WH-NJ" || l["locationId"] == "WH-NJ")
        .cloned()
        .unwrap_or_default();
    for k in ["id", "locationId"] {
        nj.as_object_mut().map(|o| o.remove(k));
    }
    for (field, value) in [("line1", "Щ".repeat(30)), ("city", "🏭".into())] {
        let mut l = nj.clone();
        l["address"][field] = json!(value);
        let r = s.call("PUT", "/v1/admin/locations/WH-NJ", Some(&admin), Some(&l), &[]).await?;
        assert!(r.status == 400 || r.status == 422, "{}", r.text);
        assert!(r.text.contains(&format!("address.{field}")), "{}", r.text);
    }
    Ok(())
}
