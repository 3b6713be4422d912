//! Business accounts (supervisors and finance): credit limit, buyers, payment terms, and the
//! payments the company makes against its invoices.

use super::*;
use oms_shared::app::orders::{CompanyInput, CompanyPaymentInput};

pub async fn admin_get_company(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &company_view(oms.get_company(&c, &id).await?)))
}

pub async fn admin_put_company(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(id): Path<String>,
    Json(req, _): Json<CompanyInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &company_view(oms.put_company(&c, &id, req).await?)))
}

pub async fn admin_company_payment(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(id): Path<String>,
    Json(req, _): Json<CompanyPaymentInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &company_view(oms.record_company_payment(&c, &id, req).await?)))
}

/// The account with what is left to draw.
fn company_view(c: oms_shared::domain::company::Company) -> serde_json::Value {
    let available = c.available();
    let mut v = serde_json::to_value(&c).unwrap_or_default();
    v["available"] = serde_json::to_value(available).unwrap_or_default();
    v
}
