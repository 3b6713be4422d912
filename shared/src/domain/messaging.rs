//! Text messages and app notifications: which order messages a customer wants by SMS or push,
//! where to (a phone number, a device), and the hours they want none (those wait until the
//! quiet hours end). Mail keeps going as before; these come on top, per the customer's choice.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// The order messages that can also go by SMS or push.
pub const MESSAGE_KINDS: [&str; 8] = [
    "order.confirmed",
    "order.payment_declined",
    "shipment.shipped",
    "shipment.out_for_delivery",
    "order.delivered",
    "order.ready_for_pickup",
    "order.pickup_reminder",
    "order.cancelled",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageChannel {
    Sms,
    Push,
}

impl MessageChannel {
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageChannel::Sms => "sms",
            MessageChannel::Push => "push",
        }
    }
}

/// Text messages to a phone number (E.164), for the kinds chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmsPreference {
    pub phone: String,
    pub kinds: Vec<String>,
    /// The number replied STOP (the provider keeps it opted out): nothing is sent until the
    /// customer sets the preference again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub opted_out: bool,
}

/// App notifications to one device (its push token), for the kinds chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushPreference {
    pub device_token: String,
    pub kinds: Vec<String>,
}

/// No SMS or push between `from` and `to` (local time at `utcOffsetMinutes`; a window may
/// cross midnight; equal times: none). Mail is not held back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuietHours {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub utc_offset_minutes: i32,
}

/// Why a preference is refused (the field path and what is wrong).
pub type Refusal = (&'static str, String);

fn time(field: &'static str, s: &str) -> Result<NaiveTime, Refusal> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| (field, "expected HH:MM (24-hour)".to_owned()))
}

/// A phone number in E.164: `+`, a country code and at most 15 digits.
pub fn valid_phone(p: &str) -> bool {
    let digits = p.strip_prefix('+').unwrap_or("");
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

fn kinds(field: &'static str, k: &[String]) -> Result<(), Refusal> {
    match k.iter().find(|x| !MESSAGE_KINDS.contains(&x.as_str())) {
        Some(bad) => Err((field, format!("{bad:?} is not one of {}", MESSAGE_KINDS.join(", ")))),
        None if k.iter().enumerate().any(|(i, x)| k[..i].contains(x)) => Err((field, "each kind once".to_owned())),
        None => Ok(()),
    }
}

impl SmsPreference {
    pub fn validate(&self) -> Result<(), Refusal> {
        if !valid_phone(&self.phone) {
            return Err(("sms.phone", "a phone number in E.164 form, e.g. +15551234567".to_owned()));
        }
        kinds("sms.kinds", &self.kinds)
    }

    pub fn wants(&self, kind: &str) -> bool {
        !self.opted_out && self.kinds.iter().any(|k| k == kind)
    }
}

impl PushPreference {
    pub fn validate(&self) -> Result<(), Refusal> {
        let t = &self.device_token;
        if t.is_empty() || t.len() > 512 || !t.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(("push.deviceToken", "the app's push token (printable, at most 512 characters)".to_owned()));
        }
        kinds("push.kinds", &self.kinds)
    }

    pub fn wants(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }
}

impl QuietHours {
    pub fn validate(&self) -> Result<(), Refusal> {
        time("quietHours.from", &self.from)?;
        time("quietHours.to", &self.to)?;
        if !(-14 * 60..=14 * 60).contains(&self.utc_offset_minutes) {
            return Err(("quietHours.utcOffsetMinutes", "between -840 and 840".to_owned()));
        }
        Ok(())
    }

    /// How long until the quiet hours end, if `now` is within them.
    pub fn remaining(&self, now: DateTime<Utc>) -> Option<Duration> {
        let (from, to) =
            (NaiveTime::parse_from_str(&self.from, "%H:%M").ok()?, NaiveTime::parse_from_str(&self.to, "%H:%M").ok()?);
        if from == to {
            return None; // an empty window
        }
        let local = (now + Duration::minutes(i64::from(self.utc_offset_minutes))).time();
        let inside = if from < to { local >= from && local < to } else { local >= from || local < to };
        if !inside {
            return None;
        }
        let mut left = to - local;
        if left <= Duration::zero() {
            left += Duration::days(1);
        }
        Some(left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn quiet_hours_across_midnight_and_in_a_time_zone() {
        let q = QuietHours { from: "22:00".into(), to: "07:00".into(), utc_offset_minutes: -300 };
        assert!(q.validate().is_ok());
        // 04:00 UTC is 23:00 in New York (UTC-5): 8 hours to go.
        assert_eq!(q.remaining(at("2026-12-01T04:00:00Z")), Some(Duration::hours(8)));
        // 12:30 UTC is 07:30 there: not quiet.
        assert_eq!(q.remaining(at("2026-12-01T12:30:00Z")), None);
        let day = QuietHours { from: "09:00".into(), to: "17:00".into(), utc_offset_minutes: 0 };
        assert_eq!(day.remaining(at("2026-12-01T16:30:00Z")), Some(Duration::minutes(30)));
        assert_eq!(day.remaining(at("2026-12-01T17:00:00Z")), None);
        assert!(QuietHours { from: "25:00".into(), ..day.clone() }.validate().is_err());
        let empty = QuietHours { to: "09:00".into(), ..day };
        assert!(empty.validate().is_ok() && empty.remaining(at("2026-12-01T09:00:00Z")).is_none());
    }

    #[test]
    fn phones_and_kinds_are_checked() {
        assert!(valid_phone("+15551234567") && valid_phone("+447700900123"));
        for bad in ["5551234567", "+0123456789", "+1 555 123", "+1234567890123456", "+"] {
            assert!(!valid_phone(bad), "{bad}");
        }
        let p =
            SmsPreference { phone: "+15551234567".into(), kinds: vec!["shipment.shipped".into()], opted_out: false };
        assert!(p.validate().is_ok() && p.wants("shipment.shipped") && !p.wants("order.confirmed"));
        assert!(SmsPreference { kinds: vec!["cart.reminder".into()], ..p.clone() }.validate().is_err());
        assert!(!SmsPreference { opted_out: true, ..p }.wants("shipment.shipped"));
    }
}
