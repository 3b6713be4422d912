//! The storefront and admin routes. Each handler maps the request to one use-case call and the
//! result back to JSON; the rules live in `oms_shared`.

mod admin;
mod analytics;
mod backorders;
mod companies;
mod console;
mod promotions;
mod services;
mod shop;
mod storefront;
mod track;
mod webhooks;

pub use admin::*;
pub use analytics::*;
pub use backorders::*;
pub use companies::*;
pub use console::*;
pub use promotions::*;
pub use services::*;
pub use shop::*;
pub use storefront::*;
pub use track::*;
pub use webhooks::*;

use crate::extract::{Auth, Json, MaybeJson, Query, Staff};
use crate::problem::Problem;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oms_shared::app::carts::{CreateCartRequest, SetItemRequest};
use oms_shared::app::catalog::{LocationInput, ProductInput, StockInput};
use oms_shared::app::orders::{AdminOrderQuery, EditOrderRequest, PlaceOrderRequest, QuoteRequest};
use oms_shared::app::{AppError, Oms};
use oms_shared::domain::{Actor, CartId, LocationId, OrderId, Sku};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub type AppState = Oms;

pub(super) fn json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(body) => {
            (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
        }
        Err(e) => Problem::from(AppError::Internal(e.to_string())).into_response(),
    }
}

pub(super) fn raw_json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

pub(super) fn order_id(s: &str) -> Result<OrderId, Problem> {
    OrderId::parse(s)
        .map_err(|_| Problem::bad_request("orderId is not a valid order id").with("field", "orderId".into()))
}
pub(super) fn cart_id(s: &str) -> Result<CartId, Problem> {
    CartId::parse(s).map_err(|_| Problem::bad_request("cartId is not a valid cart id").with("field", "cartId".into()))
}
pub(super) fn sku(s: &str) -> Result<Sku, Problem> {
    Sku::parse(s).map_err(|_| Problem::bad_request("sku is not a valid SKU").with("field", "sku".into()))
}
pub(super) fn location_id(s: &str) -> Result<LocationId, Problem> {
    LocationId::parse(s)
        .map_err(|_| Problem::bad_request("locationId is not a valid location id").with("field", "locationId".into()))
}

/// The caller and the order the `{order_id}` path segment names (a malformed id is a 400).
pub struct OrderOf {
    pub oms: Oms,
    pub caller: oms_shared::app::Caller,
    pub id: OrderId,
}

async fn order_of(parts: &mut Parts, oms: &Oms, caller: oms_shared::app::Caller) -> Result<OrderOf, Problem> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, oms)
        .await
        .map_err(|_| Problem::bad_request("the path names no order"))?;
    let id = order_id(params.get("order_id").map(String::as_str).unwrap_or_default())?;
    Ok(OrderOf { oms: oms.clone(), caller, id })
}

impl FromRequestParts<Oms> for OrderOf {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, oms: &Oms) -> Result<Self, Problem> {
        let Auth(caller) = Auth::from_request_parts(parts, oms).await?;
        order_of(parts, oms, caller).await
    }
}

/// The same for an agent (admin scope, else 403).
pub struct AgentOrder(pub OrderOf);

impl FromRequestParts<Oms> for AgentOrder {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, oms: &Oms) -> Result<Self, Problem> {
        let Staff(caller) = Staff::from_request_parts(parts, oms).await?;
        Ok(AgentOrder(order_of(parts, oms, caller).await?))
    }
}

pub(super) fn with_etag(mut res: Response, version: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"v{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// `If-Match: "v3"` (as sent in ETag) or a bare version number.
pub(super) fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("").trim().trim_start_matches("W/").trim_matches('"');
    s.trim_start_matches('v')
        .parse::<u64>()
        .map(Some)
        .map_err(|_| Problem::bad_request("If-Match must be the order's ETag, for example \"v3\""))
}

// ----- preferences ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferencesInput {
    marketing_emails: bool,
    #[serde(default)]
    sms: Option<oms_shared::domain::messaging::SmsPreference>,
    #[serde(default)]
    push: Option<oms_shared::domain::messaging::PushPreference>,
    #[serde(default)]
    quiet_hours: Option<oms_shared::domain::messaging::QuietHours>,
}

pub async fn get_preferences(State(oms): State<AppState>, Auth(c): Auth) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.store.get_preferences(&c.customer).await?))
}

pub async fn put_preferences(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Json(req, _): Json<PreferencesInput>,
) -> Result<Response, Problem> {
    let p = oms_shared::domain::support::Preferences {
        marketing_emails: req.marketing_emails,
        sms: req.sms,
        push: req.push,
        quiet_hours: req.quiet_hours,
    };
    p.validate().map_err(|(field, why)| oms_shared::app::AppError::invalid_field(field, why))?;
    oms.store.put_preferences(&c.customer, &p).await?;
    Ok(json(StatusCode::OK, &p))
}

pub async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found").detail("no such route")
}

// ----- personal data -------------------------------------------------------------------------

/// `GET /v1/me/export`: everything the OMS holds about the caller.
pub async fn export_me(State(oms): State<AppState>, Auth(c): Auth) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.export_personal_data(&c).await?))
}

/// `DELETE /v1/me`: erase the caller's personal data (409 while an order is open).
pub async fn erase_me(State(oms): State<AppState>, Auth(c): Auth) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.erase_personal_data(&c).await?))
}
