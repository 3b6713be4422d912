//! Promotions (supervisors), agents' price adjustments and their approvals.

use super::*;
use oms_shared::app::adjustments::{AdjustmentInput, ApprovalQuery, DecisionInput};
use oms_shared::app::promotions::PromotionInput;

pub async fn admin_list_promotions(State(oms): State<AppState>, Staff(c): Staff) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &serde_json::json!({ "items": oms.list_promotions(&c).await? })))
}

pub async fn admin_get_promotion(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.get_promotion(&c, &id).await?))
}

pub async fn admin_put_promotion(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(id): Path<String>,
    Json(req, _): Json<PromotionInput>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.put_promotion(&c, &id, req).await?))
}

pub async fn admin_adjust_order(
    AgentOrder(o): AgentOrder,
    Json(req, _): Json<AdjustmentInput>,
) -> Result<Response, Problem> {
    let (status, outcome) = o.oms.adjust_order(&o.caller, &o.id, req).await?;
    Ok(json(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), &outcome))
}

pub async fn admin_list_approvals(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Query(q): Query<ApprovalQuery>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &serde_json::json!({ "items": oms.list_approvals(&c, q).await? })))
}

pub async fn admin_approve(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(id): Path<String>,
    MaybeJson(body): MaybeJson<DecisionInput>,
) -> Result<Response, Problem> {
    let input = body.unwrap_or(DecisionInput { note: None });
    Ok(json(StatusCode::OK, &oms.decide_approval(&c, &id, true, input).await?))
}

pub async fn admin_reject(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(id): Path<String>,
    MaybeJson(body): MaybeJson<DecisionInput>,
) -> Result<Response, Problem> {
    let input = body.unwrap_or(DecisionInput { note: None });
    Ok(json(StatusCode::OK, &oms.decide_approval(&c, &id, false, input).await?))
}

pub async fn admin_loyalty_offers(AgentOrder(o): AgentOrder) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &o.oms.loyalty_offers(&o.caller, &o.id).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ApplyOfferInput {
    #[serde(default)]
    preview: bool,
}

/// Applies the loyalty programme's offer to the order (the offer is read from the programme).
pub async fn admin_apply_loyalty_offer(
    AgentOrder(o): AgentOrder,
    Path(p): Path<HashMap<String, String>>,
    MaybeJson(body): MaybeJson<ApplyOfferInput>,
) -> Result<Response, Problem> {
    let offer = p.get("offer_id").map(String::as_str).unwrap_or_default();
    if offer.is_empty() || offer.chars().count() > 100 {
        return Err(AppError::invalid_field("offerId", "1 to 100 characters").into());
    }
    let preview = body.unwrap_or_default().preview;
    Ok(json(StatusCode::OK, &o.oms.apply_loyalty_offer(&o.caller, &o.id, offer, preview).await?))
}
