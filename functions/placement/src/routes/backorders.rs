//! Backorders: a customer's request for an out-of-stock SKU taken on backorder, its place in the
//! line, its cancel; staff see a SKU's line and move it when stock came.

use super::*;
use oms_shared::app::backorders::BackorderInput;

fn backorder_id(p: &HashMap<String, String>) -> String {
    p.get("backorder_id").cloned().unwrap_or_default()
}

fn sku_of(p: &HashMap<String, String>) -> Result<Sku, Problem> {
    sku(p.get("sku").map(String::as_str).unwrap_or_default())
}

pub async fn request_backorder(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Json(req, _): Json<BackorderInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::CREATED, &oms.request_backorder(&c, req).await?))
}

pub async fn get_backorder(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.backorder(&c, &sku_of(&p)?, &backorder_id(&p)).await?))
}

pub async fn cancel_backorder(
    State(oms): State<AppState>,
    Auth(c): Auth,
    Path(p): Path<HashMap<String, String>>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.cancel_backorder(&c, &sku_of(&p)?, &backorder_id(&p)).await?))
}

pub async fn admin_backorders(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(s): Path<String>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.backorder_queue(&c, &sku(&s)?).await?))
}

pub async fn admin_allocate_backorders(
    State(oms): State<AppState>,
    Staff(_): Staff,
    Path(s): Path<String>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.allocate_backorders(&sku(&s)?).await?))
}
