//! Sales velocity and days of cover: a moving average with weekly seasonality, from the units
//! a SKU sold per day (analytics' SKU counters). The level is the average of the last two
//! weeks; each weekday's index is its share of the whole history (a Saturday that sells twice
//! the average has index 2). Tomorrow's forecast is level × tomorrow's index. Pure.

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

/// Days of recent sales the level averages.
pub const LEVEL_DAYS: i64 = 14;
/// Cover is never reported beyond this many days.
pub const MAX_COVER_DAYS: u32 = 365;

/// Expected sales per day for each weekday (Monday first), in hundredths of a unit: integers,
/// like every quantity here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forecast {
    pub by_weekday: [i64; 7],
}

impl Forecast {
    /// From `daily`: units sold on each day of the history, oldest first, ending `last`.
    pub fn from_history(daily: &[i64], last: NaiveDate) -> Forecast {
        let n = daily.len() as i64;
        if n == 0 {
            return Forecast { by_weekday: [0; 7] };
        }
        let first = last - Duration::days(n - 1);
        let mut sum = [0i64; 7];
        let mut count = [0i64; 7];
        for (i, units) in daily.iter().enumerate() {
            let wd = (first + Duration::days(i as i64)).weekday().num_days_from_monday() as usize;
            sum[wd] += (*units).max(0);
            count[wd] += 1;
        }
        let total: i64 = sum.iter().sum();
        let recent = &daily[daily.len().saturating_sub(LEVEL_DAYS as usize)..];
        let level = recent.iter().map(|u| (*u).max(0)).sum::<i64>() * 100 / recent.len() as i64;
        let mut by_weekday = [level; 7];
        if total > 0 {
            for wd in 0..7 {
                if count[wd] > 0 {
                    // level × (the weekday's average / the overall average)
                    by_weekday[wd] = level * sum[wd] * n / (count[wd] * total);
                }
            }
        }
        Forecast { by_weekday }
    }

    /// Expected sales on `d`, hundredths of a unit.
    pub fn on(&self, d: NaiveDate) -> i64 {
        self.by_weekday[d.weekday().num_days_from_monday() as usize]
    }

    /// Expected sales over a week, hundredths of a unit.
    pub fn weekly(&self) -> i64 {
        self.by_weekday.iter().sum()
    }

    /// Expected sales over the `days` days from `from`, hundredths of a unit.
    pub fn demand(&self, from: NaiveDate, days: u32) -> i64 {
        (0..i64::from(days)).map(|i| self.on(from + Duration::days(i))).sum()
    }

    /// Whole days `stock` lasts from `from` (the day it would run short is not counted);
    /// `None` when nothing is forecast to sell.
    pub fn cover(&self, stock: i64, from: NaiveDate) -> Option<u32> {
        if self.weekly() <= 0 {
            return None;
        }
        let mut left = stock.max(0) * 100;
        for day in 0..MAX_COVER_DAYS {
            left -= self.on(from + Duration::days(i64::from(day)));
            if left < 0 {
                return Some(day);
            }
        }
        Some(MAX_COVER_DAYS)
    }
}

/// Whether a SKU is marked low on cover, and how many times it went low (the alerts' ids
/// follow it): one `inventory.cover_low` per crossing, none while it stays low.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverMark {
    pub crossings: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// What the cover alert does for a SKU: alert the `n`th crossing, clear the mark, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverCrossing {
    Below { n: u64 },
    Recovered,
}

pub fn cover_crossing(low: bool, mark: Option<&CoverMark>) -> Option<CoverCrossing> {
    let marked = mark.is_some_and(|m| m.low_since.is_some());
    match (low, marked) {
        (true, false) => Some(CoverCrossing::Below { n: mark.map_or(0, |m| m.crossings) + 1 }),
        (false, true) => Some(CoverCrossing::Recovered),
        _ => None,
    }
}

/// One SKU's cover, as the replenishment report and the alert show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cover {
    pub sku: String,
    /// What every location can promise now.
    pub promisable: i64,
    /// Expected units sold in a week (rounded).
    pub weekly_forecast: i64,
    /// Days the stock lasts (absent when nothing is forecast to sell).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_of_cover: Option<u32>,
    /// Below this many days the SKU is low.
    pub cover_days: u32,
    pub low: bool,
    /// What to order to last the lead time and the cover days (0 when not low).
    pub suggested_quantity: i64,
}

/// A SKU's cover under the rules' thresholds, from `today`.
pub fn cover(
    sku: &str,
    promisable: i64,
    f: &Forecast,
    today: NaiveDate,
    rules: &super::rules::ReplenishmentRules,
) -> Cover {
    let days = f.cover(promisable, today);
    let low = days.is_some_and(|d| d < rules.cover_days);
    // Whole units: a part of one is one to order.
    let need = (f.demand(today, rules.lead_time_days + rules.cover_days) + 99) / 100;
    Cover {
        sku: sku.to_owned(),
        promisable,
        weekly_forecast: (f.weekly() + 50) / 100,
        days_of_cover: days,
        cover_days: rules.cover_days,
        low,
        suggested_quantity: if low { (need - promisable).max(0) } else { 0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weekends_that_sell_more_are_forecast_to_sell_more() {
        // Four weeks ending Sunday 2026-11-29: 2 a weekday, 9 on Saturdays and Sundays.
        let last = d("2026-11-29");
        let first = last - Duration::days(27);
        let daily: Vec<i64> = (0..28)
            .map(|i| if (first + Duration::days(i)).weekday().num_days_from_monday() >= 5 { 9 } else { 2 })
            .collect();
        let f = Forecast::from_history(&daily, last);
        assert_eq!(f.on(d("2026-12-05")), 900, "a Saturday: 9 units");
        assert_eq!(f.on(d("2026-12-01")), 200, "a Tuesday: 2 units");
        // 20 units from Monday: 2+2+2+2+2 (10) then Saturday's 9 (19), Sunday runs short.
        assert_eq!(f.cover(20, d("2026-11-30")), Some(6));
        let rules = super::super::rules::ReplenishmentRules { cover_days: 14, lead_time_days: 7, history_weeks: 4 };
        let c = cover("A", 20, &f, d("2026-11-30"), &rules);
        assert!(c.low);
        // Three weeks of 28 units each, less the 20 there are.
        assert_eq!(c.suggested_quantity, 3 * 28 - 20);
    }

    #[test]
    fn a_recent_rise_lifts_the_level_and_no_sales_is_no_cover_figure() {
        let last = d("2026-11-29");
        let daily: Vec<i64> = (0..28).map(|i| if i < 14 { 1 } else { 3 }).collect();
        let f = Forecast::from_history(&daily, last);
        assert_eq!(f.weekly(), 7 * 300, "3 units a day");
        let none = Forecast::from_history(&[0; 28], last);
        assert_eq!(none.cover(5, last), None);
        let rules = super::super::rules::ReplenishmentRules::default();
        assert!(!cover("A", 0, &none, last, &rules).low);
    }
}
