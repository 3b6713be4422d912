//! Services and warranty, from outside: technicians' capacity per region and day; the slots a
//! service offers near a postal code after the goods arrive; many customers after the last
//! minutes of a window get exactly what fits; rescheduling and cancelling (a visit or the
//! order) give the minutes back; the field-service system reports progress; an agent books a
//! free repeat visit linked to a failed one (the reason stays with staff); a warranty claim after
//! the return window ships a replacement with no charge, once, even when retried.

use oms_tests::{Stack, order_body};
use serde_json::{Value, json};

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset)).format("%Y-%m-%d").to_string()
}

fn slot_id(date: &str, hhmm: &str) -> String {
    format!("US.{}.{}", date.replace('-', ""), hhmm.replace(':', ""))
}

/// A TV with its installation, placed by `customer`; the installation line's id.
async fn tv_with_install(s: &Stack, customer: &str) -> anyhow::Result<(String, String)> {
    let body = order_body(json!([{"sku": "TV-55", "quantity": 1}, {"sku": "INSTALL-TV", "quantity": 1}]));
    let id = s.place(customer, &body).await?;
    let o = s.order(customer, &id).await?;
    let line = o["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["sku"] == "INSTALL-TV")
        .and_then(|l| l["lineId"].as_str())
        .unwrap_or_default()
        .to_owned();
    Ok((id, line))
}

async fn window(s: &Stack, date: &str) -> anyhow::Result<Value> {
    let sup = s.scoped_token("sup-1", "oms/supervisor");
    let r = s.call("GET", &format!("/v1/admin/service-capacity/US/{date}"), Some(&sup), None, &[]).await?;
    anyhow::ensure!(r.status == 200, "{}", r.text);
    Ok(r.json()["windows"][0].clone())
}

#[tokio::test]
async fn the_last_minutes_of_a_window_go_to_exactly_the_visits_that_fit() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let date = day(40);
    let sup = s.scoped_token("sup-1", "oms/supervisor");
    let path = format!("/v1/admin/service-capacity/US/{date}");
    let cap =
        json!({"windows": [{"start": "08:00", "end": "12:00", "technicianMinutes": 240, "skills": ["tv-mount"]}]});
    // Who may set capacity, and bad input named.
    let agent = s.scoped_token("agent-1", "oms/agent");
    assert_eq!(s.call("PUT", &path, Some(&agent), Some(&cap), &[]).await?.status, 403);
    for (body, field) in [
        (json!({"windows": [{"start": "8:00", "end": "12:00", "technicianMinutes": 1}]}), "windows[0].start"),
        (
            json!({"windows": [{"start": "08:00", "end": "12:00", "technicianMinutes": 1, "skills": ["TV"]}]}),
            "windows[0].skills",
        ),
    ] {
        let r = s.call("PUT", &path, Some(&sup), Some(&body), &[]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (400, Some(field)), "{body}: {}", r.text);
    }
    // Well formed, but not a day's windows: 422 naming the field in the detail.
    for (body, field) in [
        (json!({"windows": [{"start": "12:00", "end": "08:00", "technicianMinutes": 1}]}), "windows[0].end"),
        (
            json!({"windows": [{"start": "08:00", "end": "12:00", "technicianMinutes": 1},
                {"start": "11:00", "end": "13:00", "technicianMinutes": 1}]}),
            "windows[1].start",
        ),
    ] {
        let r = s.call("PUT", &path, Some(&sup), Some(&body), &[]).await?;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert!(r.json()["detail"].as_str().is_some_and(|d| d.starts_with(field)), "{}", r.text);
    }
    let r = s.call("PUT", "/v1/admin/service-capacity/us/2026-13-01", Some(&sup), Some(&cap), &[]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("region")), "{}", r.text);
    let r = s.call("PUT", &path, Some(&sup), Some(&cap), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);

    // The storefront sees the window near a New York postal code; not a skill-less service.
    let r =
        s.call("GET", &format!("/v1/services/INSTALL-TV/slots?postalCode=10001&from={date}"), None, None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let slots = r.json()["slots"].clone();
    let sid = slot_id(&date, "08:00");
    assert!(slots.as_array().is_some_and(|a| a.iter().any(|x| x["slotId"] == sid.as_str())), "{slots}");
    for (q, status) in [("", 400), ("?postalCode=10001&from=tomorrow", 400), ("?postalCode=10001&country=XX", 422)] {
        let r = s.call("GET", &format!("/v1/services/INSTALL-TV/slots{q}"), None, None, &[]).await?;
        assert_eq!(r.status, status, "{q}: {}", r.text);
    }
    assert_eq!(s.call("GET", "/v1/services/TV-55/slots?postalCode=10001", None, None, &[]).await?.status, 404);

    // Eight customers race for a window with room for two two-hour visits.
    let mut orders = Vec::new();
    for i in 0..8 {
        let c = format!("svc-race-{i}");
        let (id, line) = tv_with_install(&s, &c).await?;
        orders.push((c, id, line));
    }
    let stack = &s;
    let sid2 = sid.clone();
    let calls =
        orders.iter().map(|(c, id, line)| {
            let body = json!({"lineId": line, "slotId": sid2});
            async move {
                stack.call("POST", &format!("/v1/orders/{id}/visits"), Some(&stack.token(c)), Some(&body), &[]).await
            }
        });
    let mut booked = Vec::new();
    for (r, (c, id, line)) in futures::future::join_all(calls).await.into_iter().zip(&orders) {
        let r = r?;
        match r.status {
            201 => booked.push((c.clone(), id.clone(), line.clone(), r.json())),
            409 => assert!(r.text.contains("slot-full"), "{}", r.text),
            other => anyhow::bail!("{other}: {}", r.text),
        }
    }
    assert_eq!(booked.len(), 2, "exactly the visits that fit");
    assert_eq!(window(&s, &date).await?["bookedMinutes"], 240);
    let (c0, id0, line0, v0) = booked[0].clone();
    assert_eq!((v0["status"].as_str(), v0["free"].as_bool()), (Some("scheduled"), Some(false)), "{v0}");
    // A retried booking returns the visit it made; a second unit is not there to book.
    let again = json!({"lineId": line0, "slotId": sid});
    let r = s.call("POST", &format!("/v1/orders/{id0}/visits"), Some(&s.token(&c0)), Some(&again), &[]).await?;
    assert_eq!((r.status, r.json()["visitId"].clone()), (201, v0["visitId"].clone()), "{}", r.text);
    // Someone else's order is not found; a goods line is not a service.
    let r = s.call("POST", &format!("/v1/orders/{id0}/visits"), Some(&s.token("stranger")), Some(&again), &[]).await?;
    assert_eq!(r.status, 404);
    let tv_line = s.order(&c0, &id0).await?["lines"][0]["lineId"].clone();
    let r = s
        .call(
            "POST",
            &format!("/v1/orders/{id0}/visits"),
            Some(&s.token(&c0)),
            Some(&json!({"lineId": tv_line, "slotId": sid})),
            &[],
        )
        .await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (422, Some("lineId")), "{}", r.text);
    // Capacity is never cut below what is booked.
    let less =
        json!({"windows": [{"start": "08:00", "end": "12:00", "technicianMinutes": 120, "skills": ["tv-mount"]}]});
    assert_eq!(s.call("PUT", &path, Some(&sup), Some(&less), &[]).await?.status, 409);

    // Rescheduling moves the minutes; cancelling the visit or the order gives them back.
    let later = day(41);
    let cap2 =
        json!({"windows": [{"start": "13:00", "end": "17:00", "technicianMinutes": 480, "skills": ["tv-mount"]}]});
    assert_eq!(
        s.call("PUT", &format!("/v1/admin/service-capacity/US/{later}"), Some(&sup), Some(&cap2), &[]).await?.status,
        200
    );
    let vid = v0["visitId"].as_str().unwrap_or_default();
    let r = s
        .call(
            "POST",
            &format!("/v1/orders/{id0}/visits/{vid}/reschedule"),
            Some(&s.token(&c0)),
            Some(&json!({"slotId": slot_id(&later, "13:00")})),
            &[],
        )
        .await?;
    assert_eq!((r.status, r.json()["date"].as_str()), (200, Some(later.as_str())), "{}", r.text);
    assert_eq!(window(&s, &date).await?["bookedMinutes"], 120);
    assert_eq!(window(&s, &later).await?["bookedMinutes"], 120);
    let r = s.call("POST", &format!("/v1/orders/{id0}/visits/{vid}/cancel"), Some(&s.token(&c0)), None, &[]).await?;
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("cancelled")), "{}", r.text);
    assert_eq!(window(&s, &later).await?["bookedMinutes"], 0);
    let (c1, id1, _, _) = booked[1].clone();
    let r = s.call("POST", &format!("/v1/orders/{id1}/cancel"), Some(&s.token(&c1)), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(window(&s, &date).await?["bookedMinutes"], 0, "the order's cancel freed its visit");
    let o = s.order(&c1, &id1).await?;
    assert_eq!(o["visits"][0]["status"], "cancelled", "{o}");
    Ok(())
}

