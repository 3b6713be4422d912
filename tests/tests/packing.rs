//! Pick and pack, from outside: at a location that packs with the OMS a paid order's parcels go
//! on the location's pick list (the workflow waits); the packer records each parcel's weight
//! and size and packing the last one buys the labels from the packed parcels (not the catalog
//! weights) and makes the order ready to ship. Hostile and repeated requests change nothing;
//! a cancel racing the packer leaves no live label on a cancelled order.

use oms_tests::{Stack, order_body};
use serde_json::{Value, json};

/// Switches seeded locations to packing with the OMS.
async fn packing_at(s: &Stack, ids: &[&str]) -> anyhow::Result<()> {
    let admin = s.admin_token();
    let all = s.call("GET", "/v1/admin/locations", Some(&admin), None, &[]).await?.json();
    for id in ids {
        let mut l = all["locations"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["id"] == *id || l["locationId"] == *id)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no location {id}: {all}"))?;
        for k in ["id", "locationId"] {
            l.as_object_mut().map(|o| o.remove(k));
        }
        l["packing"] = json!(true);
        let r = s.call("PUT", &format!("/v1/admin/locations/{id}"), Some(&admin), Some(&l), &[]).await?;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["packing"], true, "{}", r.text);
    }
    Ok(())
}

async fn picking(s: &Stack, customer: &str, id: &str, n: usize) -> anyhow::Result<Value> {
    s.eventually("the parcels on the pick list", || async {
        let o = s.order(customer, id).await?;
        let shipments = o["shipments"].as_array().cloned().unwrap_or_default();
        Ok(shipments.len() == n && shipments.iter().all(|sh| sh["status"] == "picking"))
    })
    .await?;
    s.order(customer, id).await
}

async fn pack(s: &Stack, order: &str, shipment: &str, body: &Value) -> anyhow::Result<oms_tests::Reply> {
    let packer = s.scoped_token("packer-1", "oms/warehouse");
    s.call("POST", &format!("/v1/admin/orders/{order}/shipments/{shipment}/packed"), Some(&packer), Some(body), &[])
        .await
}

fn parcel(weight: u32) -> Value {
    json!({"weightGrams": weight, "lengthMm": 400, "widthMm": 300, "heightMm": 250})
}

