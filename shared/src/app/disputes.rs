//! Payment disputes from the payment provider's webhook (Stripe scheme:
//! `Stripe-Signature: t=<unix>,v1=<hex>` over `"{t}.{body}"`, 5-minute tolerance). A dispute
//! opened opens a case on the order; a dispute closed resolves it.

use super::support::OpenCaseRequest;
use super::webhooks::{Received, WebhookError};
use super::{Caller, Oms};
use crate::domain::support::{CaseKind, CaseStatus};
use crate::domain::{CaseId, CustomerId, OrderId};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const SIGNATURE_HEADER: &str = "stripe-signature";
pub const TOLERANCE_SECS: i64 = 300;

fn hex_mac(secret: &str, payload: &[u8]) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("hmac takes any key length"));
    m.update(payload);
    m.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The header a provider sends for `body` at time `t`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut payload = format!("{t}.").into_bytes();
    payload.extend_from_slice(body);
    format!("t={t},v1={}", hex_mac(secret, &payload))
}

/// True when some `v1` signature matches under some secret and `t` is within the tolerance.
pub fn verify(header: Option<&str>, body: &[u8], secrets: &[String], now: i64) -> bool {
    let Some(h) = header else { return false };
    let mut t: Option<i64> = None;
    let mut sigs = Vec::new();
    for part in h.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse().ok(),
            Some(("v1", v)) => sigs.push(v.to_ascii_lowercase()),
            _ => {}
        }
    }
    let Some(t) = t.filter(|t| (now - t).abs() <= TOLERANCE_SECS) else { return false };
    let mut payload = format!("{t}.").into_bytes();
    payload.extend_from_slice(body);
    let mut ok = false;
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let expected = hex_mac(secret, &payload);
        for s in &sigs {
            ok |= bool::from(expected.as_bytes().ct_eq(s.as_bytes()));
        }
    }
    ok
}

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: Dispute,
}

#[derive(Deserialize)]
struct Dispute {
    id: String,
    payment_intent: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    amount: Option<i64>,
    #[serde(default)]
    evidence_details: Option<EvidenceDetails>,
    /// When the provider opened the dispute (seconds): every event of it carries the same.
    #[serde(default)]
    created: Option<i64>,
}

impl Dispute {
    /// The one case id of this dispute, whichever event opens it: a ULID from the dispute's
    /// opening time and a digest of its id, so two events that both would open the case write
    /// the same item and the second is refused by that write.
    fn case_id(&self) -> CaseId {
        use sha2::Digest;
        let digest = Sha256::digest(self.id.as_bytes());
        let mut random = [0u8; 16];
        random[6..].copy_from_slice(&digest[..10]);
        let ms = self.created.and_then(|t| u64::try_from(t).ok()).unwrap_or(0).saturating_mul(1000);
        let ulid = ulid::Ulid::from_parts(ms.min((1 << 48) - 1), u128::from_be_bytes(random));
        CaseId::parse(&ulid.to_string()).unwrap_or_else(|_| unreachable!("a ULID's text parses"))
    }

    /// The case subject: the provider's words, made fit for a subject (printable, at most 200).
    fn subject(&self) -> String {
        format!(
            "Dispute {} ({}): {}",
            self.id,
            self.amount.map(|a| a.to_string()).unwrap_or_default(),
            self.reason.clone().unwrap_or_else(|| "unspecified".into())
        )
        .chars()
        .filter(|c| !c.is_control() && !crate::domain::address::invisible(*c))
        .take(200)
        .collect()
    }
}

#[derive(Deserialize)]
struct EvidenceDetails {
    #[serde(default)]
    due_by: Option<i64>,
}

#[derive(Clone)]
pub struct Disputes {
    pub oms: Oms,
    pub secrets: Vec<String>,
}