#[tokio::test]
async fn a_failed_visit_gets_a_free_linked_repeat_and_the_reason_stays_with_staff() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let (date, next) = (day(42), day(43));
    let sup = s.scoped_token("sup-1", "oms/supervisor");
    for d in [&date, &next] {
        let cap =
            json!({"windows": [{"start": "08:00", "end": "12:00", "technicianMinutes": 480, "skills": ["tv-mount"]}]});
        assert_eq!(
            s.call("PUT", &format!("/v1/admin/service-capacity/US/{d}"), Some(&sup), Some(&cap), &[]).await?.status,
            200
        );
    }
    let (id, line) = tv_with_install(&s, "svc-rep").await?;
    let t = s.token("svc-rep");
    let r = s
        .call(
            "POST",
            &format!("/v1/orders/{id}/visits"),
            Some(&t),
            Some(&json!({"lineId": line, "slotId": slot_id(&date, "08:00")})),
            &[],
        )
        .await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let vid = r.json()["visitId"].as_str().unwrap_or_default().to_owned();

    // The field-service system reports; a customer may not, nor move a visit backwards.
    let fs = s.scoped_token("field-service", "oms/integration");
    let status = |st: &str| json!({"status": st, "note": "wall bracket missing"});
    let p = format!("/v1/admin/orders/{id}/visits/{vid}/status");
    assert_eq!(s.call("POST", &p, Some(&t), Some(&status("failed")), &[]).await?.status, 403);
    for st in ["dispatched", "failed", "failed"] {
        let r = s.call("POST", &p, Some(&fs), Some(&status(st)), &[]).await?;
        assert_eq!((r.status, r.json()["status"].as_str()), (200, Some(st)), "{}", r.text);
    }
    assert_eq!(s.call("POST", &p, Some(&fs), Some(&status("completed")), &[]).await?.status, 409);
    let r = s.call("POST", &p, Some(&fs), Some(&json!({"status": "scheduled"})), &[]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("status")), "{}", r.text);

    // An agent books the repeat: linked, free, the reason recorded; once.
    let agent = s.scoped_token("agent-1", "oms/agent");
    let rp = format!("/v1/admin/orders/{id}/visits/{vid}/repeat");
    let body = json!({"slotId": slot_id(&next, "08:00"), "reason": "customer complained: bracket missing"});
    assert_eq!(s.call("POST", &rp, Some(&t), Some(&body), &[]).await?.status, 403);
    let r = s.call("POST", &rp, Some(&agent), Some(&body), &[]).await?;
    assert_eq!(r.status, 201, "{}", r.text);
    let repeat = r.json();
    assert_eq!((repeat["repeatOf"].as_str(), repeat["free"].as_bool()), (Some(vid.as_str()), Some(true)), "{repeat}");
    assert_eq!(repeat["kind"], "repeat");
    let r = s.call("POST", &rp, Some(&agent), Some(&body), &[]).await?;
    assert_eq!((r.status, r.json()["visitId"].clone()), (201, repeat["visitId"].clone()), "a retry: the same repeat");
    let other = json!({"slotId": slot_id(&date, "08:00"), "reason": "again"});
    assert_eq!(s.call("POST", &rp, Some(&agent), Some(&other), &[]).await?.status, 409, "one open repeat");
    // No charge: the order's total is what it was.
    let o = s.order("svc-rep", &id).await?;
    assert_eq!(o["visits"].as_array().map(Vec::len), Some(2));

    // The customer sees both visits, not the reason or the technician's note.
    let mine = s.customer_order("svc-rep", &id).await?;
    let text = mine.to_string();
    assert!(!text.contains("bracket missing") && !text.contains("complained"), "{mine}");
    assert_eq!(mine["visits"][1]["repeatOf"], vid.as_str());
    let entries: Vec<&str> =
        mine["timeline"].as_array().into_iter().flatten().filter_map(|e| e["kind"].as_str()).collect();
    assert!(entries.contains(&"service.failed") && entries.contains(&"service.scheduled"), "{entries:?}");
    // The agent reads both.
    let r = s.call("GET", &format!("/v1/admin/orders/{id}"), Some(&agent), None, &[]).await?;
    assert!(r.text.contains("complained") && r.text.contains("bracket missing"), "{}", r.text);
    Ok(())
}

