//! Store pickup: the hold on a pickup order waiting at the store.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A pickup order at the store: the code the customer shows at the counter (only the
/// customer's projection and mail carry it), when the goods were ready and until when the store
/// keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupHold {
    pub code: String,
    pub ready_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The reminder before expiry went out (recorded by the write that sent it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reminded: bool,
}

impl PickupHold {
    /// A new six-digit code (random), kept `days` days from `now`.
    pub fn new(now: DateTime<Utc>, days: i64) -> Self {
        let n = ulid::Ulid::new().random() % 1_000_000;
        PickupHold {
            code: format!("{n:06}"),
            ready_at: now,
            expires_at: now + chrono::Duration::days(days),
            reminded: false,
        }
    }

    /// Whether `code` is this hold's code (compared in constant time).
    pub fn accepts(&self, code: &str) -> bool {
        let (a, b) = (self.code.as_bytes(), code.trim().as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_has_six_digits_keeps_its_days_and_accepts_only_its_code() {
        let now: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let h = PickupHold::new(now, 7);
        assert!(h.code.len() == 6 && h.code.bytes().all(|b| b.is_ascii_digit()), "{}", h.code);
        assert_eq!(h.expires_at, now + chrono::Duration::days(7));
        assert!(h.accepts(&h.code) && h.accepts(&format!(" {} ", h.code)));
        let wrong = if h.code == "123456" { "654321" } else { "123456" };
        assert!(!h.accepts(wrong) && !h.accepts("") && !h.accepts(&format!("{}0", h.code)));
    }
}
