//! The ERP, CRM and loyalty HTTP adapters against local stub servers of their REST shapes
//! (docs/integrations.md): bearer keys, documents by number with revisions, idempotency keys,
//! duplicate and stale answers (409), refusals and outages.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use oms_shared::adapters::http::HttpClient;
use oms_shared::adapters::integrations::RestApi;
use oms_shared::domain::integrations::*;
use oms_shared::ports::{Crm, Erp, IntegrationError, Loyalty};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Stub {
    docs: Mutex<HashMap<String, Value>>,
    activities: Mutex<HashMap<String, Value>>,
    points: Mutex<HashMap<String, Value>>,
    /// Answer this status to the next calls (an outage), counting down.
    fail: Mutex<Vec<u16>>,
}

type Reply = (StatusCode, axum::Json<Value>);

fn check(s: &Stub, h: &HeaderMap) -> Option<Reply> {
    if h.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer key_stub") {
        return Some((StatusCode::UNAUTHORIZED, axum::Json(json!({"error": {"code": "unauthorized"}}))));
    }
    s.fail
        .lock()
        .unwrap()
        .pop()
        .map(|st| (StatusCode::from_u16(st).unwrap(), axum::Json(json!({"error": {"code": "down"}}))))
}

async fn put_doc(State(s): State<Arc<Stub>>, Path(number): Path<String>, h: HeaderMap, body: String) -> Reply {
    if let Some(r) = check(&s, &h) {
        return r;
    }
    let Ok(doc) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(json!({"error": {"code": "invalid_document"}})));
    };
    if doc["documentNumber"] != number.as_str() || doc["currency"].as_str().is_none_or(|c| c.len() != 3) {
        return (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(json!({"error": {"code": "invalid_document"}})));
    }
    let mut docs = s.docs.lock().unwrap();
    if let Some(old) = docs.get(&number) {
        let newer = doc["revision"].as_u64().unwrap_or(0) > old["revision"].as_u64().unwrap_or(0);
        if !newer {
            return (StatusCode::CONFLICT, axum::Json(json!({"error": {"code": "stale_revision"}})));
        }
    }
    docs.insert(number, doc);
    (StatusCode::OK, axum::Json(json!({"status": "stored"})))
}

async fn post_activity(State(s): State<Arc<Stub>>, h: HeaderMap, body: String) -> Reply {
    if let Some(r) = check(&s, &h) {
        return r;
    }
    let key = h.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if key.is_empty() {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": {"code": "idempotency_key_required"}})));
    }
    let mut a = s.activities.lock().unwrap();
    if a.contains_key(&key) {
        return (StatusCode::CONFLICT, axum::Json(json!({"error": {"code": "duplicate"}})));
    }
    a.insert(key, serde_json::from_str(&body).unwrap_or_default());
    (StatusCode::CREATED, axum::Json(json!({"id": a.len()})))
}

async fn post_points(State(s): State<Arc<Stub>>, Path(member): Path<String>, h: HeaderMap, body: String) -> Reply {
    if let Some(r) = check(&s, &h) {
        return r;
    }
    if member == "not-a-member" {
        return (StatusCode::NOT_FOUND, axum::Json(json!({"error": {"code": "member_not_found"}})));
    }
    let t: Value = serde_json::from_str(&body).unwrap_or_default();
    let reference = t["reference"].as_str().unwrap_or_default().to_owned();
    let mut p = s.points.lock().unwrap();
    if p.contains_key(&reference) {
        return (StatusCode::CONFLICT, axum::Json(json!({"error": {"code": "duplicate_reference"}})));
    }
    p.insert(reference, json!({"member": member, "tx": t}));
    (StatusCode::CREATED, axum::Json(json!({"balance": 0})))
}

async fn member(State(s): State<Arc<Stub>>, Path(member): Path<String>, h: HeaderMap) -> Reply {
    if let Some(r) = check(&s, &h) {
        return r;
    }
    match member.as_str() {
        "not-a-member" => (StatusCode::NOT_FOUND, axum::Json(json!({"error": {"code": "member_not_found"}}))),
        _ => (StatusCode::OK, axum::Json(json!({"memberId": member, "tier": "gold", "points": 1200}))),
    }
}

async fn offers(State(s): State<Arc<Stub>>, Path(member): Path<String>, h: HeaderMap) -> Reply {
    if let Some(r) = check(&s, &h) {
        return r;
    }
    match member.as_str() {
        "not-a-member" => (StatusCode::NOT_FOUND, axum::Json(json!({"error": {"code": "member_not_found"}}))),
        "garbled" => (StatusCode::OK, axum::Json(json!({"offers": [{"offerId": "X"}]}))),
        _ => (
            StatusCode::OK,
            axum::Json(json!({"offers": [{
                "offerId": "LOY-1", "title": "20% off the console with the TV",
                "discount": {"type": "percent", "basisPoints": 2000},
                "sku": "CONSOLE-5", "withSkus": ["TV-55"], "validUntil": "2026-12-31T23:59:59Z"
            }]})),
        ),
    }
}

async fn serve(s: Arc<Stub>) -> String {
    let app = Router::new()
        .route("/v1/sales-orders/{number}", put(put_doc))
        .route("/v1/credit-notes/{number}", put(put_doc))
        .route("/v1/activities", post(post_activity))
        .route("/v1/members/{member}/transactions", post(post_points))
        .route("/v1/members/{member}", get(member))
        .route("/v1/members/{member}/offers", get(offers))
        .with_state(s);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}/")
}

