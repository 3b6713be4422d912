//! The provider HTTP adapters against local stub servers that speak the providers' API shapes
//! (Stripe PaymentIntents, EasyPost shipments), including their error bodies.

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use oms_shared::adapters::easypost::EasyPostCarrier;
use oms_shared::adapters::http::HttpClient;
use oms_shared::adapters::stripe::StripeGateway;
use oms_shared::domain::*;
use oms_shared::ports::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Stripe {
    intents: Mutex<HashMap<String, String>>,
    replies: Mutex<HashMap<String, (u16, Value)>>,
    attempts: Mutex<HashMap<String, u32>>,
    captured: Mutex<Vec<(String, String)>>,
}

async fn serve(app: Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

fn stripe_error(status: u16, kind: &str, code: &str) -> (u16, Value) {
    (status, json!({"error": {"type": kind, "code": code, "message": "stub"}}))
}

async fn create_intent(
    State(s): State<Arc<Stripe>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> impl IntoResponse {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer sk_test_stub") {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": {"type": "invalid_request_error", "code": "api_key_invalid"}})),
        );
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if let Some((st, body)) = s.replies.lock().unwrap().get(&key).cloned() {
        return (StatusCode::from_u16(st).unwrap(), axum::Json(body));
    }
    let token = f.get("payment_method_data[card][token]").cloned().unwrap_or_default();
    assert_eq!(f.get("capture_method").map(String::as_str), Some("manual"));
    let attempt = {
        let mut a = s.attempts.lock().unwrap();
        let n = a.entry(key.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let (st, body) = match token.as_str() {
        "tok_chargeDeclined" => (
            402,
            json!({"error": {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined."}}),
        ),
        "tok_transientError" if attempt == 1 => {
            return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"error": {"type": "api_error"}})));
        }
        _ => {
            let id = format!("pi_{}", s.intents.lock().unwrap().len() + 1);
            s.intents.lock().unwrap().insert(id.clone(), "requires_capture".into());
            (
                200,
                json!({"id": id, "object": "payment_intent", "status": "requires_capture", "amount": f["amount"].parse::<i64>().unwrap(), "currency": f["currency"]}),
            )
        }
    };
    s.replies.lock().unwrap().insert(key, (st, body.clone()));
    (StatusCode::from_u16(st).unwrap(), axum::Json(body))
}

