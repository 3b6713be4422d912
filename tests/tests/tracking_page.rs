//! Public tracking from outside: without sign-in, a tracking number shows the parcel's status,
//! its carrier scans and the estimated delivery (moved by the carrier's estimate), as JSON and
//! as the page the shipment mail links to; nothing about who it is for ever appears; bad and
//! unknown numbers are refused with nothing revealed.

use oms_tests::{Stack, order_body};
use serde_json::json;

#[tokio::test]
async fn a_tracking_number_alone_shows_status_scans_and_estimate_and_nothing_personal() -> anyhow::Result<()> {
    let s = Stack::new().await?;
    let email = format!("track-{}@mail.example", ulid::Ulid::new().to_string().to_lowercase());
    let mut body = order_body(json!([{"sku": "MUG-CLASSIC", "quantity": 1}]));
    body["email"] = json!(email);
    body["shippingAddress"]["name"] = json!("Zelda Quixote");
    body["shippingAddress"]["line1"] = json!("77 Hidden Lane");
    let id = s.place("cust-track", &body).await?;
    let o = s.wait_for_status("cust-track", &id, "ready_to_ship").await?;
    let tracking = o["shipments"][0]["trackingNumber"].as_str().unwrap_or_default().to_owned();
    let promised = o["shipments"][0]["estimatedDelivery"].as_str().unwrap_or_default().to_owned();

    // Before any scan: the label exists, the estimate is the carrier's.
    let r = s.call("GET", &format!("/v1/tracking/{tracking}"), None, None, &[]).await?;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.json();
    assert_eq!((t["kind"].as_str(), t["status"].as_str()), (Some("shipment"), Some("label_created")), "{t}");
    assert_eq!(t["estimatedDelivery"].as_str(), Some(promised.as_str()));
    assert_eq!(t["events"], json!([]));

    // Scans, one with a new estimate from the carrier.
    let later = (chrono::Utc::now().date_naive() + chrono::Duration::days(9)).to_string();
    let ev = oms_local::carrier_event("evt-track-1", &tracking, "in_transit", Some(&later)).to_string();
    let sig = oms_shared::app::webhooks::sign(oms_local::WEBHOOK_SECRET, ev.as_bytes());
    assert_eq!(s.raw_webhook("sandbox", &ev, Some(&sig)).await?.status, 200);
    s.wait_for_status("cust-track", &id, "shipped").await?;
    let mut t = serde_json::Value::Null;
    for _ in 0..100 {
        t = s.call("GET", &format!("/v1/tracking/{tracking}"), None, None, &[]).await?.json();
        if t["status"] == "in_transit" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(t["status"], "in_transit", "{t}");
    assert_eq!(t["estimatedDelivery"].as_str(), Some(later.as_str()), "the carrier's new estimate: {t}");
    assert_eq!(t["events"].as_array().map(Vec::len), Some(1), "{t}");
    assert_eq!(t["events"][0]["status"], "in_transit");

    // Nothing personal or internal, in the JSON or the page.
    let page = s.call("GET", &format!("/track?number={tracking}"), None, None, &[]).await?;
    assert_eq!(page.status, 200);
    assert!(page.content_type().starts_with("text/html"), "{}", page.content_type());
    assert!(page.headers.get("content-security-policy").is_some());
    assert!(page.text.contains("In transit") && page.text.contains(&tracking), "{}", page.text);
    let text = format!("{t} {}", page.text);
    for secret in [id.as_str(), email.as_str(), "Zelda", "Quixote", "Hidden Lane", "cust-track", "MUG", "Mug"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let shipment = o["shipments"][0]["id"].as_str().or(o["shipments"][0]["shipmentId"].as_str()).unwrap_or("-");
    assert!(!text.contains(shipment), "the shipment id leaked");

    // Unknown, malformed and hostile numbers: refused, nothing echoed back unescaped.
    let r = s.call("GET", "/v1/tracking/SBX000000000000", None, None, &[]).await?;
    assert_eq!(r.status, 404, "{}", r.text);
    for bad in ["a%20b", "%3Cscript%3E", &"9".repeat(65), "x%00y"] {
        let r = s.call("GET", &format!("/v1/tracking/{bad}"), None, None, &[]).await?;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert_eq!(r.json()["field"], "trackingNumber", "{}", r.text);
    }
    let r = s.call("GET", "/track?number=%3Cscript%3Ealert(1)%3C%2Fscript%3E", None, None, &[]).await?;
    assert_eq!(r.status, 400);
    assert!(!r.text.contains("<script>"), "{}", r.text);
    let r = s.call("GET", "/track?number=SBX000000000000", None, None, &[]).await?;
    assert_eq!(r.status, 404);
    assert!(r.text.contains("no parcel with that tracking number"), "{}", r.text);
    let r = s.call("GET", &format!("/v1/tracking/{tracking}?include=order"), None, None, &[]).await?;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s.call("GET", &format!("/track?number={tracking}&utm_source=mail"), None, None, &[]).await?;
    assert_eq!(r.status, 200, "a campaign tag on the mail link still opens the page");
    let r = s.call("GET", "/track", None, None, &[]).await?;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("Tracking number"));
    Ok(())
}
