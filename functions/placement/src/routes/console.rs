//! Console routes: customers, stock and catalog reads, work queues, confirmation calls, refund
//! previews, and the customer conversation on cases.

use super::*;
use oms_shared::app::confirmations::ConfirmRequest;
use oms_shared::app::conversations::{InquiryRequest, ReplyRequest};
use oms_shared::app::support::GoodwillRequest;
use oms_shared::domain::CaseId;
use oms_shared::domain::confirmation::ConfirmationRule;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    q: Option<String>,
}

pub async fn admin_search_customers(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Query(q): Query<SearchQuery>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.search_customers(&c, q.q.as_deref()).await?))
}

pub async fn admin_customer(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    // An id no identity provider issues names no customer.
    let id = oms_shared::domain::CustomerId::parse(&id).map_err(|_| Problem::from(AppError::NotFound))?;
    Ok(json(StatusCode::OK, &oms.customer_window(&c, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockQuery {
    sku: Option<String>,
}

pub async fn admin_stock(
    State(oms): State<AppState>,
    Staff(_): Staff,
    Query(q): Query<StockQuery>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.stock_view(q.sku.as_deref()).await?))
}

pub async fn admin_products(State(oms): State<AppState>, Staff(_): Staff) -> Result<Response, Problem> {
    #[derive(Serialize)]
    struct Products<T> {
        products: T,
    }
    Ok(json(StatusCode::OK, &Products { products: oms.store.list_products().await.map_err(AppError::from)? }))
}

pub async fn admin_locations(State(oms): State<AppState>, Staff(_): Staff) -> Result<Response, Problem> {
    #[derive(Serialize)]
    struct Locations<T> {
        locations: T,
    }
    Ok(json(StatusCode::OK, &Locations { locations: oms.store.list_locations().await.map_err(AppError::from)? }))
}

pub async fn admin_queue(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(name): Path<String>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.queue(&c, &name).await?))
}

pub async fn admin_confirm(
    AgentOrder(o): AgentOrder,
    MaybeJson(body): MaybeJson<ConfirmRequest>,
) -> Result<Response, Problem> {
    let p = o.oms.confirm_order(&o.caller, &o.id, body.unwrap_or_default()).await?;
    let v = p.version();
    Ok(with_etag(json(StatusCode::OK, &p), v))
}

pub async fn get_confirmation_rule(State(oms): State<AppState>, Staff(_): Staff) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.confirmation_rule().await?))
}

pub async fn put_confirmation_rule(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Json(req, _): Json<ConfirmationRule>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.set_confirmation_rule(&c, req).await?))
}

pub async fn get_rules(State(oms): State<AppState>, Staff(_): Staff) -> Result<Response, Problem> {
    let r = oms.rules().await?;
    let v = u64::from(r.version);
    Ok(with_etag(json(StatusCode::OK, &r), v))
}

/// A new version of the rules, from the version the caller read (`If-Match`, required).
pub async fn put_rules(
    State(oms): State<AppState>,
    Staff(c): Staff,
    headers: HeaderMap,
    Json(req, _): Json<serde_json::Value>,
) -> Result<Response, Problem> {
    oms_shared::domain::rules::RuleSet::sections_of(&req).map_err(AppError::invalid)?;
    // Parsed as every body is: a refused value names its path (`fraud.highValue`).
    let set: oms_shared::domain::rules::RuleSet = crate::strict::typed(req).map_err(Problem::from)?;
    let expected = if_match(&headers)?.ok_or(AppError::VersionRequired)?;
    let expected = u32::try_from(expected).map_err(|_| AppError::StaleVersion)?;
    let r = oms.set_rules(&c, expected, set).await?;
    let v = u64::from(r.version);
    Ok(with_etag(json(StatusCode::OK, &r), v))
}

pub async fn rules_history(State(oms): State<AppState>, Staff(_): Staff) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &serde_json::json!({ "versions": oms.rules_history().await? })))
}

pub async fn rules_version(
    State(oms): State<AppState>,
    Staff(_): Staff,
    Path(version): Path<String>,
) -> Result<Response, Problem> {
    // Digits only (a version number), so anything else is a clear 404, never a parse quirk.
    let v = version
        .parse::<u32>()
        .ok()
        .filter(|_| version.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(AppError::NotFound)?;
    let r = oms.rules_at(v).await?;
    Ok(with_etag(json(StatusCode::OK, &r), u64::from(v)))
}

pub async fn admin_refund_preview(
    AgentOrder(o): AgentOrder,
    Json(req, _): Json<GoodwillRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &o.oms.refund_preview(&o.caller, &o.id, req).await?))
}

fn case_id(s: &str) -> Result<CaseId, Problem> {
    CaseId::parse(s).map_err(|_| Problem::bad_request("caseId is not a valid case id").with("field", "caseId".into()))
}

pub async fn admin_get_case(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.case_for_agent(&c, &case_id(&id)?).await?))
}

pub async fn admin_reply(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(id): Path<String>,
    Json(req, _): Json<ReplyRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.reply_to_case(&c, &case_id(&id)?, req).await?))
}

pub async fn open_inquiry(o: OrderOf, Json(req, _): Json<InquiryRequest>) -> Result<Response, Problem> {
    Ok(json(StatusCode::CREATED, &o.oms.open_inquiry(&o.caller, &o.id, req).await?))
}
