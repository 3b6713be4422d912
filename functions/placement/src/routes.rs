//! The storefront and admin routes. Each handler maps the request to one use-case call and the
//! result back to JSON; the rules live in `oms_shared`.

use crate::extract::{Admin, Auth, Json, MaybeJson, Query};
use crate::problem::Problem;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oms_shared::app::carts::{CreateCartRequest, SetItemRequest};
use oms_shared::app::catalog::{LocationInput, ProductInput, StockInput};
use oms_shared::app::orders::{AdminOrderQuery, EditOrderRequest, PlaceOrderRequest, QuoteRequest};
use oms_shared::app::{AppError, Oms};
use oms_shared::domain::{Actor, CartId, LocationId, OrderId, Sku};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub type AppState = Oms;

fn json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(body) => {
            (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
        }
        Err(e) => Problem::from(AppError::Internal(e.to_string())).into_response(),
    }
}

fn raw_json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

fn order_id(s: &str) -> Result<OrderId, Problem> {
    OrderId::parse(s)
        .map_err(|_| Problem::bad_request("orderId is not a valid order id").with("field", "orderId".into()))
}
fn cart_id(s: &str) -> Result<CartId, Problem> {
    CartId::parse(s).map_err(|_| Problem::bad_request("cartId is not a valid cart id").with("field", "cartId".into()))
}
fn sku(s: &str) -> Result<Sku, Problem> {
    Sku::parse(s).map_err(|_| Problem::bad_request("sku is not a valid SKU").with("field", "sku".into()))
}
fn location_id(s: &str) -> Result<LocationId, Problem> {
    LocationId::parse(s)
        .map_err(|_| Problem::bad_request("locationId is not a valid location id").with("field", "locationId".into()))
}

fn with_etag(mut res: Response, version: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"v{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// `If-Match: "v3"` (as sent in ETag) or a bare version number.
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("").trim().trim_start_matches("W/").trim_matches('"');
    s.trim_start_matches('v')
        .parse::<u64>()
        .map(Some)
        .map_err(|_| Problem::bad_request("If-Match must be the order's ETag, for example \"v3\""))
}

// ----- carts ---------------------------------------------------------------------------------

pub async fn create_cart(
    State(oms): State<AppState>,
    Auth(c): Auth,
    MaybeJson(body): MaybeJson<CreateCartRequest>,
) -> Result<Response, Problem> {
    let req = body.unwrap_or_default();
    Ok(json(StatusCode::CREATED, &oms.create_cart(&c, req).await?))
}

pub async fn list_carts(State(oms): State<AppState>, Auth(c): Auth) -> Result<Response, Problem> {
    #[derive(Serialize)]
    struct Carts<T> {
        carts: T,
    }
    Ok(json(StatusCode::OK, &Carts { carts: oms.list_carts(&c).await? }))
}

pub async fn get_cart(State(oms): State<AppState>, Auth(c): Auth, Path(id): Path<String>) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.get_cart(&c, &cart_id(&id)?).await?))
}

pub async fn set_cart_item(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Path((id, s)): Path<(String, String)>,
    Json(req, _): Json<SetItemRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.set_cart_item(&c, &cart_id(&id)?, sku(&s)?, req).await?))
}

// ----- quotes and orders ---------------------------------------------------------------------

pub async fn quote(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Json(req, _): Json<QuoteRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.quote(&c, req).await?))
}

/// Money fields a client may not send: prices are computed on the server.
const CLIENT_PRICE_FIELDS: [&str; 8] =
    ["price", "unitPrice", "subtotal", "total", "totals", "tax", "shippingCost", "cost"];

fn has_price_field(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(m) => {
            m.iter().any(|(k, v)| CLIENT_PRICE_FIELDS.contains(&k.as_str()) || has_price_field(v))
        }
        serde_json::Value::Array(a) => a.iter().any(has_price_field),
        _ => false,
    }
}

