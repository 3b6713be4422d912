//! Outbound webhooks: subscriptions to integration events, signed per the Standard Webhooks
//! scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
//! id.timestamp.body>`, `whsec_` secrets), retried with backoff, and disabled when deliveries
//! keep failing. Pure rules; the dispatcher (`app::webhook_delivery`) runs them.

use super::email::Email;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};

/// How long a rotated-out secret still signs (both signatures are sent meanwhile).
pub const ROTATION_OVERLAP_HOURS: i64 = 24;
/// Delivery log entries are kept this long (and replays reach this far back).
pub const DELIVERY_LOG_DAYS: i64 = 30;
/// At most this many subscriptions.
pub const MAX_SUBSCRIPTIONS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Enabled,
    Disabled,
}

/// A signing secret; a rotated-out one has an expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningSecret {
    pub secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    pub url: String,
    /// Event types delivered (`*`: every type).
    pub event_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who is told when the endpoint is disabled.
    pub contact_email: Email,
    /// The current secret first.
    pub secrets: Vec<SigningSecret>,
    pub status: SubscriptionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// Deliveries that failed for good in a row (reset by a success).
    #[serde(default)]
    pub consecutive_failures: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl Subscription {
    /// A new enabled subscription with its first secret (version 1).
    pub fn new(
        id: String,
        url: String,
        event_types: Vec<String>,
        contact_email: Email,
        secret: String,
        now: DateTime<Utc>,
    ) -> Self {
        Subscription {
            id,
            url,
            event_types,
            description: None,
            contact_email,
            secrets: vec![SigningSecret { secret, expires_at: None }],
            status: SubscriptionStatus::Enabled,
            disabled_reason: None,
            consecutive_failures: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    pub fn wants(&self, kind: &str) -> bool {
        self.status == SubscriptionStatus::Enabled && self.wants_type(kind)
    }

    /// Whether the subscription asked for this type (enabled or not).
    pub fn wants_type(&self, kind: &str) -> bool {
        self.event_types.iter().any(|t| t == "*" || t == kind)
    }

    /// The secrets that sign at `now` (the current one and any still in its overlap).
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        self.secrets.iter().filter(|s| s.expires_at.is_none_or(|e| e > now)).map(|s| s.secret.as_str()).collect()
    }

    /// A new current secret; the one it replaces keeps signing for the overlap. Only one
    /// previous secret is kept: rotating again within the overlap drops the older one at once
    /// (so rotations cannot pile up signatures, and a leaked secret is out after two).
    pub fn rotate(&mut self, secret: String, now: DateTime<Utc>) {
        let until = now + Duration::hours(ROTATION_OVERLAP_HOURS);
        let current = self.secrets.iter().find(|s| s.expires_at.is_none()).cloned();
        self.secrets = vec![SigningSecret { secret, expires_at: None }];
        if let Some(c) = current {
            self.secrets.push(SigningSecret { secret: c.secret, expires_at: Some(until) });
        }
    }

    /// A delivery failed for good; returns whether that disabled the endpoint.
    pub fn failed_delivery(&mut self, disable_after: u32, why: &str) -> bool {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        if self.status == SubscriptionStatus::Enabled && self.consecutive_failures >= disable_after {
            self.status = SubscriptionStatus::Disabled;
            self.disabled_reason =
                Some(format!("{} deliveries in a row failed; the last: {why}", self.consecutive_failures));
            return true;
        }
        false
    }
}

/// A replay of a subscription's deliveries since a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayRequest {
    pub subscription_id: String,
    pub since: DateTime<Utc>,
}

/// A `whsec_` secret from 24 random bytes.
pub fn new_secret(bytes: &[u8; 24]) -> String {
    format!("whsec_{}", B64.encode(bytes))
}

/// The `webhook-signature` header: one `v1,<base64>` per secret, space separated.
pub fn sign(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| {
            let key =
                s.strip_prefix("whsec_").and_then(|k| B64.decode(k).ok()).unwrap_or_else(|| s.as_bytes().to_vec());
            let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key length");
            mac.update(format!("{id}.{timestamp}.").as_bytes());
            mac.update(body);
            format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What an attempt's answer means: delivered, try again later, or give up now. A 4xx other
/// than 408 and 429 is the receiver refusing the message: no retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Retry,
    GiveUp,
}

pub fn outcome(status: Option<u16>) -> Outcome {
    match status {
        Some(200..=299) => Outcome::Delivered,
        Some(408 | 429) | None => Outcome::Retry,
        // Redirects are not followed (the URL is the subscriber's to fix), nor retried.
        Some(300..=499) => Outcome::GiveUp,
        Some(_) => Outcome::Retry,
    }
}

/// The wait before each retry, from `5s,5m,30m,2h,5h,10h,10h` (about a day in all).
pub fn parse_schedule(s: &str) -> Result<Vec<Duration>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, unit) = p.split_at(p.find(|c: char| !c.is_ascii_digit()).unwrap_or(p.len()));
            let n: i64 = n.parse().map_err(|_| format!("{p}: a number and s, m or h"))?;
            match unit {
                "s" => Ok(Duration::seconds(n)),
                "m" => Ok(Duration::minutes(n)),
                "h" => Ok(Duration::hours(n)),
                _ => Err(format!("{p}: a number and s, m or h")),
            }
        })
        .collect()
}

