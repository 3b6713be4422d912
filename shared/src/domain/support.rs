//! Customer-service cases: complaints and payment disputes, linked to an order.

use super::ids::{CaseId, OrderId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    Complaint,
    Dispute,
    Inquiry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Escalated,
    Resolved,
}

impl CaseStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Escalated => "escalated",
            CaseStatus::Resolved => "resolved",
        }
    }

    /// open -> escalated -> resolved; open -> resolved. Resolved is final.
    pub fn can_move_to(&self, next: CaseStatus) -> bool {
        matches!(
            (self, next),
            (CaseStatus::Open, CaseStatus::Escalated)
                | (CaseStatus::Open | CaseStatus::Escalated, CaseStatus::Resolved)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub id: CaseId,
    pub order_id: OrderId,
    pub kind: CaseKind,
    pub status: CaseStatus,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// For disputes: the payment provider's dispute id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    pub opened_by: String,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_status_moves_forward_only() {
        assert!(CaseStatus::Open.can_move_to(CaseStatus::Escalated));
        assert!(CaseStatus::Escalated.can_move_to(CaseStatus::Resolved));
        assert!(!CaseStatus::Resolved.can_move_to(CaseStatus::Open));
        assert!(!CaseStatus::Escalated.can_move_to(CaseStatus::Open));
    }
}

/// A customer's communication preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    pub marketing_emails: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences { marketing_emails: true }
    }
}
