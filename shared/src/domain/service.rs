//! Services delivered at the customer's address (installation, setup, repair): a service
//! product's duration, skills and regions; technicians' capacity per region, day and window;
//! and an order's visits. A visit holds its window's minutes in the same commit as the order
//! change that books it (`OrderChange::slot_bookings`, the window's free minutes as the
//! condition), so a window is never overbooked; rescheduling, cancelling a visit or the order
//! give the minutes back. Visits move scheduled → dispatched → completed | failed; a complaint
//! books a repeat visit linked to the original at no charge.

use super::ids::Sku;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How many days of slots one search offers.
pub const SLOT_DAYS: i64 = 14;
/// At most this many visits on an order (repeats and warranty repairs included).
pub const MAX_VISITS: usize = 20;
/// At most this many windows in a region's day.
pub const MAX_WINDOWS: usize = 12;

/// What a service product needs: how long a visit takes, the skills a technician must have,
/// and the regions it is offered in (`US` for a whole country, `US-100` for the postal codes
/// starting `100`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceSpec {
    pub duration_minutes: u32,
    #[serde(default)]
    pub skills: Vec<String>,
    pub regions: Vec<String>,
}

/// A skill name: 1-40 lower-case letters, digits or dashes.
pub fn valid_skill(s: &str) -> bool {
    (1..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A region id: a country code, optionally `-` and a postal-code prefix of 1-8 letters or digits.
pub fn valid_region(r: &str) -> bool {
    let (country, prefix) = r.split_once('-').map_or((r, None), |(c, p)| (c, Some(p)));
    country.len() == 2
        && country.bytes().all(|b| b.is_ascii_uppercase())
        && prefix.is_none_or(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && prefix.is_none_or(|p| p.bytes().all(|b| !b.is_ascii_lowercase()))
}

impl ServiceSpec {
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if !(15..=720).contains(&self.duration_minutes) {
            return Err(("service.durationMinutes", "15 to 720 minutes"));
        }
        if self.skills.len() > 10 || !self.skills.iter().all(|s| valid_skill(s)) {
            return Err(("service.skills", "at most 10 skills of 1-40 lower-case letters, digits or dashes"));
        }
        if self.regions.is_empty() || self.regions.len() > 50 || !self.regions.iter().all(|r| valid_region(r)) {
            return Err(("service.regions", "1-50 regions such as US or US-100"));
        }
        Ok(())
    }

    /// The region serving an address: the one with the longest matching postal prefix.
    pub fn region_for(&self, country: &str, postal_code: &str) -> Option<&str> {
        let pc: String = postal_code.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        self.regions
            .iter()
            .filter(|r| match r.split_once('-') {
                Some((c, p)) => c == country && pc.starts_with(p),
                None => r.as_str() == country,
            })
            .max_by_key(|r| r.len())
            .map(String::as_str)
    }
}

/// One window of a region's day: `HHMM` of its start; its slot id is `<region>.<YYYYMMDD>.<HHMM>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId {
    pub region: String,
    pub date: NaiveDate,
    /// Minutes after midnight.
    pub start: u16,
}

impl SlotId {
    pub fn parse(s: &str) -> Option<SlotId> {
        let mut parts = s.split('.');
        let (region, date, start) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !valid_region(region) || date.len() != 8 || start.len() != 4 {
            return None;
        }
        let date = NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
        let start = parse_hhmm(&format!("{}:{}", start.get(..2)?, start.get(2..)?)).filter(|t| *t < 24 * 60)?;
        Some(SlotId { region: region.to_owned(), date, start })
    }
}

impl std::fmt::Display for SlotId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{:02}{:02}", self.region, self.date.format("%Y%m%d"), self.start / 60, self.start % 60)
    }
}

impl Serialize for SlotId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for SlotId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SlotId::parse(&s).ok_or_else(|| serde::de::Error::custom("a slot id such as US-1.20261210.0800"))
    }
}

/// `HH:MM` (00:00-24:00 on a quarter hour) as minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    let t = h.checked_mul(60)?.checked_add(m)?;
    (m < 60 && t <= 24 * 60 && t % 15 == 0).then_some(t)
}

pub fn hhmm(t: u16) -> String {
    format!("{:02}:{:02}", t / 60, t % 60)
}

/// A window of technician capacity as stored: its minutes in all, booked and still free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    pub slot: SlotId,
    /// Minutes after midnight.
    pub end: u16,
    pub capacity_minutes: u32,
    pub booked_minutes: u32,
    pub skills: Vec<String>,
}

impl Window {
    pub fn free_minutes(&self) -> u32 {
        self.capacity_minutes.saturating_sub(self.booked_minutes)
    }

    /// Whether a visit of `spec` fits: its skills are here and its minutes are free.
    pub fn fits(&self, spec: &ServiceSpec) -> bool {
        spec.skills.iter().all(|s| self.skills.contains(s))
            && self.free_minutes() >= spec.duration_minutes
            && u32::from(self.end.saturating_sub(self.slot.start)) >= spec.duration_minutes
    }
}

/// A window's minutes held (`hold`) or given back with an order change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotBooking {
    pub slot: SlotId,
    pub minutes: u32,
    pub hold: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    Scheduled,
    Dispatched,
    Completed,
    Failed,
    Cancelled,
}

impl VisitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VisitStatus::Scheduled => "scheduled",
            VisitStatus::Dispatched => "dispatched",
            VisitStatus::Completed => "completed",
            VisitStatus::Failed => "failed",
            VisitStatus::Cancelled => "cancelled",
        }
    }

    /// Where the field-service system may move a visit from here.
    pub fn may_become(self, next: VisitStatus) -> bool {
        use VisitStatus::*;
        matches!((self, next), (Scheduled, Dispatched | Completed | Failed) | (Dispatched, Completed | Failed))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    /// The visit a service line was bought for.
    Service,
    /// Again, after a failed or complained-about visit: free.
    Repeat,
    /// A repair under warranty: free.
    WarrantyRepair,
}

/// A technician's visit on the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Visit {
    pub visit_id: String,
    pub kind: VisitKind,
    /// The service line it is for (a warranty repair: the goods line repaired).
    pub line_id: String,
    pub sku: Sku,
    pub slot_id: SlotId,
    pub date: NaiveDate,
    /// `HH:MM`.
    pub starts: String,
    pub ends: String,
    pub minutes: u32,
    pub status: VisitStatus,
    /// Charged with its service line; repeats and warranty repairs are free.
    pub free: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_of: Option<String>,
    /// Why a repeat was booked (staff only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the technician reported (staff only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Visit {
    /// As the customer and machine clients see it: no repeat reason or technician's note.
    pub fn public(&self) -> Visit {
        Visit { reason: None, outcome: None, ..self.clone() }
    }

    pub fn is_open(&self) -> bool {
        matches!(self.status, VisitStatus::Scheduled | VisitStatus::Dispatched)
    }
}

pub use super::visits::*;

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