/// sha256 over the body's canonical JSON (keys sorted, no whitespace), so key order and
/// formatting do not make two equal requests differ.
pub fn request_hash(v: &serde_json::Value) -> String {
    fn canon(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String((*k).clone()).to_string());
                    out.push(':');
                    canon(&m[*k], out);
                }
                out.push('}');
            }
            serde_json::Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canon(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    canon(v, &mut s);
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn place_order(
    State(oms): State<AppState>,
    Auth(c): Auth,
    headers: HeaderMap,
    Json(body, _): Json<serde_json::Value>,
) -> Result<Response, Problem> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            Problem::new(StatusCode::BAD_REQUEST, "idempotency-key-required", "Idempotency-Key is required")
                .detail("send a unique Idempotency-Key header per order attempt")
        })?;
    if key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Problem::bad_request("Idempotency-Key must be 1-255 visible ASCII characters"));
    }
    if has_price_field(&body) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "client-prices-rejected",
            "Prices are computed by the server",
        )
        .detail("remove price, total, tax and cost fields: the server prices orders from the catalog"));
    }
    let hash = request_hash(&body);
    let req: PlaceOrderRequest =
        serde_json::from_value(body).map_err(|e| Problem::bad_request(format!("invalid JSON body: {e}")))?;
    let (status, body) = oms.place_order(&c, key, &hash, req).await?;
    Ok(raw_json(StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED), body))
}

pub async fn get_order(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let o = oms.get_order(&c, &order_id(&id)?).await?;
    let v = o.version;
    Ok(with_etag(json(StatusCode::OK, &o), v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<i32>,
    cursor: Option<String>,
}

pub async fn list_orders(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<ListQuery>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.list_orders(&c, q.limit, q.cursor.as_deref()).await?))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    #[serde(default)]
    reason: Option<String>,
}

pub async fn cancel_order(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    MaybeJson(body): MaybeJson<CancelRequest>,
) -> Result<Response, Problem> {
    let reason = body.and_then(|b| b.reason).map(|r| r.chars().take(500).collect::<String>());
    let actor = Actor::Customer(c.customer.to_string());
    let o = oms.cancel_order(&c, &order_id(&id)?, actor, reason).await?;
    let v = o.version;
    Ok(with_etag(json(StatusCode::OK, &o), v))
}

pub async fn edit_order(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(req, _): Json<EditOrderRequest>,
) -> Result<Response, Problem> {
    let o = oms.edit_order(&c, &order_id(&id)?, if_match(&headers)?, req).await?;
    let v = o.version;
    Ok(with_etag(json(StatusCode::OK, &o), v))
}

// ----- preferences ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferencesInput {
    marketing_emails: bool,
}

pub async fn get_preferences(State(oms): State<AppState>, Auth(c): Auth) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.store.get_preferences(&c.customer).await?))
}

pub async fn put_preferences(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Json(req, _): Json<PreferencesInput>,
) -> Result<Response, Problem> {
    let p = oms_shared::adapters::dynamo::store::Preferences { marketing_emails: req.marketing_emails };
    oms.store.put_preferences(&c.customer, &p).await?;
    Ok(json(StatusCode::OK, &p))
}

// ----- admin ---------------------------------------------------------------------------------

pub async fn put_product(
    State(oms): State<AppState>,
    Admin(_): Admin,
    Path(s): Path<String>,
    Json(req, _): Json<ProductInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.upsert_product(sku(&s)?, req).await?))
}

pub async fn put_location(
    State(oms): State<AppState>,
    Admin(_): Admin,
    Path(id): Path<String>,
    Json(req, _): Json<LocationInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.upsert_location(location_id(&id)?, req).await?))
}

pub async fn put_stock(
    State(oms): State<AppState>,
    Admin(_): Admin,
    Path((s, l)): Path<(String, String)>,
    Json(req, _): Json<StockInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.set_stock(sku(&s)?, location_id(&l)?, req).await?))
}

pub async fn admin_list_orders(
    State(oms): State<AppState>,
    Admin(_): Admin,
    Query(q): Query<AdminOrderQuery>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.admin_list_orders(q).await?))
}

pub async fn admin_get_order(
    State(oms): State<AppState>,
    Admin(c): Admin,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let o = oms.get_order(&c, &order_id(&id)?).await?;
    let v = o.version;
    Ok(with_etag(json(StatusCode::OK, &o), v))
}

