//! Services: technicians' capacity (supervisors, the field-service system), the slots a service
//! offers (storefronts, no sign-in), visits on an order and warranty claims.

use super::*;
use oms_shared::app::services::{CapacityInput, SlotsQuery};
use oms_shared::app::visits::{BookVisitInput, RepeatVisitInput, RescheduleInput, VisitProgressInput};
use oms_shared::app::warranty::WarrantyClaimInput;
use oms_shared::domain::service::Visit;

fn visit_id(params: &HashMap<String, String>) -> String {
    params.get("visit_id").cloned().unwrap_or_default()
}

/// A visit as the caller may see it: staff read the reasons and technicians' notes.
fn visit_for(caller: &oms_shared::app::Caller, v: &Visit) -> Visit {
    if caller.is_staff() { v.clone() } else { v.public() }
}

pub async fn service_slots(
    State(oms): State<AppState>,
    Path(s): Path<String>,
    Query(q): Query<SlotsQuery>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.service_slots(&sku(&s)?, q).await?))
}

pub async fn admin_get_capacity(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path((region, date)): Path<(String, String)>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.capacity_day(&c, &region, &date).await?))
}

pub async fn admin_put_capacity(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path((region, date)): Path<(String, String)>,
    Json(req, _): Json<CapacityInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.put_capacity_day(&c, &region, &date, req).await?))
}

pub async fn book_visit(o: OrderOf, Json(req, _): Json<BookVisitInput>) -> Result<Response, Problem> {
    let v = o.oms.book_visit(&o.caller, &o.id, req).await?;
    Ok(json(StatusCode::CREATED, &visit_for(&o.caller, &v)))
}

pub async fn reschedule_visit(
    o: OrderOf,
    Path(p): Path<HashMap<String, String>>,
    Json(req, _): Json<RescheduleInput>,
) -> Result<Response, Problem> {
    let v = o.oms.reschedule_visit(&o.caller, &o.id, &visit_id(&p), req).await?;
    Ok(json(StatusCode::OK, &visit_for(&o.caller, &v)))
}

pub async fn cancel_visit(o: OrderOf, Path(p): Path<HashMap<String, String>>) -> Result<Response, Problem> {
    let v = o.oms.cancel_visit(&o.caller, &o.id, &visit_id(&p)).await?;
    Ok(json(StatusCode::OK, &visit_for(&o.caller, &v)))
}

pub async fn admin_visit_status(
    AgentOrder(o): AgentOrder,
    Path(p): Path<HashMap<String, String>>,
    Json(req, _): Json<VisitProgressInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &o.oms.visit_progress(&o.caller, &o.id, &visit_id(&p), req).await?))
}

pub async fn admin_repeat_visit(
    AgentOrder(o): AgentOrder,
    Path(p): Path<HashMap<String, String>>,
    Json(req, _): Json<RepeatVisitInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::CREATED, &o.oms.repeat_visit(&o.caller, &o.id, &visit_id(&p), req).await?))
}

pub async fn claim_warranty(
    o: OrderOf,
    headers: HeaderMap,
    Json(req, _): Json<WarrantyClaimInput>,
) -> Result<Response, Problem> {
    let key = headers.get("idempotency-key").map(|v| v.to_str().unwrap_or("").trim());
    if key.is_some_and(|k| k.is_empty() || k.len() > 255 || !k.bytes().all(|b| b.is_ascii_graphic())) {
        return Err(Problem::bad_request("Idempotency-Key must be 1-255 visible ASCII characters")
            .with("field", "Idempotency-Key".into()));
    }
    let mut outcome = o.oms.claim_warranty(&o.caller, &o.id, req, key).await?;
    if !o.caller.is_staff() {
        outcome.claim = outcome.claim.public();
        outcome.visit = outcome.visit.as_ref().map(Visit::public);
    }
    Ok(json(StatusCode::CREATED, &outcome))
}