#[tokio::test]
async fn a_warranty_claim_after_the_return_window_ships_a_replacement_with_no_charge() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let admin = s.scoped_token("ops", "oms/admin");
    // A kettle with a 24-month warranty and no return window: a claim is for warranty at once.
    let kettle = json!({"name": "Kettle", "price": {"amount": 4900, "currency": "USD"}, "weightGrams": 900,
        "returnWindowDays": 0, "warrantyMonths": 24});
    assert_eq!(s.call("PUT", "/v1/admin/products/KETTLE-W", Some(&admin), Some(&kettle), &[]).await?.status, 200);
    let bad = json!({"name": "Kettle", "price": {"amount": 4900, "currency": "USD"}, "weightGrams": 900, "warrantyMonths": 0});
    let r = s.call("PUT", "/v1/admin/products/KETTLE-X", Some(&admin), Some(&bad), &[]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("warrantyMonths")), "{}", r.text);
    assert_eq!(
        s.call("PUT", "/v1/admin/stock/KETTLE-W/WH-NJ", Some(&admin), Some(&json!({"onHand": 5})), &[]).await?.status,
        200
    );

    let email = format!("w-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    let id = s
        .delivered_order("cust-w", &email, json!([{"sku": "KETTLE-W", "quantity": 1}, {"sku": "TV-55", "quantity": 1}]))
        .await?;
    let o = s.order("cust-w", &id).await?;
    let line_of = |sku: &str| {
        o["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["sku"] == sku)
            .map(|l| l["lineId"].clone())
            .unwrap_or_default()
    };
    let t = s.token("cust-w");
    let path = format!("/v1/orders/{id}/warranty-claims");
    // The TV is still within its return window; a quantity past what was delivered; bad input.
    for (body, status, field) in [
        (json!({"lineId": line_of("TV-55"), "remedy": "replacement", "reason": "no picture"}), 422, "lineId"),
        (
            json!({"lineId": line_of("KETTLE-W"), "quantity": 2, "remedy": "replacement", "reason": "leaks"}),
            422,
            "quantity",
        ),
        (json!({"lineId": line_of("KETTLE-W"), "remedy": "repair", "reason": "leaks"}), 422, "serviceSku"),
        (json!({"lineId": line_of("KETTLE-W"), "remedy": "replacement", "reason": " "}), 400, "reason"),
    ] {
        let r = s.call("POST", &path, Some(&t), Some(&body), &[]).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (status, Some(field)), "{body}: {}", r.text);
    }
    assert_eq!(
        s.call(
            "POST",
            &path,
            Some(&s.token("stranger")),
            Some(&json!({"lineId": line_of("KETTLE-W"), "remedy": "replacement", "reason": "x"})),
            &[]
        )
        .await?
        .status,
        404
    );

    // Two tries of one claim for the one kettle at once (the same Idempotency-Key): one replacement.
    let body = json!({"lineId": line_of("KETTLE-W"), "remedy": "replacement", "reason": "it leaks from the base"});
    let k = [("Idempotency-Key", "claim-kettle-1")];
    let (a, b) = tokio::join!(
        s.call("POST", &path, Some(&t), Some(&body), &k),
        s.call("POST", &path, Some(&t), Some(&body), &k)
    );
    let replies = [a?, b?];
    let ok: Vec<&oms_tests::Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert!(!ok.is_empty(), "{} / {}", replies[0].text, replies[1].text);
    for r in &replies {
        assert!(r.status == 201 || r.status == 422, "{}", r.text);
    }
    let claim = ok[0].json()["claim"].clone();
    assert!(claim.get("reason").is_none(), "the customer's reply holds no staff text: {claim}");
    let replacement = claim["replacementOrderId"].as_str().unwrap_or_default().to_owned();
    assert!(!replacement.is_empty(), "{claim}");
    for r in &ok {
        assert_eq!(r.json()["claim"]["replacementOrderId"], replacement.as_str(), "the same replacement");
    }
    let o = s.order("cust-w", &id).await?;
    assert_eq!(o["warrantyClaims"].as_array().map(Vec::len), Some(1), "{o}");
    // A later retry with the key finds the claim; a new claim finds the unit claimed.
    let r = s.call("POST", &path, Some(&t), Some(&body), &k).await?;
    let again = r.json()["claim"]["replacementOrderId"].clone();
    assert_eq!((r.status, again.as_str()), (201, Some(replacement.as_str())), "{}", r.text);
    let r = s.call("POST", &path, Some(&t), Some(&body), &[]).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (422, Some("quantity")), "the unit is claimed: {}", r.text);

    // The replacement ships through the workflow and nothing is charged.
    let rep = s.wait_for_status("cust-w", &replacement, "ready_to_ship").await?;
    assert_eq!(rep["lines"][0]["sku"], "KETTLE-W");
    // Its no-charge credit is for the claimed kettle: other goods are refused, nothing changes.
    let version = rep["version"].as_u64().unwrap_or(0).to_string();
    let edit = json!({"lines": [{"sku": "TV-55", "quantity": 1}]});
    let r =
        s.call("PATCH", &format!("/v1/orders/{replacement}"), Some(&t), Some(&edit), &[("If-Match", &version)]).await?;
    assert_eq!((r.status, r.json()["type"].as_str()), (409, Some("urn:oms:problem:warranty-order")), "{}", r.text);
    assert_eq!(s.order("cust-w", &replacement).await?["version"], rep["version"]);
    assert_eq!(rep["credit"], rep["totals"]["total"], "{rep}");
    assert!(rep["payment"]["authorizationId"].is_null(), "nothing authorized: {rep}");
    let tracking = rep["shipments"][0]["trackingNumber"].as_str().unwrap_or_default().to_owned();
    let r = s.carrier_event(&format!("evt-w-{replacement}"), &tracking, "in_transit").await?;
    assert!(r.status < 300, "{}", r.text);
    let shipped = s.wait_for_status("cust-w", &replacement, "shipped").await?;
    assert!(shipped["payment"]["captured"].as_object().is_none_or(|c| c["amount"] == 0), "{shipped}");
    Ok(())
}

