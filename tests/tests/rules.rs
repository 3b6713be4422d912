//! Rules as data from outside: versions saved from the version read (If-Match), refused when
//! stale, unsupported or unsound; each order records the version that decided it and is held,
//! sourced and scored by that version even after a newer one; safety stock per channel; days
//! of cover from sales velocity with one alert per crossing.

use oms_tests::{Stack, order_body};
use serde_json::json;

#[tokio::test]
async fn rules_are_versioned_and_each_order_keeps_the_version_that_decided_it() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let sup = s.scoped_token("sup-r1", "oms/supervisor");
    let agent = s.scoped_token("agent-r1", "oms/agent");
    let r = s.call("GET", "/v1/admin/rules", Some(&agent), None, &[]).await?;
    assert_eq!((r.status, r.json()["version"].as_u64()), (200, Some(0)), "{}", r.text);
    assert_eq!(r.json()["fraud"]["holdScore"], 50);
    // Orders to the US are held for review; Dallas ships before nearer warehouses.
    let v1 = json!({"hold": {"countries": ["US"]}, "sourcing": {"WH-TX": {"priority": 1}}});
    let put = |token: String, body: serde_json::Value, if_match: Option<&'static str>| {
        let s = &s;
        async move {
            let headers: Vec<(&str, &str)> = if_match.map(|m| vec![("If-Match", m)]).unwrap_or_default();
            s.call("PUT", "/v1/admin/rules", Some(&token), Some(&body), &headers).await
        }
    };
    assert_eq!(put(sup.clone(), v1.clone(), None).await?.status, 428);
    assert_eq!(put(agent.clone(), v1.clone(), Some("\"v0\"")).await?.status, 403);
    let bad = json!({"fraud": {"highValue": 100, "veryHighValue": 50, "holdScore": 50, "rejectScore": 80, "velocityPerHour": 4}});
    let r = put(sup.clone(), bad, Some("\"v0\"")).await?;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.json()["detail"].as_str().unwrap_or("").contains("fraud.veryHighValue"), "{}", r.text);
    let r = put(sup.clone(), json!({"frod": {}}), Some("\"v0\"")).await?;
    assert_eq!(r.status, 400, "{}", r.text);
    // Not an object: refused (it used to save every section at its default); refusals name
    // their path; a list over its limit is refused, not shortened by the dedupe.
    assert_eq!(put(sup.clone(), json!([]), Some("\"v0\"")).await?.status, 400);
    let countries: Vec<&str> = std::iter::repeat_n("US", 101).collect();
    for (body, status, field) in [
        (json!({"fraud": {"highValue": 9_223_372_036_854_775_808u64}}), 400, "fraud.highValue"),
        (json!({"sourcing": {"../x": {"priority": 1}}}), 400, "sourcing.../x"),
        (json!({"hold": {"countries": countries}}), 422, "hold.countries"),
    ] {
        let r = put(sup.clone(), body.clone(), Some("\"v0\"")).await?;
        assert_eq!((r.status, r.json()["field"].as_str()), (status, Some(field)), "{body}: {}", r.text);
    }
    // A preference for a location the shop does not have (a typo) prefers nothing: refused.
    let r = put(sup.clone(), json!({"sourcing": {"wh-tx": {"priority": 1}}}), Some("\"v0\"")).await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (422, Some("sourcing")), "{}", r.text);
    let r = put(sup.clone(), v1.clone(), Some("\"v0\"")).await?;
    assert_eq!((r.status, r.json()["version"].as_u64()), (200, Some(1)), "{}", r.text);
    assert_eq!(r.json()["updatedBy"], "sup-r1");
    // A second save from the same version lost the race: 412, read again.
    assert_eq!(put(sup.clone(), json!({}), Some("\"v0\"")).await?.status, 412);

    let (tx_before, _, _) = s.available("MUG-CLASSIC", "WH-TX").await?;
    let held = s.place("cust-r1", &order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]))).await?;
    let o = s.wait_for_status("cust-r1", &held, "on_hold").await?;
    assert_eq!(o["rulesVersion"], 1, "{o}");
    let note = o["timeline"].as_array().into_iter().flatten().find(|e| e["kind"] == "order.held");
    assert!(note.is_some_and(|e| e["note"].as_str().unwrap_or("").contains("hold_country")), "{o}");
    let (tx_after, _, _) = s.available("MUG-CLASSIC", "WH-TX").await?;
    assert_eq!(tx_before - tx_after, 1, "sourced from Dallas by the rule's priority");
    let c = s.customer_order("cust-r1", &held).await?;
    assert!(c.get("rulesVersion").is_none(), "customers never see the rules: {c}");

    // Version 2 drops the hold: new orders go through, the held one keeps version 1.
    let r = put(sup.clone(), json!({}), Some("\"v1\"")).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let passed = s.place("cust-r2", &order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]))).await?;
    let o = s.wait_for_status("cust-r2", &passed, "ready_to_ship").await?;
    assert_eq!(o["rulesVersion"], 2);
    assert_eq!(s.order("cust-r1", &held).await?["rulesVersion"], 1);
    let h = s.call("GET", "/v1/admin/rules/versions", Some(&agent), None, &[]).await?.json();
    let versions: Vec<u64> =
        h["versions"].as_array().into_iter().flatten().filter_map(|v| v["version"].as_u64()).collect();
    assert_eq!(versions, vec![2, 1]);
    let r = s.call("GET", "/v1/admin/rules/versions/1", Some(&agent), None, &[]).await?;
    assert_eq!(r.json()["hold"]["countries"], json!(["US"]), "{}", r.text);
    for missing in ["7", "abc", "-1", "1.0"] {
        let r = s.call("GET", &format!("/v1/admin/rules/versions/{missing}"), Some(&agent), None, &[]).await?;
        assert_eq!(r.status, 404, "{missing}: {}", r.text);
    }
    let r = s.call("GET", "/v1/admin/rules", Some(&s.token("cust-r1")), None, &[]).await?;
    assert_eq!(r.status, 403);
    // The confirmation-call route is a view of the rules: setting it is version 3.
    let rule = json!({"enabled": false, "timeoutMinutes": 60});
    let r = s.call("PUT", "/v1/admin/settings/confirmation-calls", Some(&sup), Some(&rule), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.call("GET", "/v1/admin/rules", Some(&agent), None, &[]).await?.json();
    assert_eq!((r["version"].as_u64(), r["confirmationCalls"]["timeoutMinutes"].as_u64()), (Some(3), Some(60)));
    Ok(())
}