impl Disputes {
    pub async fn receive(&self, signature: Option<&str>, body: &[u8]) -> Result<Received, WebhookError> {
        if !verify(signature, body, &self.secrets, self.oms.clock.now().timestamp()) {
            return Err(WebhookError::Unauthorized);
        }
        let ev: Event = serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        if !ev.kind.starts_with("charge.dispute.") {
            return Ok(Received::Ignored);
        }
        let unavailable = |e: crate::ports::StoreError| WebhookError::Unavailable(e.to_string());
        let store = &self.oms.store;
        if store.webhook_seen("stripe", &ev.id).await.map_err(unavailable)? {
            return Ok(Received::Replay);
        }
        let d = ev.data.object;
        let pi =
            d.payment_intent.clone().ok_or_else(|| WebhookError::Malformed("dispute without payment_intent".into()))?;
        let order_id: OrderId =
            store.order_for_payment(&pi).await.map_err(unavailable)?.ok_or(WebhookError::UnknownTracking)?;
        let system =
            Caller::admin(CustomerId::parse("payment-provider").map_err(|e| WebhookError::Malformed(e.to_string()))?);
        let event = Some(crate::domain::ProviderEvent { provider: "stripe".into(), event_id: ev.id.clone() });
        // The event is recorded by the write that applies it: a concurrent redelivery is refused
        // by that same write.
        let applied = |r: Result<crate::domain::support::Case, super::AppError>| match r {
            Ok(_) => Ok(Received::Enqueued),
            Err(super::AppError::Conflict { kind: "duplicate-event", .. }) => Ok(Received::Replay),
            // A refusal of the event itself will not change on a retry.
            Err(e @ (super::AppError::Invalid { .. } | super::AppError::Unprocessable { .. })) => {
                Err(WebhookError::Malformed(e.to_string()))
            }
            Err(other) => Err(WebhookError::Unavailable(other.to_string())),
        };
        let status = d.status.clone().unwrap_or_else(|| "closed".into());
        // Twice at most: a case another event of the dispute opened meanwhile is read again.
        for _ in 0..2 {
            let cases = store.cases_of_order(&order_id).await.map_err(unavailable)?;
            let existing = cases.into_iter().find(|c| c.external_ref.as_deref() == Some(&d.id));
            let opening = match (ev.kind.as_str(), &existing) {
                ("charge.dispute.created", None) => Some(None),
                // Closed before its opening arrived (providers do not promise order): the case
                // is opened resolved, and the late opening finds it and changes nothing.
                ("charge.dispute.closed", None) => Some(Some(format!("dispute {status}"))),
                ("charge.dispute.closed", Some(c)) if c.status != CaseStatus::Resolved => {
                    let req = super::support::UpdateCaseRequest {
                        status: CaseStatus::Resolved,
                        resolution: Some(format!("dispute {status}")),
                    };
                    return applied(self.oms.update_case_for(&system, &c.id, req, event).await);
                }
                _ => None,
            };
            let Some(resolved) = opening else { break };
            let due_by =
                d.evidence_details.as_ref().and_then(|e| e.due_by).and_then(|t| chrono::DateTime::from_timestamp(t, 0));
            let req = OpenCaseRequest {
                order_id: order_id.clone(),
                kind: CaseKind::Dispute,
                subject: d.subject(),
                description: None,
                due_by: if resolved.is_some() { None } else { due_by },
                message: None,
            };
            match self.oms.open_case_as(&system, req, Some(d.id.clone()), event.clone(), d.case_id(), resolved).await {
                Err(super::AppError::Conflict { kind: "case-exists", .. }) => continue,
                r => return applied(r),
            }
        }
        // Nothing to apply: remember the event so a redelivery is answered as one.
        store.record_webhook_event("stripe", &ev.id, super::webhooks::DEDUPE_TTL_DAYS).await.map_err(unavailable)?;
        Ok(Received::Enqueued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_signatures_verify_within_tolerance_only() {
        let body = br#"{"id":"evt_1"}"#;
        let s = vec!["whsec_a".to_owned()];
        let now = 1_763_773_200;
        assert!(verify(Some(&sign("whsec_a", now, body)), body, &s, now));
        assert!(verify(Some(&sign("whsec_a", now - 299, body)), body, &s, now));
        assert!(!verify(Some(&sign("whsec_a", now - 301, body)), body, &s, now), "too old: a replay");
        assert!(!verify(Some(&sign("whsec_b", now, body)), body, &s, now));
        assert!(!verify(Some(&sign("whsec_a", now, body)), b"{}", &s, now));
        assert!(!verify(None, body, &s, now));
        assert!(!verify(Some("t=abc,v1=00"), body, &s, now));
    }
}