pub async fn admin_cancel_order(
    State(oms): State<AppState>,
    Admin(c): Admin,
    Path(id): Path<String>,
    MaybeJson(body): MaybeJson<CancelRequest>,
) -> Result<Response, Problem> {
    let reason = body.and_then(|b| b.reason).map(|r| r.chars().take(500).collect::<String>());
    let o = oms.cancel_order(&c, &order_id(&id)?, Actor::Agent(c.customer.to_string()), reason).await?;
    Ok(json(StatusCode::OK, &o))
}

pub async fn admin_release_hold(
    State(oms): State<AppState>,
    Admin(c): Admin,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.release_hold(&c, &order_id(&id)?).await?))
}

pub async fn admin_get_label(
    State(oms): State<AppState>,
    Admin(_): Admin,
    Path((id, shipment)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let shipment = oms_shared::domain::ShipmentId::parse(&shipment).map_err(|_| {
        Problem::bad_request("shipmentId is not a valid shipment id").with("field", "shipmentId".into())
    })?;
    let pdf = oms.label_pdf(&order_id(&id)?, &shipment).await?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"))], pdf).into_response())
}

// ----- customer service ------------------------------------------------------------------

use oms_shared::app::support::{
    GoodwillRequest, HoldRequest, NoteRequest, OpenCaseRequest, ResendRequest, UpdateCaseRequest,
};

pub async fn admin_note(
    State(oms): State<AppState>,
    Admin(c): Admin,
    Path(id): Path<String>,
    Json(req, _): Json<NoteRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.add_note(&c, &order_id(&id)?, req).await?))
}

pub async fn admin_hold(
    State(oms): State<AppState>,
    Admin(c): Admin,
    Path(id): Path<String>,
    Json(req, _): Json<HoldRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.place_hold(&c, &order_id(&id)?, req).await?))
}

pub async fn admin_resend(
    State(oms): State<AppState>,
    Admin(c): Admin,
    Path(id): Path<String>,
    Json(req, _): Json<ResendRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::ACCEPTED, &oms.resend_notification(&c, &order_id(&id)?, req).await?))
}

pub async fn admin_goodwill(
    State(oms): State<AppState>,
    Admin(c): Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(req, _): Json<GoodwillRequest>,
) -> Result<Response, Problem> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            Problem::new(StatusCode::BAD_REQUEST, "idempotency-key-required", "Idempotency-Key is required")
        })?;
    Ok(json(StatusCode::OK, &oms.goodwill_refund(&c, &order_id(&id)?, key, req).await?))
}

pub async fn admin_open_case(
    State(oms): State<AppState>,
    Admin(c): Admin,
    Json(req, _): Json<OpenCaseRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::CREATED, &oms.open_case(&c, req, None).await?))
}

pub async fn admin_update_case(
    State(oms): State<AppState>,
    Admin(c): Admin,
    Path(id): Path<String>,
    Json(req, _): Json<UpdateCaseRequest>,
) -> Result<Response, Problem> {
    let id =
        oms_shared::domain::CaseId::parse(&id).map_err(|_| Problem::bad_request("caseId is not a valid case id"))?;
    Ok(json(StatusCode::OK, &oms.update_case(&c, &id, req).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    status: Option<String>,
}

pub async fn admin_list_cases(
    State(oms): State<AppState>,
    Admin(_): Admin,
    Query(q): Query<CaseQuery>,
) -> Result<Response, Problem> {
    use oms_shared::domain::support::CaseStatus;
    let status = match q.status.as_deref().unwrap_or("open") {
        "open" => CaseStatus::Open,
        "escalated" => CaseStatus::Escalated,
        "resolved" => CaseStatus::Resolved,
        other => return Err(Problem::bad_request(format!("unknown case status {other:?}"))),
    };
    #[derive(Serialize)]
    struct Cases<T> {
        cases: T,
    }
    Ok(json(StatusCode::OK, &Cases { cases: oms.store.cases_by_status(status).await? }))
}

pub async fn admin_order_cases(
    State(oms): State<AppState>,
    Admin(_): Admin,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    #[derive(Serialize)]
    struct Cases<T> {
        cases: T,
    }
    Ok(json(StatusCode::OK, &Cases { cases: oms.store.cases_of_order(&order_id(&id)?).await? }))
}

pub async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found").detail("no such route")
}
