//! Rules as data: fraud thresholds, hold rules, confirmation calls, sourcing preferences per
//! location and replenishment cover, as one versioned document. A save is a new version; older
//! versions stay, read-only. An order records the version placement used, and validation
//! assesses it by that same version, so a change applies to orders placed after it and every
//! decision can be explained by the rules that made it.

use super::address::CountryCode;
use super::confirmation::{ConfirmationRule, MAX_MIN_TOTAL};
use super::ids::LocationId;
use super::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Fraud scoring: value thresholds (reference-currency minor units, like `limits`), the scores
/// that hold and reject, and the hourly order count per e-mail that counts as velocity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FraudRules {
    pub high_value: i64,
    pub very_high_value: i64,
    pub hold_score: u32,
    pub reject_score: u32,
    pub velocity_per_hour: u32,
}

impl Default for FraudRules {
    fn default() -> Self {
        FraudRules {
            high_value: 100_000,
            very_high_value: 500_000,
            hold_score: 50,
            reject_score: 80,
            velocity_per_hour: 4,
        }
    }
}

/// Orders held for review whatever their score: shipping to one of `countries`, or at least
/// `minTotal` (in its currency).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HoldRules {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<CountryCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_total: Option<Money>,
}

/// How sourcing treats one location: lower `priority` is tried first (before distance), and a
/// location that must not ship (`ships: false`) only serves pickups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourcingPreference {
    #[serde(default = "default_priority")]
    pub priority: u8,
    #[serde(default = "yes")]
    pub ships: bool,
}

fn default_priority() -> u8 {
    SourcingPreference::DEFAULT_PRIORITY
}

fn yes() -> bool {
    true
}

impl SourcingPreference {
    pub const DEFAULT_PRIORITY: u8 = 5;
}

impl Default for SourcingPreference {
    fn default() -> Self {
        SourcingPreference { priority: Self::DEFAULT_PRIORITY, ships: true }
    }
}

/// Replenishment: a SKU whose stock covers fewer than `coverDays` of forecast sales is low; the
/// suggestion covers `leadTimeDays` plus `coverDays`; the forecast reads `historyWeeks` of sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplenishmentRules {
    pub cover_days: u32,
    pub lead_time_days: u32,
    pub history_weeks: u32,
}

impl Default for ReplenishmentRules {
    fn default() -> Self {
        ReplenishmentRules { cover_days: 14, lead_time_days: 7, history_weeks: 4 }
    }
}

/// The rules an operator sets (flattened into each version beside its own attributes, so
/// unknown top-level fields are refused by `from_body`, the sections' by their types).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSet {
    #[serde(default)]
    pub fraud: FraudRules,
    #[serde(default)]
    pub hold: HoldRules,
    #[serde(default)]
    pub confirmation_calls: ConfirmationRule,
    #[serde(default)]
    pub sourcing: BTreeMap<LocationId, SourcingPreference>,
    #[serde(default)]
    pub replenishment: ReplenishmentRules,
}

/// One version of the rules. Version 0 is the defaults, in force until the first save.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rules {
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
    #[serde(flatten)]
    pub set: RuleSet,
}

pub const MAX_SOURCING_LOCATIONS: usize = 200;
pub const MAX_HOLD_COUNTRIES: usize = 100;