#[tokio::test]
async fn pick_pack_then_the_label_from_the_packed_parcel_then_ship() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    packing_at(&s, &["WH-TX", "WH-NJ"]).await?;
    // Two parcels: the lamp from Dallas, the television from Newark.
    let id = s
        .place("cust-pack", &order_body(json!([{"sku": "DESK-LAMP", "quantity": 1}, {"sku": "TV-55", "quantity": 1}])))
        .await?;
    let o = picking(&s, "cust-pack", &id, 2).await?;
    assert_eq!(o["status"], "payment_authorized", "the workflow waits for the packers: {o}");
    let ship_at = |loc: &str| -> String {
        o["shipments"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|sh| sh["locationId"] == loc)
            .map(|sh| sh["id"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    let (lamp, tv) = (ship_at("WH-TX"), ship_at("WH-NJ"));

    // Dallas's pick list has the lamp's parcel (with names to pick by); not Newark's parcel.
    let packer = s.scoped_token("packer-1", "oms/warehouse");
    let r = s.call("GET", "/v1/admin/locations/WH-TX/picks", Some(&packer), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let picks = r.json()["picks"].as_array().cloned().unwrap_or_default();
    assert_eq!(picks.len(), 1, "{}", r.text);
    assert_eq!(
        (picks[0]["orderId"].as_str(), picks[0]["shipmentId"].as_str()),
        (Some(id.as_str()), Some(lamp.as_str()))
    );
    assert_eq!(picks[0]["lines"], json!([{"sku": "DESK-LAMP", "name": "LED desk lamp", "quantity": 1}]));
    for (token, path, status) in [
        (s.token("cust-pack"), "/v1/admin/locations/WH-TX/picks", 403),
        (s.scoped_token("agent-p", "oms/agent"), "/v1/admin/locations/WH-TX/picks", 403),
        (packer.clone(), "/v1/admin/locations/NO-SUCH/picks", 404),
    ] {
        assert_eq!(s.call("GET", path, Some(&token), None, &[]).await?.status, status, "{path}");
    }

    // Hostile or wrong packing records change nothing.
    let v = s.order("cust-pack", &id).await?["version"].clone();
    for (body, field) in [
        (json!({"weightGrams": 0, "lengthMm": 1, "widthMm": 1, "heightMm": 1}), "weightGrams"),
        (json!({"weightGrams": 70001, "lengthMm": 1, "widthMm": 1, "heightMm": 1}), "weightGrams"),
        (json!({"weightGrams": 100, "lengthMm": 2001, "widthMm": 1, "heightMm": 1}), "lengthMm"),
        (json!({"weightGrams": 100, "lengthMm": 1, "widthMm": 1}), "heightMm"),
        (json!({"weightGrams": -5, "lengthMm": 1, "widthMm": 1, "heightMm": 1}), "weightGrams"),
        (json!({"weightGrams": "9", "lengthMm": 1, "widthMm": 1, "heightMm": 1}), "weightGrams"),
        (json!({"weightGrams": 9, "lengthMm": 1, "widthMm": 1, "heightMm": 1, "carrier": "x"}), "carrier"),
    ] {
        let r = pack(&s, &id, &lamp, &body).await?;
        assert!(matches!(r.status, 400 | 422), "{body}: {}", r.text);
        assert_eq!(r.content_type(), "application/problem+json");
        assert!(r.text.contains(field), "{body}: {}", r.text);
    }
    let r = s
        .call(
            "POST",
            &format!("/v1/admin/orders/{id}/shipments/{lamp}/packed"),
            Some(&s.scoped_token("agent-p", "oms/agent")),
            Some(&parcel(1)),
            &[],
        )
        .await?;
    assert_eq!(r.status, 403, "agents do not pack: {}", r.text);
    assert_eq!(pack(&s, &id, "01JZZZZZZZZZZZZZZZZZZZZZZZ", &parcel(1)).await?.status, 404);
    assert_eq!(s.order("cust-pack", &id).await?["version"], v, "nothing written");

    // The first parcel: recorded, the other still waits; the same request again is a retry,
    // another weight for it is refused.
    let r = pack(&s, &id, &lamp, &parcel(2350)).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["labels"], "awaiting_pack", "{}", r.text);
    assert_eq!(pack(&s, &id, &lamp, &parcel(2350)).await?.status, 200);
    let r = pack(&s, &id, &lamp, &parcel(999)).await?;
    assert_eq!(
        (r.status, r.json()["type"].as_str().map(|t| t.ends_with("already-packed"))),
        (409, Some(true)),
        "{}",
        r.text
    );
    // Packed but not labelled yet (the order's other parcel waits): listed as packed.
    let r = s.call("GET", "/v1/admin/locations/WH-TX/picks", Some(&packer), None, &[]).await?;
    assert_eq!(r.json()["picks"][0]["status"], "packed", "{}", r.text);
    assert_eq!(r.json()["picks"][0]["parcel"]["weightGrams"], 2350, "{}", r.text);

    // The last parcel: both labels bought from the packed parcels; ready to ship.
    // Two scans of the last parcel at once: both answer, and the labels stay live.
    let tv_parcel = json!({"weightGrams": 21000, "lengthMm": 1400, "widthMm": 850, "heightMm": 180});
    let (r, again) = tokio::join!(pack(&s, &id, &tv, &tv_parcel), pack(&s, &id, &tv, &tv_parcel));
    let (r, again) = (r?, again?);
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(r.status, 200, "{}", r.text);
    let r = pack(&s, &id, &tv, &tv_parcel).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.json()["labels"].as_str(), r.json()["order"]["status"].as_str()),
        (Some("labelled"), Some("ready_to_ship")),
        "{}",
        r.text
    );
    let r = s.call("GET", "/v1/admin/locations/WH-TX/picks", Some(&packer), None, &[]).await?;
    assert_eq!(r.json()["picks"], json!([]), "labelled parcels leave the list");
    let o = s.order("cust-pack", &id).await?;
    for sh in o["shipments"].as_array().into_iter().flatten() {
        assert_eq!(sh["status"], "label_created", "{sh}");
        let label = sh["labelId"].as_str().unwrap_or_default();
        let bought = s.local.carrier.parcel_of(label).ok_or_else(|| anyhow::anyhow!("no parcel for {label}"))?;
        assert_eq!(Some(bought.weight_grams), sh["parcel"]["weightGrams"].as_u64().map(|w| w as u32), "{sh}");
        assert!(bought.dimensions_mm.is_some());
    }
    let lamp_label = o["shipments"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|sh| sh["id"] == lamp.as_str())
        .map(|sh| sh["labelId"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    assert_eq!(s.local.carrier.parcel_of(&lamp_label).map(|p| p.weight_grams), Some(2350), "not the catalog's 1200 g");
    for sh in o["shipments"].as_array().into_iter().flatten() {
        assert!(!s.local.carrier.voided(sh["labelId"].as_str().unwrap_or_default()), "a live label: {sh}");
    }
    let kinds: Vec<&str> = o["timeline"].as_array().into_iter().flatten().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "shipment.packed").count(), 2, "{kinds:?}");
    let mine = s.customer_order("cust-pack", &id).await?;
    assert!(mine["timeline"].to_string().contains("is packed"), "{mine}");

    // Then it ships as any order.
    for sh in o["shipments"].as_array().into_iter().flatten() {
        let t = sh["trackingNumber"].as_str().unwrap_or_default();
        let r = s.carrier_event(&format!("evt-{t}"), t, "in_transit").await?;
        assert!(r.status < 300, "{}", r.text);
    }
    s.wait_for_status("cust-pack", &id, "shipped").await?;
    Ok(())
}

