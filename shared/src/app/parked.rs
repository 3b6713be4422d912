//! Parked effects: deferred change records the drain gave up on (after its attempts, an effect
//! that failed for good, or past the providers' idempotency window). An operator lists them
//! (`GET /v1/admin/effects/parked`) and, once the cause is fixed, retries one
//! (`POST /v1/admin/effects/parked/retry`): it goes back on the pending list, due now, and the
//! drain resumes it where it stopped (decision 11).

use super::{AppError, Oms};
use crate::domain::{OrderId, OutboxEntry};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many parked records one listing shows (oldest first).
pub const PARKED_PAGE: usize = 200;

/// One parked record, as an operator sees it: what is left of it, no provider details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkedEffects {
    pub order_id: OrderId,
    pub entry_id: String,
    pub created_at: DateTime<Utc>,
    /// The kinds of the effects not run yet, in order (`notify`, `refund`, ...).
    pub effects_left: Vec<String>,
    /// The integration event types not published yet.
    pub events_left: Vec<String>,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redriven_at: Option<DateTime<Utc>>,
}

impl ParkedEffects {
    fn of(e: &OutboxEntry) -> Self {
        let d = e.left();
        let kind = |x: &crate::domain::Effect| {
            serde_json::to_value(x).ok().and_then(|v| v["type"].as_str().map(str::to_owned)).unwrap_or_default()
        };
        ParkedEffects {
            order_id: e.order_id.clone(),
            entry_id: e.id.clone(),
            created_at: e.created_at,
            effects_left: e.effects.iter().skip(d.effects_from).map(kind).collect(),
            events_left: if d.events { e.events.clone() } else { Vec::new() },
            attempts: d.attempts,
            redriven_at: d.redriven_at,
        }
    }
}

/// Which parked record to retry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryParked {
    pub order_id: String,
    pub entry_id: String,
}

/// A change record's id as the table keys it: `<instant>#<ULID>`, or a ULID (before records).
fn valid_entry_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || "#:.-".contains(c))
}

impl Oms {
    /// The parked records, oldest first (at most `PARKED_PAGE`).
    #[tracing::instrument(skip_all)]
    pub async fn parked_effects(&self) -> Result<Vec<ParkedEffects>, AppError> {
        Ok(self.store.parked_effects(PARKED_PAGE).await?.iter().map(ParkedEffects::of).collect())
    }

    /// Puts a parked record back on the pending list, due now, with a new retry window;
    /// `NotFound` when no such record is parked.
    #[tracing::instrument(skip_all)]
    pub async fn retry_parked(&self, r: &RetryParked) -> Result<(), AppError> {
        let order = OrderId::parse(&r.order_id).map_err(|_| AppError::invalid_field("orderId", "not an order id"))?;
        if !valid_entry_id(&r.entry_id) {
            return Err(AppError::invalid_field("entryId", "not a change record id"));
        }
        self.store.redrive_effects(&order, &r.entry_id, self.clock.now()).await?;
        tracing::info!(order_id = %order, outbox_id = %r.entry_id, "parked effects retried");
        Ok(())
    }
}
