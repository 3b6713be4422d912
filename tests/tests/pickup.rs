//! Store pickup to the end, from outside: a pickup order waits at the store with a code the
//! customer gets by mail (a real MIME parse) and in their order, never in staff's view; a wrong
//! code changes nothing; the right one delivers the order, takes its units off the store's
//! shelf and captures the payment once (a repeat answers the same); an order nobody collects is
//! reminded once and then cancelled with its authorization voided and its units back.

use chrono::{DateTime, Duration, Utc};
use oms_shared::adapters::sandbox::payment::IntentState;
use oms_shared::ports::Clock;
use oms_tests::{Stack, order_body};
use serde_json::{Value, json};
use std::sync::Arc;

struct At(DateTime<Utc>);
impl Clock for At {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn pickup_body(email: &str) -> Value {
    let mut b = order_body(json!([{"sku": "HEADPHONES-X1", "quantity": 1}]));
    b.as_object_mut().map(|o| o.remove("serviceLevel"));
    b["deliveryOptionId"] = json!("pickup-STORE-NYC");
    b["email"] = json!(email);
    b
}

/// The pickup code in the newest ready-for-pickup mail to `email`, read with a MIME parser.
async fn code_in_mail(s: &Stack, email: &str) -> anyhow::Result<String> {
    for _ in 0..100 {
        let mail = oms_local::mail(&s.local.moto_endpoint).await?;
        for m in mail.as_array().into_iter().flatten().rev().filter(|m| m["to"].to_string().contains(email)) {
            let raw = m["raw"].as_str().unwrap_or_default();
            let Some(msg) = mail_parser::MessageParser::default().parse(raw.as_bytes()) else { continue };
            if msg.subject() != Some("Your order is ready for pickup") {
                continue;
            }
            let text = msg.body_text(0).unwrap_or_default().to_string();
            if let Some(code) = text.split("Your pickup code: ").nth(1).map(|r| r.chars().take(6).collect::<String>()) {
                return Ok(code);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("no ready-for-pickup mail to {email}")
}

#[tokio::test]
async fn a_pickup_order_is_collected_with_its_code_and_an_uncollected_one_expires() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let email = format!("pickup-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    let before = s.available("HEADPHONES-X1", "STORE-NYC").await?;
    let id = s.place("cust-pick", &pickup_body(&email)).await?;
    let staff_view = s.wait_for_status("cust-pick", &id, "ready_for_pickup").await?;
    assert!(staff_view["pickup"]["expiresAt"].is_string(), "{staff_view}");
    assert!(staff_view["pickup"].get("code").is_none(), "staff never read the code: {staff_view}");
    let mine = s.customer_order("cust-pick", &id).await?;
    let code = mine["pickup"]["code"].as_str().unwrap_or_default().to_owned();
    assert_eq!(code.len(), 6, "{mine}");
    assert_eq!(code_in_mail(&s, &email).await?, code, "the mail carries the customer's code");

    // Store staff (warehouse role) collect; a wrong code is refused and changes nothing.
    let store = s.scoped_token("store-1", "oms/warehouse");
    let path = format!("/v1/admin/orders/{id}/collected");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = s.call("POST", &path, Some(&store), Some(&json!({"code": wrong})), &[]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (422, Some("code")), "{}", r.text);
    assert_eq!(s.order("cust-pick", &id).await?["version"], staff_view["version"], "nothing changed");
    for (token, status) in [(s.token("cust-pick"), 403), (s.scoped_token("agent-p", "oms/agent"), 403)] {
        let r = s.call("POST", &path, Some(&token), Some(&json!({"code": code})), &[]).await?;
        assert_eq!(r.status, status, "{}", r.text);
    }
    for bad in [json!({}), json!({"code": ""}), json!({"code": 123456}), json!({"code": code, "extra": 1})] {
        let r = s.call("POST", &path, Some(&store), Some(&bad), &[]).await?;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    let r = s.call("POST", &path, Some(&store), Some(&json!({"code": code})), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let o = r.json();
    assert_eq!(o["status"], "delivered");
    assert_eq!(o["payment"]["captured"]["amount"], o["totals"]["total"]["amount"], "{o}");
    let collected = o["timeline"].as_array().into_iter().flatten().find(|e| e["kind"] == "order.collected").cloned();
    assert_eq!(collected.map(|e| e["actor"].clone()), Some(json!({"type": "agent", "id": "store-1"})));
    let again = s.call("POST", &path, Some(&store), Some(&json!({"code": code})), &[]).await?;
    assert_eq!((again.status, again.json()["version"].clone()), (200, o["version"].clone()), "a repeat: the same");
    let after = s.available("HEADPHONES-X1", "STORE-NYC").await?;
    assert_eq!(after.0, before.0 - 1, "the unit left the shelf");
    assert_eq!((after.1, after.2), (before.1, before.2), "nothing held or allocated for it any more");
    s.settle_effects().await?;
    let auth = o["payment"]["authorizationId"].as_str().unwrap_or_default().to_owned();
    let total = o["totals"]["total"]["amount"].as_i64().unwrap_or(-1);
    assert_eq!(
        s.local.payments.state(&auth),
        Some(IntentState::Captured { captured: total }),
        "captured at the provider"
    );
    // The customer returns it like any delivered order.
    let r = s
        .open_return(
            "cust-pick",
            &id,
            &json!({"lines": [{"lineId": "L1", "quantity": 1, "reason": "does_not_fit"}], "resolution": "refund"}),
        )
        .await?;
    assert_eq!(r.status, 201, "{}", r.text);

    // Another order nobody collects: reminded once a day before, then cancelled.
    let id2 = s.place("cust-pick", &pickup_body(&email)).await?;
    let held = s.wait_for_status("cust-pick", &id2, "ready_for_pickup").await?;
    let expires: DateTime<Utc> = held["pickup"]["expiresAt"].as_str().unwrap_or_default().parse()?;
    let oms = &s.local.oms;
    let mut late = oms.clone();
    late.clock = Arc::new(At(expires - Duration::hours(2)));
    let swept = late.sweep_pickups().await?;
    assert!(swept.reminded >= 1, "{swept:?}");
    let o2 = s.order("cust-pick", &id2).await?;
    assert_eq!((o2["status"].as_str(), o2["pickup"]["reminded"].as_bool()), (Some("ready_for_pickup"), Some(true)));
    let version = o2["version"].clone();
    let again = late.sweep_pickups().await?;
    assert_eq!(s.order("cust-pick", &id2).await?["version"], version, "one reminder: {again:?}");
    let mut expired = oms.clone();
    expired.clock = Arc::new(At(expires + Duration::minutes(1)));
    let swept = expired.sweep_pickups().await?;
    assert!(swept.expired >= 1, "{swept:?}");
    let o2 = s.order("cust-pick", &id2).await?;
    assert_eq!(o2["status"], "cancelled", "{o2}");
    assert!(o2["statusReason"].as_str().unwrap_or_default().starts_with("not collected"), "{o2}");
    let r = s
        .call("POST", &format!("/v1/admin/orders/{id2}/collected"), Some(&store), Some(&json!({"code": code})), &[])
        .await?;
    assert!(matches!(r.status, 409 | 422), "too late: {}", r.text);
    assert_eq!(s.available("HEADPHONES-X1", "STORE-NYC").await?, after, "the unit is back on the shelf");
    s.settle_effects().await?;
    let auth2 = o2["payment"]["authorizationId"].as_str().unwrap_or_default().to_owned();
    assert_eq!(s.local.payments.state(&auth2), Some(IntentState::Voided), "the authorization is voided");
    // The notifier sends from its queue: wait for both mails (a few seconds at most).
    let mut subjects = Vec::new();
    for _ in 0..100 {
        subjects = s.mail_to(&email).await?;
        let has = |want: &str| subjects.iter().any(|x| x == want);
        if has("Your order is waiting for you") && has("Your order is cancelled") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(subjects.iter().any(|x| x == "Your order is waiting for you"), "{subjects:?}");
    assert!(subjects.iter().any(|x| x == "Your order is cancelled"), "{subjects:?}");
    Ok(())
}

#[tokio::test]
async fn codes_cannot_be_guessed_staff_never_see_one_and_an_edit_stages_the_order_again() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let email = format!("pickup2-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    // Placed by an agent for the customer: the agent's answer, first and replayed, is staff's
    // view of the order (no code), though the customer's own view has it.
    let agent = s.scoped_token("agent-pk", "oms/agent");
    let mut body = pickup_body(&email);
    body["customerId"] = json!("cust-pick2");
    body["channel"] = json!("store");
    let key = [("Idempotency-Key", "pk-agent-1")];
    let r = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&body), &key).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["orderId"].as_str().unwrap_or_default().to_owned();
    s.wait_for_status("cust-pick2", &id, "ready_for_pickup").await?;
    let again = s.call("POST", "/v1/admin/orders", Some(&agent), Some(&body), &key).await?;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.json()["status"], "ready_for_pickup");
    assert!(again.json()["pickup"].get("code").is_none(), "a replay shows staff no code: {}", again.text);
    let code = s.customer_order("cust-pick2", &id).await?["pickup"]["code"].as_str().unwrap_or_default().to_owned();
    assert!(!again.text.contains(&code));

    // The customer changes the quantity: the order is staged again, with the same code.
    let v = s.customer_order("cust-pick2", &id).await?["version"].as_u64().unwrap_or(0).to_string();
    let edit = json!({"lines": [{"sku": "HEADPHONES-X1", "quantity": 2}]});
    let r = s
        .call("PATCH", &format!("/v1/orders/{id}"), Some(&s.token("cust-pick2")), Some(&edit), &[("If-Match", &v)])
        .await?;
    assert_eq!(r.status, 200, "{}", r.text);
    for _ in 0..100 {
        let o = s.customer_order("cust-pick2", &id).await?;
        if o["status"] == "ready_for_pickup" && o["version"].as_u64() > Some(v.parse::<u64>()? + 1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let o = s.customer_order("cust-pick2", &id).await?;
    assert_eq!(o["status"], "ready_for_pickup", "staged again after the edit: {o}");
    assert_eq!(o["pickup"]["code"].as_str(), Some(code.as_str()), "the customer keeps their code");

    // Guessing: four wrong codes are refused, the fifth locks the order's collection, and then
    // even the right code waits for the lock to end. Nothing on the order changed.
    let store = s.scoped_token("store-2", "oms/warehouse");
    let path = format!("/v1/admin/orders/{id}/collected");
    let before = s.order("cust-pick2", &id).await?["version"].clone();
    let wrong: Vec<String> = (0..20).map(|i| format!("{:06}", 100_000 + i)).filter(|c| *c != code).take(15).collect();
    for (i, w) in wrong[..3].iter().enumerate() {
        let r = s.call("POST", &path, Some(&store), Some(&json!({"code": w})), &[]).await?;
        assert_eq!(r.status, 422, "attempt {}: {}", i + 1, r.text);
    }
    // Then twelve guesses at once: each is counted before it is compared, so only the fourth
    // try can still be a plain wrong code; the fifth locks, the rest are not compared at all.
    let burst = wrong[3..].iter().map(|w| {
        let (s, store, path) = (&s, &store, &path);
        async move { s.call("POST", path, Some(store), Some(&json!({"code": w})), &[]).await }
    });
    let mut statuses = Vec::new();
    for r in futures::future::join_all(burst).await {
        let r = r?;
        assert!(matches!(r.status, 422 | 429), "{}: {}", r.status, r.text);
        statuses.push(r.status);
    }
    assert!(statuses.iter().filter(|st| **st == 422).count() <= 1, "compared at most once more: {statuses:?}");
    // Guesses that could not be counted at that instant were not compared: the lock comes at
    // the fifth counted try whatever the burst left.
    let mut locked = false;
    for _ in 0..3 {
        let r = s.call("POST", &path, Some(&store), Some(&json!({"code": wrong[0]})), &[]).await?;
        if r.status == 429 && r.json()["type"] == "urn:oms:problem:pickup-locked" {
            locked = true;
            break;
        }
        assert_eq!(r.status, 422, "{}", r.text);
    }
    assert!(locked, "locked after five counted tries");
    let r = s.call("POST", &path, Some(&store), Some(&json!({"code": code})), &[]).await?;
    assert_eq!(r.status, 429, "locked: {}", r.text);
    assert_eq!(s.order("cust-pick2", &id).await?["version"], before, "nothing changed");
    Ok(())
}

/// A store's opening hours and preparation time shape its pickup promise in quotes: open only
/// Monday 09:00-10:00 (UTC-5) with 45 minutes to prepare, an order is ready on a Monday within
/// that hour; impossible hours are refused naming the field.
#[tokio::test]
async fn opening_hours_and_lead_time_shape_the_pickup_promise() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let admin = s.admin_token();
    let all = s.call("GET", "/v1/admin/locations", Some(&admin), None, &[]).await?.json();
    let mut store = all["locations"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["id"] == "STORE-NYC")
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no STORE-NYC: {all}"))?;
    store.as_object_mut().map(|o| o.remove("id"));
    for (hours, field) in [
        (json!({"utcOffsetMinutes": -300, "days": {"mon": ["10:00", "09:00"]}}), "openingHours.days"),
        (json!({"utcOffsetMinutes": -300, "days": {"funday": ["09:00", "10:00"]}}), "openingHours.days"),
        (json!({"utcOffsetMinutes": -300, "days": {"mon": ["9am", "10:00"]}}), "openingHours.days"),
        (json!({"utcOffsetMinutes": 5000, "days": {"mon": ["09:00", "10:00"]}}), "openingHours.utcOffsetMinutes"),
    ] {
        let mut bad = store.clone();
        bad["openingHours"] = hours.clone();
        let r = s.call("PUT", "/v1/admin/locations/STORE-NYC", Some(&admin), Some(&bad), &[]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (400, Some(field)), "{hours}: {}", r.text);
    }
    store["openingHours"] = json!({"utcOffsetMinutes": -300, "days": {"mon": ["09:00", "10:00"]}});
    store["pickupLeadMinutes"] = json!(45);
    let r = s.call("PUT", "/v1/admin/locations/STORE-NYC", Some(&admin), Some(&store), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["pickupLeadMinutes"], 45);

    let quote = json!({"lines": [{"sku": "HEADPHONES-X1", "quantity": 1}], "shippingAddress": oms_tests::nyc()});
    let t = s.token("cust-hours");
    s.eventually("a pickup promise from the store's hours", || async {
        let r = s.call("POST", "/v1/quotes", Some(&t), Some(&quote), &[]).await?;
        anyhow::ensure!(r.status == 200, "{}", r.text);
        let options = r.json()["options"].as_array().cloned().unwrap_or_default();
        let Some(p) = options.iter().find(|o| o["id"] == "pickup-STORE-NYC") else { return Ok(false) };
        let Some(ready) = p["readyBy"].as_str().and_then(|r| r.parse::<DateTime<Utc>>().ok()) else { return Ok(false) };
        let local = ready - Duration::hours(5);
        use chrono::{Datelike, Timelike};
        anyhow::ensure!(local.weekday() == chrono::Weekday::Mon, "ready on a Monday: {p}");
        anyhow::ensure!((9..=10).contains(&local.hour()), "within the opening hour: {p}");
        anyhow::ensure!(ready > Utc::now(), "{p}");
        anyhow::ensure!(p["promisedBy"] == local.date_naive().to_string(), "{p}");
        Ok(true)
    })
    .await?;
    Ok(())
}