fn so(revision: u64, status: &str) -> ErpDocument {
    ErpDocument::SalesOrder(SalesOrder {
        document_number: "SO-01JDQ0000000000000000000AA".into(),
        revision,
        order_id: "01JDQ0000000000000000000AA".into(),
        customer_id: "cust-1".into(),
        channel: "web".into(),
        status: status.into(),
        currency: "USD".into(),
        order_date: "2026-12-01T10:00:00Z".into(),
        lines: vec![DocumentLine {
            line_id: "L1".into(),
            sku: "TEE".into(),
            description: "Tee".into(),
            kind: "goods".into(),
            quantity: 2,
            unit_price: 1000,
            tax: 160,
            amount: 2000,
        }],
        shipping: 500,
        tax: 160,
        total: 2660,
    })
}

#[tokio::test]
async fn erp_documents_are_put_by_number_and_a_stale_revision_changes_nothing() {
    let stub = Arc::new(Stub::default());
    let base = serve(stub.clone()).await;
    let erp = RestApi::new(HttpClient::new(Duration::from_secs(5)).unwrap(), base.clone(), "key_stub");
    erp.put_document(&so(3, "shipped")).await.unwrap();
    erp.put_document(&so(1, "placed")).await.expect("an older revision arriving late is not an error");
    erp.put_document(&so(3, "shipped")).await.expect("a redelivery is not an error");
    let kept = stub.docs.lock().unwrap().get("SO-01JDQ0000000000000000000AA").cloned().unwrap();
    assert_eq!((kept["revision"].as_u64(), kept["status"].as_str()), (Some(3), Some("shipped")));
    let cn = ErpDocument::CreditNote(CreditNote {
        document_number: "CN-refund-01JDQ-L1-0".into(),
        sales_order: "SO-01JDQ0000000000000000000AA".into(),
        order_id: "01JDQ0000000000000000000AA".into(),
        currency: "USD".into(),
        amount: 1160,
        reason: "return".into(),
        date: "2026-12-02T10:00:00Z".into(),
    });
    erp.put_document(&cn).await.unwrap();
    assert_eq!(stub.docs.lock().unwrap().len(), 2);
    // An outage is worth a retry; a refusal is not.
    stub.fail.lock().unwrap().extend([503, 429]);
    assert!(matches!(erp.put_document(&cn).await, Err(IntegrationError::Unavailable(_))));
    assert!(matches!(erp.put_document(&cn).await, Err(IntegrationError::Unavailable(_))));
    let bad = ErpDocument::CreditNote(CreditNote {
        currency: "US".into(),
        ..match cn {
            ErpDocument::CreditNote(c) => c,
            _ => unreachable!(),
        }
    });
    assert_eq!(erp.put_document(&bad).await, Err(IntegrationError::Refused("status 422: invalid_document".into())));
    let wrong = RestApi::new(HttpClient::new(Duration::from_secs(5)).unwrap(), base, "key_wrong");
    assert!(matches!(wrong.put_document(&so(4, "x")).await, Err(IntegrationError::Refused(r)) if r.contains("401")));
    let down = RestApi::new(HttpClient::new(Duration::from_secs(1)).unwrap(), "http://127.0.0.1:9", "key_stub");
    assert!(matches!(down.put_document(&so(5, "x")).await, Err(IntegrationError::Unavailable(_))));
}

#[tokio::test]
async fn crm_activities_and_loyalty_points_are_kept_once() {
    let stub = Arc::new(Stub::default());
    let api = RestApi::new(HttpClient::new(Duration::from_secs(5)).unwrap(), serve(stub.clone()).await, "key_stub");
    let a = CrmActivity {
        external_id: "01JDQ.01JDR.order.placed".into(),
        customer_id: "cust-1".into(),
        activity_type: "order.placed".into(),
        order_id: "01JDQ".into(),
        occurred_at: "2026-12-01T10:00:00Z".into(),
        status: "placed".into(),
        total: Some(2660),
        currency: Some("USD".into()),
    };
    api.record_activity(&a).await.unwrap();
    api.record_activity(&a).await.unwrap();
    assert_eq!(stub.activities.lock().unwrap().len(), 1);
    let t = LoyaltyTransaction {
        reference: "accrue-01JDQ".into(),
        member_id: "auth0|cust 1".into(),
        kind: "accrue".into(),
        points: 20,
        order_id: "01JDQ".into(),
    };
    api.post_transaction(&t).await.unwrap();
    api.post_transaction(&t).await.unwrap();
    let p = stub.points.lock().unwrap().clone();
    assert_eq!(p.len(), 1);
    assert_eq!(p["accrue-01JDQ"]["member"], "auth0|cust 1", "the member id is one path segment, encoded");
    api.post_transaction(&LoyaltyTransaction { member_id: "not-a-member".into(), ..t.clone() }).await.unwrap();
    assert_eq!(api.tier("cust-1").await.unwrap().as_deref(), Some("gold"));
    assert_eq!(api.tier("not-a-member").await.unwrap(), None);
    // Offers: a member's, none for a non-member, a refusal for an answer that is not offers.
    let o = api.offers("cust-1").await.unwrap();
    assert_eq!((o.len(), o[0].offer_id.as_str(), o[0].with_skus[0].as_str()), (1, "LOY-1", "TV-55"));
    assert_eq!(o[0].discount, oms_shared::domain::promotion::Discount::Percent { basis_points: 2000 });
    assert!(api.offers("not-a-member").await.unwrap().is_empty());
    assert!(matches!(api.offers("garbled").await, Err(IntegrationError::Refused(_))));
    stub.fail.lock().unwrap().push(503);
    assert!(matches!(api.offers("cust-1").await, Err(IntegrationError::Unavailable(_))));
}