#[tokio::test]
async fn a_channels_safety_stock_is_kept_from_that_channel_only() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let wh = s.scoped_token("wms-r1", "oms/warehouse");
    let body = json!({"onHand": 5, "channelSafetyStock": {"app": 4}});
    let r = s.call("PUT", "/v1/admin/stock/DESK-LAMP/WH-TX", Some(&wh), Some(&body), &[]).await?;
    assert_eq!((r.status, r.json()["channelSafetyStock"]["app"].as_i64()), (200, Some(4)), "{}", r.text);
    let atp = |q: &'static str| {
        let s = &s;
        async move {
            let v = s.call("GET", &format!("/v1/inventory/DESK-LAMP{q}"), None, None, &[]).await?.json();
            anyhow::Ok(v["total"].as_i64())
        }
    };
    assert_eq!(atp("").await?, Some(5));
    assert_eq!(atp("?channel=app").await?, Some(1));
    assert_eq!(atp("?channel=web").await?, Some(5));
    assert_eq!(s.call("GET", "/v1/inventory/DESK-LAMP?channel=fax", None, None, &[]).await?.status, 400);
    // The app cannot have two; the web shop can.
    let mut app = order_body(json!([{"sku": "DESK-LAMP", "quantity": 2}]));
    app["channel"] = json!("app");
    let t = s.token("cust-r3");
    let r = s.call("POST", "/v1/orders", Some(&t), Some(&app), &[("Idempotency-Key", "r3-app")]).await?;
    assert_eq!(r.status, 409, "{}", r.text);
    s.place("cust-r3", &order_body(json!([{"sku": "DESK-LAMP", "quantity": 2}]))).await?;
    // A WMS sequence past the largest (which would stop every later count) is refused.
    let r = s
        .call(
            "PUT",
            "/v1/admin/stock/DESK-LAMP/WH-TX",
            Some(&wh),
            Some(&json!({"onHand": 5, "sequence": 9_999_999_999_999_999u64})),
            &[],
        )
        .await?;
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("sequence")), "{}", r.text);
    // 0 removes the channel's; a negative one is refused naming the field.
    let r = s
        .call(
            "PUT",
            "/v1/admin/stock/DESK-LAMP/WH-TX",
            Some(&wh),
            Some(&json!({"onHand": 5, "channelSafetyStock": {"app": -1}})),
            &[],
        )
        .await?;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s
        .call(
            "PUT",
            "/v1/admin/stock/DESK-LAMP/WH-TX",
            Some(&wh),
            Some(&json!({"onHand": 5, "channelSafetyStock": {"app": 0}})),
            &[],
        )
        .await?;
    assert!(r.json().get("channelSafetyStock").is_none(), "{}", r.text);
    assert_eq!(atp("?channel=app").await?, Some(3));
    Ok(())
}