async fn intent_action(
    State(s): State<Arc<Stripe>>,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> impl IntoResponse {
    let mut intents = s.intents.lock().unwrap();
    let Some(state) = intents.get(&id).cloned() else {
        let (st, b) = stripe_error(404, "invalid_request_error", "resource_missing");
        return (StatusCode::from_u16(st).unwrap(), axum::Json(b));
    };
    let (next, ok) = match (action.as_str(), state.as_str()) {
        ("capture", "requires_capture") => ("succeeded", true),
        ("cancel", "requires_capture") => ("canceled", true),
        _ => (state.as_str(), false),
    };
    if !ok {
        let (st, b) = stripe_error(400, "invalid_request_error", "payment_intent_unexpected_state");
        return (StatusCode::from_u16(st).unwrap(), axum::Json(b));
    }
    if action == "capture" {
        s.captured.lock().unwrap().push((id.clone(), f.get("amount_to_capture").cloned().unwrap_or_default()));
    }
    intents.insert(id.clone(), next.to_owned());
    (StatusCode::OK, axum::Json(json!({"id": id, "object": "payment_intent", "status": next})))
}

async fn refund(Form(f): Form<HashMap<String, String>>) -> impl IntoResponse {
    axum::Json(
        json!({"id": format!("re_for_{}", f["payment_intent"]), "object": "refund", "status": "succeeded", "amount": f["amount"].parse::<i64>().unwrap()}),
    )
}

fn usd(a: i64) -> Money {
    Money::new(a, Currency::USD).unwrap()
}

fn auth(token: &str, key: &str) -> AuthorizeRequest {
    AuthorizeRequest {
        token: token.into(),
        amount: usd(2599),
        idempotency_key: key.into(),
        order_id: OrderId::generate(),
    }
}

#[tokio::test]
async fn stripe_adapter_authorizes_captures_voids_refunds_and_maps_errors() {
    let state = Arc::new(Stripe::default());
    let app = Router::new()
        .route("/v1/payment_intents", post(create_intent))
        .route("/v1/payment_intents/{id}/{action}", post(intent_action))
        .route("/v1/refunds", post(refund))
        .route(
            "/slow/v1/payment_intents",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "{}"
            }),
        )
        .with_state(state.clone());
    let base = serve(app).await;
    let http = HttpClient::new(Duration::from_millis(800)).unwrap();
    let gw = StripeGateway::new(http.clone(), &base, "sk_test_stub");

    let a = gw.authorize(&auth("tok_visa", "auth-1")).await.unwrap();
    assert_eq!(gw.authorize(&auth("tok_visa", "auth-1")).await.unwrap(), a, "same key, same intent");
    assert!(
        matches!(gw.authorize(&auth("tok_chargeDeclined", "auth-2")).await, Err(PaymentError::Declined(c)) if c == "generic_decline")
    );
    assert!(matches!(gw.authorize(&auth("tok_transientError", "auth-3")).await, Err(PaymentError::Transient(_))));
    assert!(gw.authorize(&auth("tok_transientError", "auth-3")).await.is_ok(), "retry with the same key succeeds");

    gw.capture(&a.id, &usd(2599), "cap-1", true).await.unwrap();
    assert_eq!(state.captured.lock().unwrap().as_slice(), &[(a.id.clone(), "2599".to_owned())]);
    assert!(matches!(gw.void(&a.id, "void-1").await, Ok(())), "void after capture is a no-op at the provider");
    assert_eq!(gw.refund(&a.id, &usd(500), "ref-1").await.unwrap(), format!("re_for_{}", a.id));

    let b = gw.authorize(&auth("tok_visa", "auth-4")).await.unwrap();
    gw.void(&b.id, "void-4").await.unwrap();
    gw.void(&b.id, "void-4").await.unwrap();
    assert!(matches!(gw.capture(&b.id, &usd(1), "cap-4", true).await, Err(PaymentError::Rejected(_))));

    let bad_key = StripeGateway::new(http.clone(), &base, "sk_wrong");
    assert!(matches!(bad_key.authorize(&auth("tok_visa", "auth-5")).await, Err(PaymentError::Rejected(_))));
    let slow = StripeGateway::new(http, format!("{base}/slow"), "sk_test_stub");
    assert!(matches!(slow.authorize(&auth("tok_visa", "auth-6")).await, Err(PaymentError::Transient(_))));
}

#[derive(Default)]
struct EasyPost {
    bought: Mutex<Vec<String>>,
    refunded: Mutex<Vec<String>>,
    base: Mutex<String>,
}

async fn ep_create(headers: HeaderMap, axum::Json(b): axum::Json<Value>) -> impl IntoResponse {
    assert!(headers.get("authorization").unwrap().to_str().unwrap().starts_with("Basic "));
    if b["shipment"]["to_address"]["street1"] == "1 Nowhere Rd" {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"error": {"code": "ADDRESS.VERIFY.FAILURE", "message": "Address not found"}})),
        );
    }
    assert_eq!(b["shipment"]["options"]["label_format"], "PDF");
    assert_eq!(b["shipment"]["parcel"]["weight"], 18, "500 g is 17.6 oz, rounded up");
    (
        StatusCode::CREATED,
        axum::Json(json!({"id": "shp_1", "object": "Shipment", "rates": [
            {"id": "rate_g", "service": "Ground", "carrier": "USPS", "rate": "5.49", "currency": "USD", "delivery_days": 5},
            {"id": "rate_x", "service": "Express", "carrier": "USPS", "rate": "24.10", "currency": "USD", "delivery_days": 1}
        ]})),
    )
}