pub const DEFAULT_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,10h";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why there was no answer (timeout, connection refused); never the response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// One event's delivery to one subscription: the log entry. It names the event (a replay
/// builds it again, as the bus would, from the order) rather than holding it: a write is
/// billed per kilobyte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub subscription_id: String,
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub state: DeliveryState,
    pub attempts: Vec<Attempt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub order_id: super::ids::OrderId,
    /// The event's sequence (the order version its change committed).
    pub sequence: u64,
    pub created_at: DateTime<Utc>,
}

/// Whether a URL may receive deliveries: https (http only when private targets are allowed,
/// as locally), no credentials in it, and no loopback, private, link-local or metadata address
/// as a literal host unless allowed.
pub fn check_url(url: &str, allow_private: bool) -> Result<(), &'static str> {
    use std::net::IpAddr;
    if url.len() > 2000 {
        return Err("longer than 2000 characters");
    }
    let u: http::Uri = url.parse().map_err(|_| "not a URL")?;
    match u.scheme_str() {
        Some("https") => {}
        Some("http") if allow_private => {}
        Some(_) => return Err("must be https"),
        None => return Err("not a URL"),
    }
    let authority = u.authority().ok_or("has no host")?;
    if authority.as_str().contains('@') {
        return Err("must not carry credentials");
    }
    let a = authority.as_str();
    if let Some((_, port)) = a.rsplit_once(':').filter(|_| !a.ends_with(']'))
        && port.parse::<u16>().ok().filter(|p| *p != 0).is_none()
    {
        return Err("has an invalid port");
    }
    let host =
        authority.host().trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err("has no host");
    }
    if allow_private {
        return Ok(());
    }
    let private = match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            let [a, b, ..] = ip.octets();
            ip.is_private()
                || ip.is_loopback()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
        }
        Ok(IpAddr::V6(ip)) => {
            let s0 = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (s0 & 0xfe00) == 0xfc00
                || (s0 & 0xffc0) == 0xfe80
                || ip.to_ipv4_mapped().is_some()
                || s0 == 0x64
        }
        // Hosts an HTTP client may read as an address although they are not dotted quads
        // (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`): only names with a letter outside
        // a hex prefix are names.
        Err(_) if host.split('.').all(|p| p.chars().all(|c| c.is_ascii_hexdigit() || c == 'x')) => true,
        Err(_) => host == "localhost" || [".localhost", ".internal", ".local"].iter().any(|s| host.ends_with(s)),
    };
    if private {
        return Err("must be a public address");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub() -> Subscription {
        let email = Email::parse("ops@example.com").unwrap();
        let types = vec!["order.placed".into()];
        Subscription::new(
            "ws1".into(),
            "https://erp.example/hooks".into(),
            types,
            email,
            new_secret(&[7; 24]),
            Utc::now(),
        )
    }

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The specification's example secret, id, timestamp and payload.
        let sig = sign(
            &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn rotation_signs_with_both_secrets_for_the_overlap_only() {
        let mut s = sub();
        let now = Utc::now();
        s.rotate(new_secret(&[9; 24]), now);
        assert_eq!(s.signing_secrets(now).len(), 2);
        assert_eq!(s.signing_secrets(now)[0], new_secret(&[9; 24]));
        assert_eq!(s.signing_secrets(now + Duration::hours(25)).len(), 1);
        s.rotate(new_secret(&[10; 24]), now + Duration::hours(1));
        assert_eq!(s.secrets.len(), 2, "one previous secret at most: rotations do not pile up");
        assert_eq!(s.signing_secrets(now + Duration::hours(1)), [new_secret(&[10; 24]), new_secret(&[9; 24])]);
    }

    #[test]
    fn retries_stop_on_a_refusal_and_the_endpoint_is_disabled_after_a_streak() {
        assert_eq!(outcome(Some(204)), Outcome::Delivered);
        assert_eq!(outcome(Some(500)), Outcome::Retry);
        assert_eq!(outcome(Some(429)), Outcome::Retry);
        assert_eq!(outcome(Some(408)), Outcome::Retry);
        assert_eq!(outcome(None), Outcome::Retry);
        assert_eq!(outcome(Some(410)), Outcome::GiveUp);
        assert_eq!(outcome(Some(302)), Outcome::GiveUp, "redirects are neither followed nor retried");
        let mut s = sub();
        assert!(!s.failed_delivery(2, "500"));
        assert!(s.failed_delivery(2, "500"));
        assert!(!s.wants("order.placed"));
        assert_eq!(
            parse_schedule(DEFAULT_SCHEDULE).unwrap().iter().map(|d| d.num_seconds()).sum::<i64>(),
            99_305,
            "about a day (27.6 h)"
        );
        assert!(parse_schedule("5x").is_err());
    }

    #[test]
    fn only_public_https_targets_unless_allowed() {
        assert!(check_url("https://erp.example/hooks", false).is_ok());
        for bad in [
            "http://erp.example/x",
            "https://127.0.0.1/x",
            "https://10.0.0.8/x",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
            "https://localhost/x",
            "https://u:p@erp.example/x",
            "https://2130706433/x",
            "https://0x7f000001/x",
            "https://0177.0.0.1/x",
            "https://127.1/x",
            "https://localhost./x",
            "https://100.64.0.1/x",
            "https://erp.example:0/x",
            "https://erp.example:99999/x",
            "ftp://erp.example",
            "erp.example",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_url("https://deadbeef.example/x", false).is_ok(), "a name with hex letters and a TLD");
        assert!(check_url("https://erp.example:8443/x", false).is_ok());
    }
}
