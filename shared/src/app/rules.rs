//! Rules as data (`domain::rules`): read, saved as a new version on condition nobody saved
//! since the version the operator read (`If-Match`), and the version an order recorded.

use super::{AppError, Caller, Oms, Permission};
use crate::domain::rules::{RuleSet, Rules};
use crate::ports::StoreError;

/// How many versions the history returns.
pub const HISTORY: usize = 50;

impl Oms {
    pub async fn rules(&self) -> Result<Rules, AppError> {
        Ok(self.store.current_rules().await?)
    }

    pub async fn rules_at(&self, version: u32) -> Result<Rules, AppError> {
        self.store.rules_version(version).await?.ok_or(AppError::NotFound)
    }

    /// The newest versions first.
    pub async fn rules_history(&self) -> Result<Vec<Rules>, AppError> {
        Ok(self.store.rules_history(HISTORY).await?)
    }

    /// Saves `set` as the version after `expected` (the one the caller read): 412 when another
    /// save came first. Supervisors only.
    #[tracing::instrument(skip_all, fields(expected))]
    pub async fn set_rules(&self, c: &Caller, expected: u32, set: RuleSet) -> Result<Rules, AppError> {
        if !c.may(Permission::RefundOverLimit) {
            return Err(AppError::Forbidden);
        }
        let invalid = |field: &'static str, detail: String| AppError::UnprocessableField {
            kind: "invalid-rules",
            detail: if detail.starts_with(field) { detail } else { format!("{field}: {detail}") },
            field,
        };
        // Checked as sent (a list over its limit is refused, not shortened by the dedupe), then
        // again as stored.
        set.check().map_err(|(field, why)| invalid(field, why))?;
        let set = set.normalized();
        set.check().map_err(|(field, why)| invalid(field, why))?;
        // Preferences name locations the shop has (a typo would silently prefer nothing).
        if !set.sourcing.is_empty() {
            let known: Vec<_> = self.store.list_locations().await?.into_iter().map(|l| l.id).collect();
            if let Some(id) = set.sourcing.keys().find(|id| !known.contains(id)) {
                return Err(invalid("sourcing", format!("sourcing.{id}: no such location")));
            }
        }
        let current = self.store.current_rules().await?;
        if current.version != expected {
            return Err(AppError::StaleVersion);
        }
        let next = current.next(set, c.customer.as_str(), self.clock.now());
        match self.store.put_rules(&next).await {
            Ok(()) => {
                tracing::info!(version = next.version, "rules saved");
                Ok(next)
            }
            Err(StoreError::StaleVersion) => Err(AppError::StaleVersion),
            Err(e) => Err(e.into()),
        }
    }
}
