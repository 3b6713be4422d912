//! Channels: a customer places web and app orders only; call-centre and store orders are placed
//! by staff for a customer (the agent recorded, the customer's order, mail and idempotency).

use oms_tests::{Stack, order_body};
use serde_json::json;

#[tokio::test]
async fn customers_place_web_and_app_orders_and_agents_place_call_centre_orders_for_them() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let customer = s.token("cust-ch");
    for channel in ["call_center", "store", "marketplace"] {
        let mut body = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
        body["channel"] = json!(channel);
        let r = s.call("POST", "/v1/orders", Some(&customer), Some(&body), &[("Idempotency-Key", channel)]).await?;
        assert_eq!(r.status, 400, "{channel}: {}", r.text);
        assert_eq!(r.json()["field"], "channel");
    }
    let mut app = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
    app["channel"] = json!("app");
    s.place("cust-ch", &app).await?;

    // An agent places a call-centre order for the customer (channel defaults to call_center).
    let agent = s.scoped_token("agent-ch", "oms/agent");
    let mut staff = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 2}]));
    staff.as_object_mut().map(|o| o.remove("channel"));
    staff["customerId"] = json!("cust-ch");
    staff["email"] = json!("cust-ch@example.com");
    let key = [("Idempotency-Key", "cc-1")];
    let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &key).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["orderId"].as_str().unwrap_or_default().to_owned();
    let again = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &key).await?;
    assert_eq!((again.status, again.json()["orderId"].as_str()), (201, Some(id.as_str())), "a retry is the same order");
    // The customer's order: they read it, it is in their list; the agent is on its timeline.
    let mine = s.call("GET", &format!("/v1/orders/{id}"), Some(&customer), None, &[]).await?;
    assert_eq!(mine.status, 200, "{}", mine.text);
    let o = s.order("cust-ch", &id).await?;
    assert_eq!(o["channel"], "call_center");
    let placed = o["timeline"].as_array().into_iter().flatten().find(|e| e["kind"] == "order.placed").cloned();
    assert_eq!(placed.map(|e| e["actor"].clone()), Some(json!({"type": "agent", "id": "agent-ch"})), "{o}");
    // Store orders too; web, app and marketplace are not staff's to place.
    staff["channel"] = json!("store");
    let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &[("Idempotency-Key", "st-1")]).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    for channel in ["web", "app", "marketplace"] {
        staff["channel"] = json!(channel);
        let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &[("Idempotency-Key", channel)]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("channel")), "{channel}: {}", r.text);
    }
    // Who may: agents and supervisors; not warehouse, integration or the customer; the
    // customer must be named.
    staff["channel"] = json!("call_center");
    for (token, status) in [
        (s.scoped_token("wh", "oms/warehouse"), 403),
        (s.scoped_token("int", "oms/integration"), 403),
        (customer.clone(), 403),
    ] {
        let r = s.call("POST", "/v1/admin/orders", Some(&token), Some(&staff), &[("Idempotency-Key", "x-1")]).await?;
        assert_eq!(r.status, status, "{}", r.text);
    }
    for bad in [json!(null), json!(" "), json!("  cust-ch"), json!("cust-ch "), json!("\u{200b}x"), json!(42)] {
        staff["customerId"] = bad.clone();
        let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &[("Idempotency-Key", "x-2")]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("customerId")), "{bad}: {}", r.text);
    }
    staff.as_object_mut().map(|o| o.remove("customerId"));
    let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&staff), &[("Idempotency-Key", "x-2")]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("customerId")), "{}", r.text);
    let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&json!([])), &[("Idempotency-Key", "x-3")]).await?;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("expected an object"), "{}", r.text);
    Ok(())
}
