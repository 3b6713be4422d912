//! Returns routes: customers open and follow RMAs; agents receive and inspect them.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use oms_shared::app::Permission;
use oms_shared::app::projections::return_for;
use oms_shared::app::returns::{OpenReturnRequest, ReceiveRequest, Returns};
use oms_shared::domain::{CustomerId, OrderId, ReturnId};
use placement::extract::{Auth, Json, MAX_BODY, Query, Staff, need};
use placement::problem::Problem;
use serde::Serialize;

mod documents;
mod pay;
mod survey;
mod warehouse;

fn json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(b) => (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], b).into_response(),
        Err(e) => Problem::from(oms_shared::app::AppError::Internal(e.to_string())).into_response(),
    }
}

fn order_id(s: &str) -> Result<OrderId, Problem> {
    OrderId::parse(s)
        .map_err(|_| Problem::bad_request("orderId is not a valid order id").with("field", "orderId".into()))
}

fn rma_id(s: &str) -> Result<ReturnId, Problem> {
    ReturnId::parse(s).map_err(|_| Problem::bad_request("rmaId is not a valid return id").with("field", "rmaId".into()))
}

async fn open(
    State(r): State<Returns>,
    Auth(c): Auth,
    Path(id): Path<String>,
    Json(req, _): Json<OpenReturnRequest>,
) -> Result<Response, Problem> {
    let rma = r.open(&c, &order_id(&id)?, req).await?;
    Ok(json(StatusCode::CREATED, &return_for(&c, &rma)))
}

async fn list(State(r): State<Returns>, Auth(c): Auth, Path(id): Path<String>) -> Result<Response, Problem> {
    #[derive(Serialize)]
    struct List<T> {
        returns: T,
    }
    let returns: Vec<_> = r.list(&c, &order_id(&id)?).await?.iter().map(|x| return_for(&c, x)).collect();
    Ok(json(StatusCode::OK, &List { returns }))
}

async fn label(
    State(r): State<Returns>,
    Auth(c): Auth,
    Path((id, rma)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let pdf = r.label(&c, &order_id(&id)?, &rma_id(&rma)?).await?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"))], pdf).into_response())
}

async fn receive(
    State(r): State<Returns>,
    Staff(c): Staff,
    Path(rma): Path<String>,
    headers: axum::http::HeaderMap,
    Json(req, _): Json<ReceiveRequest>,
) -> Result<Response, Problem> {
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) => Some(k),
        Some(Err(_)) => {
            return Err(
                oms_shared::app::AppError::invalid_field("Idempotency-Key", "1-200 visible ASCII characters").into()
            );
        }
    };
    Ok(json(StatusCode::OK, &r.receive(&c, &rma_id(&rma)?, req, key).await?))
}

/// `?expires=&signature=` of a signed link.
#[derive(serde::Deserialize)]
struct Signed {
    expires: i64,
    signature: String,
}

async fn signed_label(
    State(r): State<Returns>,
    Path((id, rma)): Path<(String, String)>,
    Query(q): Query<Signed>,
) -> Result<Response, Problem> {
    let pdf = r.signed_label(&order_id(&id)?, &rma_id(&rma)?, q.expires, &q.signature).await?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"))], pdf).into_response())
}

/// A small HTML page (the unsubscribe link opens in a browser).
fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:2em auto\"><main><h1>{title}</h1>{body}</main></body></html>"
    );
    (StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], html)
        .into_response()
}

fn customer_id(s: &str) -> Result<CustomerId, Problem> {
    CustomerId::parse(s).map_err(|_| Problem::from(oms_shared::app::AppError::NotFound))
}

/// `GET`: a page whose button confirms (mail scanners follow links; they must not
/// unsubscribe anyone). `POST` (the button, or a mail client's one-click `List-Unsubscribe-Post`):
/// unsubscribes.
async fn unsubscribe_page(
    State(r): State<Returns>,
    Path(customer): Path<String>,
    Query(q): Query<Signed>,
) -> Result<Response, Problem> {
    let c = customer_id(&customer)?;
    r.check(&oms_shared::app::notify::unsubscribe_path(&c), q.expires, &q.signature)?;
    let form = format!(
        "<p>Stop cart reminders and other marketing e-mail? Order and delivery e-mails keep coming.</p><form method=\"post\" action=\"?expires={}&amp;signature={}\"><button type=\"submit\">Unsubscribe</button></form>",
        q.expires, q.signature
    );
    Ok(page("Unsubscribe", &form))
}

async fn unsubscribe(
    State(r): State<Returns>,
    Path(customer): Path<String>,
    Query(q): Query<Signed>,
) -> Result<Response, Problem> {
    r.unsubscribe(&customer_id(&customer)?, q.expires, &q.signature).await?;
    Ok(page("You are unsubscribed", "<p>You will not get marketing e-mail from us any more.</p>"))
}

pub fn router(r: Returns) -> Router {
    Router::new()
        // A signed link from the return mail: no sign-in, no authorizer (see app::links).
        .route("/v1/signed/orders/{order_id}/returns/{rma_id}/label", get(signed_label))
        .route("/v1/signed/customers/{customer_id}/unsubscribe", get(unsubscribe_page).post(unsubscribe))
        .route("/v1/signed/orders/{order_id}/invoices/{number}", get(documents::signed_pdf))
        .route("/v1/signed/orders/{order_id}/feedback", get(survey::survey_page).post(survey::answer))
        .route("/v1/signed/orders/{order_id}/payment", get(pay::payment_page).post(pay::pay))
        .route("/v1/orders/{order_id}/invoices", get(documents::list))
        .route("/v1/orders/{order_id}/returns", post(open).get(list))
        .route("/v1/orders/{order_id}/returns/{rma_id}/label", get(label))
        .route("/v1/admin/returns/{rma_id}/receive", post(receive).route_layer(need(Permission::ReceiveReturns)))
        .route("/v1/admin/locations/{location_id}/picks", get(warehouse::picks).route_layer(need(Permission::Pack)))
        .route(
            "/v1/admin/orders/{order_id}/shipments/{shipment_id}/packed",
            post(warehouse::packed).route_layer(need(Permission::Pack)),
        )
        .method_not_allowed_fallback(|| async {
            Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(r)
}