#[tokio::test]
async fn days_of_cover_follow_sales_and_alert_once_per_crossing() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let wh = s.scoped_token("wms-r2", "oms/warehouse");
    let sup = s.scoped_token("sup-r2", "oms/supervisor");
    // One week of history; low below 14 days of cover; a week's lead time.
    let rules = json!({"replenishment": {"coverDays": 14, "leadTimeDays": 7, "historyWeeks": 1}});
    let r = s.call("PUT", "/v1/admin/rules", Some(&sup), Some(&rules), &[("If-Match", "\"v0\"")]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.call("PUT", "/v1/admin/stock/DESK-LAMP/WH-TX", Some(&wh), Some(&json!({"onHand": 30})), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    // Today 15 lamps sell: 15 left, which a week of this weekday's sales uses up.
    for (i, q) in [5, 10].into_iter().enumerate() {
        let id = s.place(&format!("cust-c{i}"), &order_body(json!([{"sku": "DESK-LAMP", "quantity": q}]))).await?;
        s.wait_for_status(&format!("cust-c{i}"), &id, "ready_to_ship").await?;
    }
    s.take_messages("IntegrationEventsQueue").await?;
    // Tomorrow's run: history ends today. Once the analytics counted today's sales, one alert.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    s.eventually("the cover alert", || async {
        let v = s.call("POST", "/dev/sweeps", None, Some(&json!({"at": tomorrow})), &[]).await?.json();
        Ok(v["coverAlerts"] == 1)
    })
    .await?;
    let again = s.call("POST", "/dev/sweeps", None, Some(&json!({"at": tomorrow})), &[]).await?.json();
    assert_eq!(again["coverAlerts"], 0, "one alert per crossing");
    let events = s.take_messages("IntegrationEventsQueue").await?;
    let alerts: Vec<_> = events.iter().filter(|e| e["detail-type"] == "inventory.cover_low").collect();
    assert_eq!(alerts.len(), 1, "{events:?}");
    let d = &alerts[0]["detail"];
    assert_eq!((d["id"].as_str(), d["locationId"].as_str()), (Some("inventory.cover_low.DESK-LAMP.1"), Some("ALL")));
    assert_eq!((d["data"]["daysOfCover"].as_u64(), d["data"]["coverDays"].as_u64()), (Some(13), Some(14)), "{d}");
    assert_eq!(d["data"]["suggestedQuantity"], 30, "three weeks of 15, less the 15 there are");
    // The report lists every goods SKU.
    let r = s.call("GET", "/v1/admin/inventory/replenishment", Some(&wh), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let lamp = r.json()["items"].as_array().into_iter().flatten().find(|l| l["sku"] == "DESK-LAMP").cloned();
    // As of today its sales are not history yet: not low, and no low mark shown.
    assert!(
        lamp.is_some_and(|l| l["promisable"] == 15 && l["low"] == false && l.get("lowSince").is_none()),
        "{}",
        r.text
    );
    let r = s.call("GET", "/v1/admin/inventory/replenishment", Some(&s.token("cust-c0")), None, &[]).await?;
    assert_eq!(r.status, 403);
    Ok(())
}

#[tokio::test]
async fn concurrent_buyers_never_take_the_safety_stock() -> anyhow::Result<()> {
    let s = Stack::without_stream().await?;
    let wh = s.scoped_token("wms-r3", "oms/warehouse");
    // 30 lamps: 9 kept back from everyone, 16 more from the app: 5 for the app, 21 for the web.
    let body = json!({"onHand": 30, "safetyStock": 9, "channelSafetyStock": {"app": 16}});
    let r = s.call("PUT", "/v1/admin/stock/DESK-LAMP/WH-TX", Some(&wh), Some(&body), &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let rush = |channel: &'static str, n: usize| {
        let s = &s;
        async move {
            let calls = (0..n).map(|i| async move {
                let mut b = order_body(json!([{"sku": "DESK-LAMP", "quantity": 1}]));
                b["channel"] = json!(channel);
                b["email"] = json!(format!("rush{i}@example.com"));
                let t = s.token(&format!("cust-rush-{channel}-{i}"));
                let key = format!("rush-{channel}-{i}");
                s.call("POST", "/v1/orders", Some(&t), Some(&b), &[("Idempotency-Key", key.as_str())]).await
            });
            let replies = futures::future::join_all(calls).await;
            let mut placed = 0;
            for r in replies {
                let r = r?;
                anyhow::ensure!(matches!(r.status, 201 | 409), "{} {}", r.status, r.text);
                placed += usize::from(r.status == 201);
            }
            anyhow::Ok(placed)
        }
    };
    assert_eq!(rush("app", 12).await?, 5, "the app gets what is not kept back from it");
    assert_eq!(rush("web", 30).await?, 16, "the web shop gets the rest but the safety stock");
    assert_eq!(s.available("DESK-LAMP", "WH-TX").await?, (9, 21, 0));
    Ok(())
}
