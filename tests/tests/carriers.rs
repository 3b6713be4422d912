//! Several carriers at once: rates of `sandbox` and `sandbox-economy` are shopped together and
//! each label is bought from the cheapest service that meets the promised date; each carrier's
//! scans come in on its own webhook route, verified with its own secret; a cancel voids the
//! label with the carrier that sold it.

use oms_tests::{Stack, order_body};
use serde_json::json;

async fn two_carriers() -> anyhow::Result<Stack> {
    Stack::with(oms_local::Options { economy: true, ..oms_local::Options::default() }).await
}

async fn scan(
    s: &Stack,
    carrier: &str,
    secret: &str,
    event: &str,
    tracking: &str,
    status: &str,
) -> anyhow::Result<oms_tests::Reply> {
    let body = oms_local::carrier_event(event, tracking, status, None).to_string();
    let sig = oms_shared::app::webhooks::sign(secret, body.as_bytes());
    s.raw_webhook(carrier, &body, Some(&sig)).await
}

#[tokio::test]
async fn the_cheaper_carrier_on_time_sells_the_label_and_its_scans_use_its_own_route_and_secret() -> anyhow::Result<()>
{
    let s = two_carriers().await?;
    // Standard delivery: both carriers' ground services meet the promise; the economy carrier
    // is cheaper.
    let id = s.place("cust-rates", &order_body(json!([{"sku": "DESK-LAMP", "quantity": 1}]))).await?;
    let o = s.wait_for_status("cust-rates", &id, "ready_to_ship").await?;
    let sh = &o["shipments"][0];
    assert_eq!(
        (sh["carrier"].as_str(), sh["labelService"].as_str()),
        (Some("sandbox-economy"), Some("economy")),
        "{o}"
    );
    let tracking = sh["trackingNumber"].as_str().unwrap_or_default().to_owned();
    assert!(tracking.starts_with("ECO"), "{tracking}");

    // Express: the economy carrier's ground is too slow for the promise and its express costs
    // more than the first carrier's.
    let mut fast = order_body(json!([{"sku": "DESK-LAMP", "quantity": 1}]));
    fast["serviceLevel"] = json!("express");
    let id2 = s.place("cust-rates", &fast).await?;
    let o2 = s.wait_for_status("cust-rates", &id2, "ready_to_ship").await?;
    assert_eq!(o2["shipments"][0]["carrier"], "sandbox", "{o2}");
    assert_eq!(o2["shipments"][0]["labelService"], "express");

    // The economy carrier's scan: signed with the shared secret it is refused; on another
    // carrier's route it finds nothing; on its own route with its own secret it ships.
    let r = scan(&s, "sandbox-economy", oms_local::WEBHOOK_SECRET, "evt-eco-1", &tracking, "in_transit").await?;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = scan(&s, "sandbox", oms_local::WEBHOOK_SECRET, "evt-eco-2", &tracking, "in_transit").await?;
    assert_eq!(r.status, 422, "unknown to that carrier: {}", r.text);
    assert_eq!(s.order("cust-rates", &id).await?["status"], "ready_to_ship", "nothing moved");
    let r =
        scan(&s, "sandbox-economy", oms_local::ECONOMY_WEBHOOK_SECRET, "evt-eco-3", &tracking, "in_transit").await?;
    assert!(r.status < 300, "{}", r.text);
    s.wait_for_status("cust-rates", &id, "shipped").await?;
    let r = scan(&s, "sandbox-economy", oms_local::ECONOMY_WEBHOOK_SECRET, "evt-eco-4", &tracking, "delivered").await?;
    assert!(r.status < 300, "{}", r.text);
    s.wait_for_status("cust-rates", &id, "delivered").await?;
    // Analytics: on-time delivery per carrier.
    let today = chrono::Utc::now().date_naive();
    let q = format!("from={}&to={}", today - chrono::Duration::days(1), today + chrono::Duration::days(1));
    let admin = s.admin_token();
    s.eventually("the economy carrier's on-time figure", || async {
        let sum = s.call("GET", &format!("/v1/admin/analytics/summary?{q}"), Some(&admin), None, &[]).await?.json();
        Ok(sum["byCarrier"].as_array().into_iter().flatten().any(|c| {
            c["carrier"] == "sandbox-economy" && c["delivered"] == 1 && c["onTime"] == 1 && c["onTimeRate"] == 1.0
        }))
    })
    .await?;

    // The label's document comes from the carrier that sold it.
    let sid = o["shipments"][0]["id"].as_str().unwrap_or_default();
    let r = s.call("GET", &format!("/v1/admin/orders/{id}/shipments/{sid}/label"), Some(&admin), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    Ok(())
}

#[tokio::test]
async fn a_cancel_voids_the_label_with_the_carrier_that_sold_it() -> anyhow::Result<()> {
    let s = two_carriers().await?;
    let id = s.place("cust-void", &order_body(json!([{"sku": "DESK-LAMP", "quantity": 1}]))).await?;
    let o = s.wait_for_status("cust-void", &id, "ready_to_ship").await?;
    let label = o["shipments"][0]["labelId"].as_str().unwrap_or_default().to_owned();
    assert!(label.starts_with("sandbox-economy:"), "{label}");
    let r = s.call("POST", &format!("/v1/orders/{id}/cancel"), Some(&s.token("cust-void")), None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let own_id = label.trim_start_matches("sandbox-economy:").to_owned();
    s.eventually("the economy label voided", || async { Ok(s.local.economy.voided(&own_id)) }).await?;
    assert!(!s.local.carrier.voided(&own_id));
    Ok(())
}