impl RuleSet {
    /// `Err(field, why)` for rules that cannot be kept.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let f = &self.fraud;
        let err = |field: &'static str, why: String| Err((field, why));
        if !(1..=MAX_MIN_TOTAL).contains(&f.high_value) {
            return err("fraud.highValue", format!("between 1 and {MAX_MIN_TOTAL} minor units"));
        }
        if !(f.high_value..=MAX_MIN_TOTAL).contains(&f.very_high_value) {
            return err("fraud.veryHighValue", format!("at least highValue and at most {MAX_MIN_TOTAL}"));
        }
        if !(1..=200).contains(&f.reject_score) {
            return err("fraud.rejectScore", "between 1 and 200".into());
        }
        if !(1..f.reject_score).contains(&f.hold_score) {
            return err("fraud.holdScore", "at least 1 and below rejectScore".into());
        }
        if !(2..=1000).contains(&f.velocity_per_hour) {
            return err("fraud.velocityPerHour", "between 2 and 1000 orders".into());
        }
        if self.hold.countries.len() > MAX_HOLD_COUNTRIES {
            return err("hold.countries", format!("at most {MAX_HOLD_COUNTRIES}"));
        }
        if self.hold.min_total.is_some_and(|m| m.amount() <= 0 || m.amount() > MAX_MIN_TOTAL) {
            return err("hold.minTotal", format!("a positive amount of at most {MAX_MIN_TOTAL} minor units"));
        }
        self.confirmation_calls.check().map_err(|(field, why)| {
            let field = match field {
                "timeoutMinutes" => "confirmationCalls.timeoutMinutes",
                "minTotal" => "confirmationCalls.minTotal",
                _ => "confirmationCalls",
            };
            (field, why)
        })?;
        if self.sourcing.len() > MAX_SOURCING_LOCATIONS {
            return err("sourcing", format!("at most {MAX_SOURCING_LOCATIONS} locations"));
        }
        if let Some((id, _)) = self.sourcing.iter().find(|(_, p)| !(1..=9).contains(&p.priority)) {
            return err("sourcing", format!("sourcing.{id}.priority: between 1 and 9"));
        }
        let r = &self.replenishment;
        if !(1..=365).contains(&r.cover_days) {
            return err("replenishment.coverDays", "between 1 and 365".into());
        }
        if r.lead_time_days > 365 {
            return err("replenishment.leadTimeDays", "between 0 and 365".into());
        }
        if !(1..=26).contains(&r.history_weeks) {
            return err("replenishment.historyWeeks", "between 1 and 26".into());
        }
        Ok(())
    }

    /// How sourcing treats a location.
    pub fn sourcing_of(&self, id: &LocationId) -> SourcingPreference {
        self.sourcing.get(id).copied().unwrap_or_default()
    }
}

impl RuleSet {
    /// The body of `PUT /v1/admin/rules`: its sections only (`Err` says what is wrong).
    pub fn from_body(body: serde_json::Value) -> Result<RuleSet, String> {
        Self::sections_of(&body)?;
        serde_json::from_value(body).map_err(|e| e.to_string())
    }

    /// A body is an object of known sections (an array or a scalar is refused: serde would
    /// take `[]` for rules with every section at its default).
    pub fn sections_of(body: &serde_json::Value) -> Result<(), String> {
        const SECTIONS: [&str; 5] = ["fraud", "hold", "confirmationCalls", "sourcing", "replenishment"];
        let Some(o) = body.as_object() else { return Err("the rules are a JSON object of sections".into()) };
        if let Some(k) = o.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
            return Err(format!("unknown field `{k}`, expected one of {}", SECTIONS.join(", ")));
        }
        Ok(())
    }

    /// The same rules written once each (a country listed twice holds the same orders).
    pub fn normalized(mut self) -> Self {
        self.hold.countries.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        self.hold.countries.dedup();
        self
    }
}

impl Rules {
    /// The next version, as `by` saved it.
    pub fn next(&self, set: RuleSet, by: &str, at: DateTime<Utc>) -> Rules {
        Rules { version: self.version + 1, updated_at: Some(at), updated_by: Some(by.to_owned()), set }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_their_field() {
        assert_eq!(RuleSet::default().check(), Ok(()));
        let mut r = RuleSet::default();
        r.fraud.hold_score = 90;
        assert_eq!(r.check().unwrap_err().0, "fraud.holdScore");
        let mut r = RuleSet::default();
        r.sourcing.insert(LocationId::parse("WH-1").unwrap(), SourcingPreference { priority: 0, ships: true });
        assert_eq!(r.check().unwrap_err(), ("sourcing", "sourcing.WH-1.priority: between 1 and 9".to_owned()));
        let mut r = RuleSet::default();
        r.confirmation_calls.timeout_minutes = 1;
        assert_eq!(r.check().unwrap_err().0, "confirmationCalls.timeoutMinutes");
    }

    #[test]
    fn a_version_round_trips_and_the_body_refuses_unknown_fields() {
        let v = Rules::default().next(RuleSet::default(), "sup-1", Utc::now());
        let back: Rules = serde_json::from_value(serde_json::to_value(&v).unwrap()).unwrap();
        assert_eq!(back, v);
        assert_eq!(back.version, 1);
        assert!(RuleSet::from_body(serde_json::json!({"frod": {}})).is_err());
        // As stored: flattened beside the item's own attributes.
        let mut stored = serde_json::to_value(&v).unwrap();
        stored["entity"] = "rules".into();
        assert_eq!(serde_json::from_value::<Rules>(stored).unwrap(), v);
    }
}
