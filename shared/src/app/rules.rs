//! Rules as data (`domain::rules`): read, saved as a new version on condition nobody saved
//! since the version the operator read (`If-Match`), and the version an order recorded.

use super::{AppError, Caller, Oms, Permission};
use crate::domain::Order;
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

    /// The rules that decided `order`: the version it recorded (today's for an order placed
    /// before rules were versioned, or whose version cannot be read).
    pub async fn rules_of(&self, order: &Order) -> Result<Rules, AppError> {
        if let Some(v) = order.rules_version
            && let Some(r) = self.store.rules_version(v).await?
        {
            return Ok(r);
        }
        Ok(self.store.current_rules().await?)
    }

    /// Saves `set` as the version after `expected` (the one the caller read): 412 when another
    /// save came first. Supervisors only.
    #[tracing::instrument(skip_all, fields(expected))]
    pub async fn set_rules(&self, c: &Caller, expected: u32, set: RuleSet) -> Result<Rules, AppError> {
        if !c.may(Permission::RefundOverLimit) {
            return Err(AppError::Forbidden);
        }
        set.check().map_err(|(field, why)| AppError::UnprocessableField {
            kind: "invalid-rules",
            detail: format!("{field}: {why}"),
            field: "rules",
        })?;
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
