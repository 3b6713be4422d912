//! Agent routes: catalog and stock, order listings and actions, customer service.

use super::*;

// ----- admin ---------------------------------------------------------------------------------

pub async fn put_product(
    State(oms): State<AppState>,
    Staff(_): Staff,
    Path(s): Path<String>,
    Json(req, _): Json<ProductInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.upsert_product(sku(&s)?, req).await?))
}

pub async fn put_location(
    State(oms): State<AppState>,
    Staff(_): Staff,
    Path(id): Path<String>,
    Json(req, _): Json<LocationInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.upsert_location(location_id(&id)?, req).await?))
}

pub async fn put_stock(
    State(oms): State<AppState>,
    Staff(_): Staff,
    Path((s, l)): Path<(String, String)>,
    Json(req, _): Json<StockInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.set_stock(sku(&s)?, location_id(&l)?, req).await?))
}

pub async fn adjust_stock(
    State(oms): State<AppState>,
    Staff(_): Staff,
    Path((s, l)): Path<(String, String)>,
    Json(req, _): Json<oms_shared::app::catalog::StockAdjustmentInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.adjust_stock(sku(&s)?, location_id(&l)?, req).await?))
}

/// Days of cover per SKU from sales velocity, with what to order.
pub async fn replenishment(State(oms): State<AppState>, Staff(_): Staff) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &serde_json::json!({ "items": oms.replenishment().await? })))
}

pub async fn low_stock(State(oms): State<AppState>, Staff(_): Staff) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &serde_json::json!({ "items": oms.low_stock().await? })))
}

pub async fn inventory_drift(State(oms): State<AppState>, Staff(_): Staff) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &serde_json::json!({ "items": oms.inventory_drift().await? })))
}

pub async fn admin_list_orders(
    State(oms): State<AppState>,
    Staff(_): Staff,
    Query(q): Query<AdminOrderQuery>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.admin_list_orders(q).await?))
}

pub async fn admin_get_order(AgentOrder(o): AgentOrder) -> Result<Response, Problem> {
    let o = o.oms.get_order(&o.caller, &o.id).await?;
    let v = o.version();
    Ok(with_etag(json(StatusCode::OK, &o), v))
}

pub async fn admin_cancel_order(
    AgentOrder(o): AgentOrder,
    headers: HeaderMap,
    MaybeJson(body): MaybeJson<CancelRequest>,
) -> Result<Response, Problem> {
    cancel(o, Actor::Agent, &headers, body).await
}

pub async fn admin_release_hold(AgentOrder(o): AgentOrder) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &o.oms.release_hold(&o.caller, &o.id).await?))
}

pub async fn admin_get_label(
    State(oms): State<AppState>,
    Staff(_): Staff,
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

pub async fn admin_note(AgentOrder(o): AgentOrder, Json(req, _): Json<NoteRequest>) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &o.oms.add_note(&o.caller, &o.id, req).await?))
}

/// Store staff hand a pickup order over against the customer's code.
pub async fn admin_collected(
    AgentOrder(o): AgentOrder,
    Json(req, _): Json<oms_shared::app::orders::CollectRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &o.oms.collect_pickup(&o.caller, &o.id, req).await?))
}

pub async fn admin_hold(AgentOrder(o): AgentOrder, Json(req, _): Json<HoldRequest>) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &o.oms.place_hold(&o.caller, &o.id, req).await?))
}

pub async fn admin_resend(AgentOrder(o): AgentOrder, Json(req, _): Json<ResendRequest>) -> Result<Response, Problem> {
    Ok(json(StatusCode::ACCEPTED, &o.oms.resend_notification(&o.caller, &o.id, req).await?))
}

pub async fn admin_goodwill(
    AgentOrder(o): AgentOrder,
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
    Ok(json(StatusCode::OK, &o.oms.goodwill_refund(&o.caller, &o.id, key, req).await?))
}

pub async fn admin_open_case(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Json(req, _): Json<OpenCaseRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::CREATED, &oms.open_case(&c, req, None).await?))
}

pub async fn admin_update_case(
    State(oms): State<AppState>,
    Staff(c): Staff,
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
    Staff(_): Staff,
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
    Staff(_): Staff,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    #[derive(Serialize)]
    struct Cases<T> {
        cases: T,
    }
    Ok(json(StatusCode::OK, &Cases { cases: oms.store.cases_of_order(&order_id(&id)?).await? }))
}

pub async fn admin_reconciliation(State(oms): State<AppState>, Staff(_): Staff) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.reconcile().await?))
}

/// Change records the effects drain gave up on, oldest first.
pub async fn admin_parked_effects(State(oms): State<AppState>, Staff(_): Staff) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &serde_json::json!({ "items": oms.parked_effects().await? })))
}

/// An operator retries a parked record: the drain resumes it where it stopped.
pub async fn admin_retry_parked(
    State(oms): State<AppState>,
    Staff(_): Staff,
    Json(req, _): Json<oms_shared::app::parked::RetryParked>,
) -> Result<Response, Problem> {
    oms.retry_parked(&req).await?;
    let body = serde_json::json!({ "orderId": req.order_id, "entryId": req.entry_id, "status": "pending" });
    Ok(json(StatusCode::ACCEPTED, &body))
}

/// The order's after-delivery survey and its answer.
pub async fn admin_feedback(AgentOrder(o): AgentOrder) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &o.oms.feedback_of(&o.caller, &o.id).await?))
}
