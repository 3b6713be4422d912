//! A store's opening hours and pickup preparation time: when an order placed now can be
//! collected. The store prepares an order in `lead` minutes of its opening time: the minutes
//! it is closed do not count.

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Opening hours per weekday (`mon` … `sun`, local time; a day left out is closed), and the
/// store's offset from UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpeningHours {
    pub utc_offset_minutes: i32,
    /// Day -> `["09:00", "21:00"]`.
    pub days: BTreeMap<String, [String; 2]>,
}

pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// The longest preparation time a store may state.
pub const MAX_LEAD_MINUTES: u32 = 7 * 24 * 60;

fn day_name(d: Weekday) -> &'static str {
    DAYS[d.num_days_from_monday() as usize]
}

fn time(s: &str) -> Option<NaiveTime> {
    if s.len() != 5 {
        return None;
    }
    NaiveTime::parse_from_str(s, "%H:%M").ok()
}

impl OpeningHours {
    /// The field and the reason when the hours are not usable.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.utc_offset_minutes.abs() > 14 * 60 {
            return Err(("openingHours.utcOffsetMinutes", "between -840 and 840".into()));
        }
        if self.days.is_empty() {
            return Err(("openingHours.days", "at least one open day".into()));
        }
        for (day, [open, close]) in &self.days {
            if !DAYS.contains(&day.as_str()) {
                return Err(("openingHours.days", format!("{day}: one of {}", DAYS.join(", "))));
            }
            match (time(open), time(close)) {
                (Some(o), Some(c)) if o < c => {}
                _ => {
                    return Err((
                        "openingHours.days",
                        format!("{day}: [\"HH:MM\", \"HH:MM\"], opening before closing"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The opening window (UTC) of the local day `local_date`, if the store opens that day.
    fn window(&self, local_date: chrono::NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let [open, close] = self.days.get(day_name(local_date.weekday()))?;
        let offset = Duration::minutes(i64::from(self.utc_offset_minutes));
        let at = |t: NaiveTime| local_date.and_time(t).and_utc() - offset;
        Some((at(time(open)?), at(time(close)?)))
    }

    /// When an order placed at `now` is ready for pickup: after `lead_minutes` of opening time
    /// (preparation stops while the store is closed). `None` when the store does not open in
    /// the next two weeks.
    pub fn ready_at(&self, now: DateTime<Utc>, lead_minutes: u32) -> Option<DateTime<Utc>> {
        let mut left = Duration::minutes(i64::from(lead_minutes));
        let offset = Duration::minutes(i64::from(self.utc_offset_minutes));
        let today = (now + offset).date_naive();
        let mut t = now;
        for d in 0..15 {
            let Some((open, close)) = self.window(today + Duration::days(d)) else { continue };
            if t >= close {
                continue;
            }
            let start = t.max(open);
            if start + left <= close {
                return Some(start + left);
            }
            left -= close - start;
            t = close;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours() -> OpeningHours {
        // New York (UTC-5): weekdays 09:00-21:00, Saturday 10:00-18:00, closed Sunday.
        let mut days = BTreeMap::new();
        for d in ["mon", "tue", "wed", "thu", "fri"] {
            days.insert(d.to_owned(), ["09:00".to_owned(), "21:00".to_owned()]);
        }
        days.insert("sat".into(), ["10:00".into(), "18:00".into()]);
        OpeningHours { utc_offset_minutes: -300, days }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn ready_within_the_day_the_next_opening_or_after_a_closed_day() {
        let h = hours();
        // Tuesday 2026-12-01 10:00 local (15:00 UTC), 2 h lead: noon local.
        assert_eq!(h.ready_at(utc("2026-12-01T15:00:00Z"), 120), Some(utc("2026-12-01T17:00:00Z")));
        // Tuesday 20:30 local: 30 minutes before closing, 90 after Wednesday's opening.
        assert_eq!(h.ready_at(utc("2026-12-02T01:30:00Z"), 120), Some(utc("2026-12-02T15:30:00Z")));
        // Saturday 17:00 local: one hour Saturday, Sunday closed, one hour Monday.
        assert_eq!(h.ready_at(utc("2026-12-05T22:00:00Z"), 120), Some(utc("2026-12-07T15:00:00Z")));
        // No lead, after closing: the next opening.
        assert_eq!(h.ready_at(utc("2026-12-02T03:00:00Z"), 0), Some(utc("2026-12-02T14:00:00Z")));
        // Before opening: the lead counts from opening.
        assert_eq!(h.ready_at(utc("2026-12-01T12:00:00Z"), 60), Some(utc("2026-12-01T15:00:00Z")));
    }

    #[test]
    fn bad_hours_are_refused_with_their_field() {
        let mut h = hours();
        assert!(h.validate().is_ok());
        h.days.insert("mon".into(), ["21:00".into(), "09:00".into()]);
        assert_eq!(h.validate().map_err(|e| e.0), Err("openingHours.days"));
        let mut h = hours();
        h.days.insert("funday".into(), ["09:00".into(), "10:00".into()]);
        assert!(h.validate().is_err());
        let mut h = hours();
        h.utc_offset_minutes = 900;
        assert_eq!(h.validate().map_err(|e| e.0), Err("openingHours.utcOffsetMinutes"));
        assert!(OpeningHours { utc_offset_minutes: 0, days: BTreeMap::new() }.validate().is_err());
    }
}