#[tokio::test]
async fn a_cancel_racing_the_packer_leaves_no_live_label_and_no_pick() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    packing_at(&s, &["WH-TX"]).await?;
    let agent = s.scoped_token("agent-race", "oms/agent");
    for round in 0..4 {
        let customer = format!("cust-race-{round}");
        let id = s.place(&customer, &order_body(json!([{"sku": "DESK-LAMP", "quantity": 1}]))).await?;
        let o = picking(&s, &customer, &id, 1).await?;
        let sh = o["shipments"][0]["id"].as_str().unwrap_or_default().to_owned();
        let (path, reason) = (format!("/v1/admin/orders/{id}/cancel"), json!({"reason": "changed mind"}));
        let cancel = s.call("POST", &path, Some(&agent), Some(&reason), &[]);
        let packed_parcel = parcel(1300);
        let packed = pack(&s, &id, &sh, &packed_parcel);
        let (c, p) = tokio::join!(cancel, packed);
        let (c, p) = (c?, p?);
        assert!(c.status == 200 || c.status == 409, "cancel: {}", c.text);
        assert!(matches!(p.status, 200 | 202 | 409), "pack: {}", p.text);
        s.eventually("the race settled", || async {
            let o = s.order(&customer, &id).await?;
            Ok(o["status"] == "cancelled" || o["status"] == "ready_to_ship")
        })
        .await?;
        let o = s.order(&customer, &id).await?;
        if o["status"] == "cancelled" {
            // The void runs after the cancel's commit, from what it recorded.
            if let Some(label) = o["shipments"][0]["labelId"].as_str().map(str::to_owned) {
                s.eventually(&format!("round {round}: the cancelled order's label voided"), || async {
                    Ok(s.local.carrier.voided(&label))
                })
                .await?;
            }
        } else {
            assert_eq!(c.status, 409, "round {round}: the cancel lost: {}", c.text);
        }
        let r = s.call("GET", "/v1/admin/locations/WH-TX/picks", Some(&s.admin_token()), None, &[]).await?;
        assert!(!r.text.contains(&id), "round {round}: no pick left for the order: {}", r.text);
        if o["status"] == "cancelled" {
            let again = pack(&s, &id, &sh, &packed_parcel).await?;
            assert_eq!(again.status, 409, "round {round}: a cancelled parcel is not packed: {}", again.text);
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_carrier_that_does_not_answer_leaves_the_parcel_packed_and_the_same_request_buys_the_label()
-> anyhow::Result<()> {
    let s = Stack::new().await?;
    packing_at(&s, &["WH-TX"]).await?;
    let mut body = order_body(json!([{"sku": "DESK-LAMP", "quantity": 1}]));
    body["shippingAddress"]["line2"] = json!("CARRIER-FLAKY");
    let id = s.place("cust-flaky", &body).await?;
    let o = picking(&s, "cust-flaky", &id, 1).await?;
    let sh = o["shipments"][0]["id"].as_str().unwrap_or_default().to_owned();
    let r = pack(&s, &id, &sh, &parcel(1500)).await?;
    assert_eq!((r.status, r.json()["labels"].as_str()), (202, Some("label_pending")), "{}", r.text);
    assert_eq!(r.json()["order"]["shipments"][0]["status"], "packed", "{}", r.text);
    // It stays on the pick list until its label is bought.
    let packer = s.scoped_token("packer-1", "oms/warehouse");
    let r = s.call("GET", "/v1/admin/locations/WH-TX/picks", Some(&packer), None, &[]).await?;
    assert_eq!(r.json()["picks"][0]["status"], "packed", "{}", r.text);
    let r = pack(&s, &id, &sh, &parcel(1500)).await?;
    assert_eq!((r.status, r.json()["labels"].as_str()), (200, Some("labelled")), "{}", r.text);
    assert_eq!(r.json()["order"]["status"], "ready_to_ship");
    Ok(())
}
