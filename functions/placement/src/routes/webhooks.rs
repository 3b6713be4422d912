//! Webhook subscriptions (`/v1/admin/webhook-subscriptions`): any subscriber's endpoint gets
//! the integration events it asks for, signed per Standard Webhooks.

use super::*;
use oms_shared::app::webhook_subscriptions::SubscriptionRequest;

/// The `{subscription_id}` path segment; one that is not UTF-8 is a 400 problem naming it.
pub struct SubId(String);

impl FromRequestParts<Oms> for SubId {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, oms: &Oms) -> Result<Self, Problem> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, oms).await.map_err(|_| {
            Problem::bad_request("subscriptionId is not a valid subscription id").with("field", "subscriptionId".into())
        })?;
        Ok(SubId(params.get("subscription_id").cloned().unwrap_or_default()))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    since: Option<String>,
    limit: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayBody {
    since: String,
}

pub async fn create_webhook_subscription(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Json(req, _): Json<SubscriptionRequest>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::CREATED, &oms.create_webhook_subscription(&c, req).await?))
}

pub async fn list_webhook_subscriptions(State(oms): State<AppState>, Staff(c): Staff) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &serde_json::json!({ "subscriptions": oms.webhook_subscriptions(&c).await? })))
}

pub async fn get_webhook_subscription(
    State(oms): State<AppState>,
    Staff(c): Staff,
    SubId(id): SubId,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.webhook_subscription(&c, &id).await?))
}

pub async fn delete_webhook_subscription(
    State(oms): State<AppState>,
    Staff(c): Staff,
    SubId(id): SubId,
) -> Result<Response, Problem> {
    oms.delete_webhook_subscription(&c, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn rotate_webhook_secret(
    State(oms): State<AppState>,
    Staff(c): Staff,
    SubId(id): SubId,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.rotate_webhook_secret(&c, &id).await?))
}

pub async fn enable_webhook_subscription(
    State(oms): State<AppState>,
    Staff(c): Staff,
    SubId(id): SubId,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.enable_webhook_subscription(&c, &id).await?))
}

pub async fn webhook_deliveries(
    State(oms): State<AppState>,
    Staff(c): Staff,
    SubId(id): SubId,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Response, Problem> {
    let d = oms.webhook_deliveries(&c, &id, q.since.as_deref(), q.limit.as_deref()).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "deliveries": d })))
}

pub async fn replay_webhooks(
    State(oms): State<AppState>,
    Staff(c): Staff,
    SubId(id): SubId,
    Json(req, _): Json<ReplayBody>,
) -> Result<Response, Problem> {
    let since = oms.replay_webhooks(&c, &id, &req.since).await?;
    Ok(json(StatusCode::ACCEPTED, &serde_json::json!({ "subscriptionId": id, "since": since })))
}