async fn ep_buy(
    State(s): State<Arc<EasyPost>>,
    Path(id): Path<String>,
    axum::Json(b): axum::Json<Value>,
) -> impl IntoResponse {
    s.bought.lock().unwrap().push(b["rate"]["id"].as_str().unwrap().to_owned());
    let base = s.base.lock().unwrap().clone();
    axum::Json(
        json!({"id": id, "tracking_code": "EZ1000000001", "postage_label": {"label_pdf_url": format!("{base}/labels/{id}.pdf")},
                      "selected_rate": {"id": "rate_g", "service": "Ground", "rate": "5.49", "currency": "USD", "delivery_days": 5}}),
    )
}

async fn ep_refund(State(s): State<Arc<EasyPost>>, Path(id): Path<String>) -> impl IntoResponse {
    let mut r = s.refunded.lock().unwrap();
    if r.contains(&id) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"error": {"code": "SHIPMENT.REFUND.FAILURE", "message": "already refunded"}})),
        );
    }
    r.push(id);
    (StatusCode::OK, axum::Json(json!({"refund_status": "submitted"})))
}

fn parcel(street: &str) -> Parcel {
    Parcel {
        shipment_id: ShipmentId::generate(),
        from: Address::parse(&AddressInput {
            name: "Newark warehouse".into(),
            line1: "200 Frelinghuysen Ave".into(),
            line2: None,
            city: "Newark".into(),
            region: Some("NJ".into()),
            postal_code: "07102".into(),
            country: "US".into(),
            phone: None,
        })
        .unwrap(),
        to: Address::parse(&AddressInput {
            name: "Ann Lee".into(),
            line1: street.into(),
            line2: None,
            city: "New York".into(),
            region: Some("NY".into()),
            postal_code: "10118".into(),
            country: "US".into(),
            phone: None,
        })
        .unwrap(),
        weight_grams: 500,
        dimensions_mm: None,
        reference: "order 1".into(),
    }
}

#[tokio::test]
async fn easypost_adapter_rates_buys_fetches_the_pdf_and_refunds() {
    let state = Arc::new(EasyPost::default());
    let app = Router::new()
        .route("/v2/shipments", post(ep_create))
        .route("/v2/shipments/{id}/buy", post(ep_buy))
        .route("/v2/shipments/{id}/refund", post(ep_refund))
        .route(
            "/labels/{file}",
            get(|| async { (StatusCode::OK, [("content-type", "application/pdf")], b"%PDF-1.4 stub".to_vec()) }),
        )
        .route("/down/v2/shipments", post(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .with_state(state.clone());
    let base = serve(app).await;
    *state.base.lock().unwrap() = base.clone();
    let http = HttpClient::new(Duration::from_secs(2)).unwrap();
    let ep = EasyPostCarrier::new(http.clone(), &base, "EZTK_stub");

    let p = parcel("350 5th Ave");
    let rates = ep.rates(&p).await.unwrap();
    assert_eq!(rates.len(), 2);
    assert_eq!(rates[0].cost, usd(549));
    assert_eq!(rates[1].cost, usd(2410));
    let label = ep.buy_label(&p, &rates[0], "label-1").await.unwrap();
    assert_eq!(label.tracking_number, "EZ1000000001");
    // The purchase keeps the carrier's URL; the document is fetched from it on request.
    assert!(label.document_url.as_deref().is_some_and(|u| u.contains("/labels/")), "{label:?}");
    let source = oms_shared::ports::LabelSource {
        carrier: label.carrier.clone(),
        parcel: p.clone(),
        tracking_number: label.tracking_number.clone(),
        service: label.service.clone(),
        document_url: label.document_url.clone(),
    };
    assert!(ep.label_document(&source).await.unwrap().starts_with(b"%PDF"));
    assert_eq!(state.bought.lock().unwrap().as_slice(), &["rate_g".to_owned()]);
    ep.void_label(&label.id).await.unwrap();
    ep.void_label(&label.id).await.unwrap();

    assert!(
        matches!(ep.rates(&parcel("1 Nowhere Rd")).await, Err(CarrierError::Rejected(m)) if m == "Address not found")
    );
    let down = EasyPostCarrier::new(http, format!("{base}/down"), "EZTK_stub");
    assert!(matches!(down.rates(&p).await, Err(CarrierError::Transient(_))));
}
