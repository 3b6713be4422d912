//! Store pickup: the options a quote offers (stores nearby holding everything, promised by
//! their opening hours) and the hold on a pickup order waiting at the store.

use super::ids::Sku;
use super::money::{Currency, Money};
use super::order::ServiceLevel;
use super::sourcing::{Candidate, DeliveryOption, Fulfillment, PICKUP_RADIUS_KM, add_business_days};
use chrono::{DateTime, Duration, Utc};
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

/// Pickup options: stores offering pickup, within reach, holding every item, open in the next
/// two weeks. A store with opening hours promises the day (its local date) the order is ready
/// after its preparation time; one without promises the next business day.
pub fn pickup_options(
    demand: &[(Sku, u32)],
    candidates: &[Candidate],
    currency: Currency,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<DeliveryOption> {
    let today = now.date_naive();
    let mut stores: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.location.active && c.location.pickup)
        .filter(|c| c.distance_km.is_some_and(|d| d <= PICKUP_RADIUS_KM))
        .filter(|c| demand.iter().all(|(s, q)| c.has(s) >= i64::from(*q)))
        .collect();
    stores.sort_by_key(|c| c.rank_distance());
    stores
        .into_iter()
        .filter_map(|c| {
            let (promised_by, ready_by) = match &c.location.opening_hours {
                Some(h) => {
                    let ready = h.ready_at(now, c.location.pickup_lead_minutes)?;
                    let local = ready + Duration::minutes(i64::from(h.utc_offset_minutes));
                    (local.date_naive(), Some(ready))
                }
                None => (add_business_days(today, 1), None),
            };
            Some(DeliveryOption {
                id: format!("pickup-{}", c.location.id),
                service_level: ServiceLevel::Pickup,
                fulfillment: Fulfillment::Pickup,
                cost: Money::zero(currency),
                promised_by,
                locations: vec![c.location.id.clone()],
                split: false,
                ready_by,
            })
        })
        .collect()
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