#[tokio::test]
async fn an_edit_that_drops_the_service_line_or_moves_the_address_frees_its_visit() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let date = day(44);
    let sup = s.scoped_token("sup-1", "oms/supervisor");
    let cap =
        json!({"windows": [{"start": "08:00", "end": "12:00", "technicianMinutes": 480, "skills": ["tv-mount"]}]});
    assert_eq!(
        s.call("PUT", &format!("/v1/admin/service-capacity/US/{date}"), Some(&sup), Some(&cap), &[]).await?.status,
        200
    );
    let t = s.token("svc-edit");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (id, line) = tv_with_install(&s, "svc-edit").await?;
        let body = json!({"lineId": line, "slotId": slot_id(&date, "08:00")});
        let r = s.call("POST", &format!("/v1/orders/{id}/visits"), Some(&t), Some(&body), &[]).await?;
        assert_eq!(r.status, 201, "{}", r.text);
        ids.push(id);
    }
    assert_eq!(window(&s, &date).await?["bookedMinutes"], 240);
    // One edit keeps the TV only; another moves the order to Boston.
    for (id, edit) in [
        (&ids[0], json!({"lines": [{"sku": "TV-55", "quantity": 1}]})),
        (
            &ids[1],
            json!({"shippingAddress": {"name": "Ann Lee", "line1": "1 Beacon St", "city": "Boston", "region": "MA",
                "postalCode": "02108", "country": "US"}}),
        ),
    ] {
        let mut done = false;
        for _ in 0..20 {
            let v = s.order("svc-edit", id).await?["version"].as_u64().unwrap_or(0).to_string();
            let r = s.call("PATCH", &format!("/v1/orders/{id}"), Some(&t), Some(&edit), &[("If-Match", &v)]).await?;
            if r.status == 412 {
                continue;
            }
            assert_eq!(r.status, 200, "{}", r.text);
            done = true;
            break;
        }
        assert!(done, "the order never held still for an edit");
        let o = s.order("svc-edit", id).await?;
        assert_eq!(o["visits"][0]["status"], "cancelled", "{o}");
    }
    assert_eq!(window(&s, &date).await?["bookedMinutes"], 0, "both visits' minutes are free again");
    Ok(())
}
