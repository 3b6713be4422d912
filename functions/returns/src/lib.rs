//! Returns routes: customers open and follow RMAs; agents receive and inspect them.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use oms_shared::app::Permission;
use oms_shared::app::projections::return_for;
use oms_shared::app::returns::{OpenReturnRequest, ReceiveRequest, Returns};
use oms_shared::domain::{OrderId, ReturnId};
use placement::extract::{Auth, Json, MAX_BODY, Staff, need};
use placement::problem::Problem;
use serde::Serialize;

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
    Json(req, _): Json<ReceiveRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &r.receive(&c, &rma_id(&rma)?, req).await?))
}

pub fn router(r: Returns) -> Router {
    Router::new()
        .route("/v1/orders/{order_id}/returns", post(open).get(list))
        .route("/v1/orders/{order_id}/returns/{rma_id}/label", get(label))
        .route("/v1/admin/returns/{rma_id}/receive", post(receive).route_layer(need(Permission::ReceiveReturns)))
        .method_not_allowed_fallback(|| async {
            Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(r)
}
