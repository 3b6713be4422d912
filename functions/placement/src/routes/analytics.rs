//! Order analytics (`/v1/admin/analytics/...`): figures of a range, time series, a customer's
//! lifetime figures, and rebuilds. Supervisors and finance.

use super::*;
use oms_shared::app::analytics::{Analytics, RangeQuery};

fn analytics(oms: &Oms) -> Analytics {
    Analytics { store: oms.store.clone(), clock: oms.clock.clone() }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    from: Option<String>,
    to: Option<String>,
    channel: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    metric: Option<String>,
    interval: Option<String>,
    from: Option<String>,
    to: Option<String>,
    channel: Option<String>,
    currency: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RebuildBody {
    from: String,
    to: String,
    #[serde(default)]
    reset: bool,
}

pub async fn analytics_summary(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Query(q): Query<SummaryQuery>,
) -> Result<Response, Problem> {
    let range = RangeQuery { from: q.from, to: q.to, channel: q.channel };
    Ok(json(StatusCode::OK, &analytics(&oms).summary(&c, &range).await?))
}

pub async fn analytics_timeseries(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Query(q): Query<SeriesQuery>,
) -> Result<Response, Problem> {
    let metric = q.metric.ok_or_else(|| Problem::from(AppError::invalid_field("metric", "is required")))?;
    let range = RangeQuery { from: q.from, to: q.to, channel: q.channel };
    let interval = q.interval.as_deref().unwrap_or("day");
    let s = analytics(&oms).timeseries(&c, &range, &metric, interval, q.currency.as_deref()).await?;
    Ok(json(StatusCode::OK, &s))
}

pub async fn analytics_customer(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = oms_shared::domain::CustomerId::parse(&id).map_err(|_| Problem::from(AppError::NotFound))?;
    Ok(json(StatusCode::OK, &analytics(&oms).customer(&c, &id).await?))
}

pub async fn analytics_rebuild(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Json(req, _): Json<RebuildBody>,
) -> Result<Response, Problem> {
    let range = RangeQuery { from: Some(req.from.clone()), to: Some(req.to.clone()), channel: None };
    let n = analytics(&oms).rebuild(&c, &range, req.reset).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({"from": req.from, "to": req.to, "reset": req.reset, "orders": n})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsatQuery {
    from: Option<String>,
    to: Option<String>,
}

/// Customer satisfaction of the surveys answered from `from` to `to` (dates, inclusive; both
/// required), checked as every analytics range is.
pub async fn analytics_csat(
    State(oms): State<AppState>,
    Staff(c): Staff,
    Query(q): Query<CsatQuery>,
) -> Result<Response, Problem> {
    for (field, v) in [("from", &q.from), ("to", &q.to)] {
        if v.is_none() {
            return Err(AppError::invalid_field(field, "is required (YYYY-MM-DD)").into());
        }
    }
    let range = RangeQuery { from: q.from, to: q.to, channel: None };
    Ok(json(StatusCode::OK, &analytics(&oms).csat(&c, &range).await?))
}
