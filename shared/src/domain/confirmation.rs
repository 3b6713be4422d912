//! Confirmation calls: which orders an agent calls the customer about before fulfillment starts
//! (a rule on value, first order, services), and what happens when nobody confirms in time.

use super::catalog::ProductKind;
use super::money::Money;
use super::order::Order;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The call an order waits for: why, by when, and what happens if nobody calls (fixed when the
/// rule asked for it: a later change of the rule applies to later orders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmationCall {
    pub reason: String,
    pub confirm_by: DateTime<Utc>,
    pub on_timeout: OnTimeout,
    /// When an agent confirmed it (or the wait ran out and it was released): a later edit
    /// does not ask again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// The largest `minTotal` (the contract's money maximum).
pub const MAX_MIN_TOTAL: i64 = 1_000_000_000_000;

/// What an unconfirmed order does when the wait runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnTimeout {
    /// Fulfillment starts as if confirmed.
    #[default]
    Release,
    /// The order is cancelled and its stock released.
    Cancel,
}

/// The rule (one per shop; off until configured).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmationRule {
    pub enabled: bool,
    /// Orders of at least this total (in its currency) are called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_total: Option<Money>,
    /// A customer's first order is called.
    #[serde(default)]
    pub first_order: bool,
    /// Orders with a service line (installation) are called.
    #[serde(default)]
    pub with_services: bool,
    /// How long an order waits for the call, 5 minutes to 7 days.
    pub timeout_minutes: u32,
    #[serde(default)]
    pub on_timeout: OnTimeout,
}

impl Default for ConfirmationRule {
    fn default() -> Self {
        ConfirmationRule {
            enabled: false,
            min_total: None,
            first_order: false,
            with_services: false,
            timeout_minutes: 24 * 60,
            on_timeout: OnTimeout::Release,
        }
    }
}

impl ConfirmationRule {
    pub const MIN_TIMEOUT: u32 = 5;
    pub const MAX_TIMEOUT: u32 = 7 * 24 * 60;

    /// `Err(field, why)` for a rule that cannot be kept.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !(Self::MIN_TIMEOUT..=Self::MAX_TIMEOUT).contains(&self.timeout_minutes) {
            return Err(("timeoutMinutes", format!("between {} and {} minutes", Self::MIN_TIMEOUT, Self::MAX_TIMEOUT)));
        }
        if self.min_total.is_some_and(|m| m.amount() <= 0 || m.amount() > MAX_MIN_TOTAL) {
            return Err(("minTotal", format!("a positive amount of at most {MAX_MIN_TOTAL} minor units")));
        }
        Ok(())
    }

    /// The call this order needs, if the rule asks for one (`first`: the customer's first order).
    pub fn call_for(&self, o: &Order, first: bool, now: DateTime<Utc>) -> Option<ConfirmationCall> {
        self.reason(o, first).map(|reason| ConfirmationCall {
            reason,
            confirm_by: now + Duration::minutes(i64::from(self.timeout_minutes)),
            on_timeout: self.on_timeout,
            confirmed_at: None,
        })
    }

    /// Whether the rule asks for a call on this order, and why (`first` says whether it is the
    /// customer's first order; only read when the rule asks).
    pub fn reason(&self, o: &Order, first: bool) -> Option<String> {
        if !self.enabled {
            return None;
        }
        if let Some(min) = self.min_total
            && min.currency() == o.totals.total.currency()
            && o.totals.total.amount() >= min.amount()
        {
            return Some(format!("order total {} at or above {}", o.totals.total, min));
        }
        if self.with_services && o.lines.iter().any(|l| l.kind == ProductKind::Service) {
            return Some("the order includes a service".into());
        }
        if self.first_order && first {
            return Some("the customer's first order".into());
        }
        None
    }
}
