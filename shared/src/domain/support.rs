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
    /// Disputes: when the provider needs our evidence by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_by: Option<DateTime<Utc>>,
    /// The conversation with the customer (inquiries and complaints): what they wrote, on the
    /// web or by mail, and the agents' replies, which are mailed to them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<CaseMessage>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who wrote a case message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageFrom {
    Customer,
    Agent,
}

/// How a case message came or went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageVia {
    Web,
    Mail,
}

/// One message of a case's conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseMessage {
    pub at: DateTime<Utc>,
    pub from: MessageFrom,
    /// The agent's id, or the customer's.
    pub by: String,
    pub body: String,
    pub via: MessageVia,
    /// A mailed message's `Message-ID`: the same mail delivered twice is kept once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// A case keeps at most this many messages (a longer conversation opens a new case).
pub const MAX_CASE_MESSAGES: usize = 50;

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

/// A customer's communication preferences: marketing mail, and which order messages also go
/// by SMS or push, and when not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    pub marketing_emails: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<super::messaging::SmsPreference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<super::messaging::PushPreference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<super::messaging::QuietHours>,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences { marketing_emails: true, sms: None, push: None, quiet_hours: None }
    }
}

impl Preferences {
    /// Checks every part; the refusal names the field.
    pub fn validate(&self) -> Result<(), super::messaging::Refusal> {
        if let Some(s) = &self.sms {
            s.validate()?;
        }
        if let Some(p) = &self.push {
            p.validate()?;
        }
        if let Some(q) = &self.quiet_hours {
            q.validate()?;
        }
        Ok(())
    }
}
