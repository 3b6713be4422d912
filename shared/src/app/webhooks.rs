//! Carrier tracking webhooks (EasyPost scheme): the HMAC-SHA256 signature over the raw body is
//! verified before anything is parsed, against every active secret (two during a rotation),
//! in constant time. Events are deduplicated by the provider's id and enqueued.

use super::Oms;
use super::tracking::{TrackingUpdate, map_status};
use crate::domain::{OrderChange, ShipmentStatus, Write};
use crate::ports::Queue;
use crate::ports::Tracked;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::sync::Arc;
use subtle::ConstantTimeEq;

pub const SIGNATURE_HEADER: &str = "x-hmac-signature";
const PREFIX: &str = "hmac-sha256-hex=";
/// Longer than any carrier's retry window (EasyPost retries for days).
pub const DEDUPE_TTL_DAYS: i64 = 30;

fn mac(secret: &str, body: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("hmac takes any key length"));
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// The header value a carrier sends for `body` signed with `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    format!("{PREFIX}{}", mac(secret, body).iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// True when `header` is a valid signature of `body` under any of `secrets`.
pub fn verify(header: Option<&str>, body: &[u8], secrets: &[String]) -> bool {
    let Some(given) = header.and_then(|h| h.trim().strip_prefix(PREFIX)).and_then(|h| unhex(&h.to_ascii_lowercase()))
    else {
        return false;
    };
    // Check every secret (no early exit) so timing does not tell which one matched.
    secrets.iter().filter(|s| !s.is_empty()).fold(false, |ok, s| ok | bool::from(mac(s, body).ct_eq(&given)))
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    description: String,
    result: Tracker,
    #[serde(default)]
    created_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Deserialize)]
struct Tracker {
    tracking_code: String,
    status: String,
    #[serde(default)]
    est_delivery_date: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    Enqueued,
    Replay,
    Ignored,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("missing or invalid signature")]
    Unauthorized,
    #[error("malformed event: {0}")]
    Malformed(String),
    #[error("unknown carrier")]
    UnknownCarrier,
    #[error("unknown tracking number")]
    UnknownTracking,
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

#[derive(Clone)]
pub struct Webhooks {
    pub oms: Oms,
    pub queue: Arc<dyn Queue>,
    /// The secrets of every carrier that has none of its own.
    pub secrets: Vec<String>,
    pub carriers: Vec<String>,
    /// A carrier's own secrets (its webhook route verifies with these only).
    pub carrier_secrets: Vec<(String, Vec<String>)>,
}

impl Webhooks {
    /// Marks a parcel as with the carrier as soon as its first scan is accepted, before the
    /// scan is applied: a cancel or an edit racing the scan is refused from here on (its own
    /// write conditions on the shipment's version). A shipment cancelled first keeps its state:
    /// the cancel won, and the consumer records the scan as an exception.
    async fn hand_over(&self, mut sh: crate::domain::Shipment) -> Result<(), WebhookError> {
        let unavailable = |e: crate::ports::StoreError| WebhookError::Unavailable(e.to_string());
        for _ in 0..5 {
            if sh.is_handed_over() || sh.status == ShipmentStatus::Cancelled {
                return Ok(());
            }
            let now = self.oms.clock.now();
            let mut next = sh.clone();
            next.handed_over_at = Some(now);
            next.version = sh.version + 1;
            let mut change = OrderChange::for_order(&sh.order_id);
            change.shipments.push(Write::Update { value: next, expected_version: sh.version });
            match self.oms.store.commit(&change).await {
                Ok(()) => return Ok(()),
                Err(crate::ports::StoreError::StaleVersion) => {
                    sh = self
                        .oms
                        .store
                        .get_shipment(&sh.order_id, &sh.id)
                        .await
                        .map_err(unavailable)?
                        .ok_or(WebhookError::UnknownTracking)?;
                }
                Err(e) => return Err(unavailable(e)),
            }
        }
        Err(WebhookError::Unavailable("the shipment kept changing".into()))
    }

    pub async fn receive(&self, carrier: &str, signature: Option<&str>, body: &[u8]) -> Result<Received, WebhookError> {
        if !self.carriers.iter().any(|c| c == carrier) {
            return Err(WebhookError::UnknownCarrier);
        }
        let secrets = self.carrier_secrets.iter().find(|(c, _)| c == carrier).map_or(&self.secrets, |(_, s)| s);
        if !verify(signature, body, secrets) {
            return Err(WebhookError::Unauthorized);
        }
        let ev: Event = serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        if !ev.description.starts_with("tracker.") || map_status(&ev.result.status).is_none() {
            return Ok(Received::Ignored);
        }
        if ev.id.is_empty()
            || ev.id.len() > 200
            || ev.result.tracking_code.is_empty()
            || ev.result.tracking_code.len() > 100
        {
            return Err(WebhookError::Malformed("id and tracking_code are required".into()));
        }
        let unavailable = |e: crate::ports::StoreError| WebhookError::Unavailable(e.to_string());
        let store = &self.oms.store;
        let Some(found) = store.tracked(carrier, &ev.result.tracking_code).await.map_err(unavailable)? else {
            return Err(WebhookError::UnknownTracking);
        };
        if let (Tracked::Shipment(sh), Some(status)) = (found, map_status(&ev.result.status))
            && status.rank() >= ShipmentStatus::InTransit.rank()
        {
            self.hand_over(sh).await?;
        }
        let update = TrackingUpdate {
            carrier: carrier.to_owned(),
            event_id: ev.id.clone(),
            tracking_number: ev.result.tracking_code,
            status: ev.result.status,
            est_delivery_date: ev
                .result
                .est_delivery_date
                .as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d").ok()),
            occurred_at: ev.created_at.unwrap_or_else(chrono::Utc::now),
        };
        let body = serde_json::to_string(&update).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        // No record of received ids: the consumer's write is the dedupe (a repeat finds the
        // shipment with the event applied and nothing newer), so a carrier retry costs a
        // queued message, not a table write per event.
        self.queue.send(&body).await.map_err(WebhookError::Unavailable)?;
        Ok(Received::Enqueued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_under_either_active_secret_and_nothing_else() {
        let body = br#"{"id":"evt_1"}"#;
        let secrets = vec!["old".to_owned(), "new".to_owned()];
        assert!(verify(Some(&sign("old", body)), body, &secrets));
        assert!(verify(Some(&sign("new", body)), body, &secrets));
        assert!(!verify(Some(&sign("other", body)), body, &secrets));
        assert!(!verify(Some(&sign("new", body)), b"{\"id\":\"evt_2\"}", &secrets));
        assert!(!verify(None, body, &secrets));
        assert!(!verify(Some("hmac-sha256-hex=zz"), body, &secrets));
        assert!(!verify(Some(&sign("new", body).replace("hmac-sha256-hex=", "")), body, &secrets));
        assert!(!verify(Some(&sign("", body)), body, &["".to_owned()]), "an empty secret never verifies");
    }
}
