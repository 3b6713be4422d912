//! Technicians' capacity (`PUT /v1/admin/service-capacity/{region}/{date}`) and the slots a
//! service offers from it (`GET /v1/services/{sku}/slots`). Booking, rescheduling and the
//! visits' progress are in `visits`.

use super::{AppError, Caller, Oms, Permission};
use crate::domain::service::{
    MAX_WINDOWS, SLOT_DAYS, ServiceSpec, SlotId, Window, hhmm, parse_hhmm, valid_region, valid_skill,
};
use crate::domain::*;
use crate::ports::StoreError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WindowInput {
    /// `HH:MM`, on a quarter hour.
    pub start: String,
    pub end: String,
    /// The technicians' minutes in the window, all together.
    pub technician_minutes: u32,
    #[serde(default)]
    pub skills: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CapacityInput {
    pub windows: Vec<WindowInput>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowView {
    pub slot_id: SlotId,
    pub start: String,
    pub end: String,
    pub capacity_minutes: u32,
    pub booked_minutes: u32,
    pub free_minutes: u32,
    pub skills: Vec<String>,
}

impl From<&Window> for WindowView {
    fn from(w: &Window) -> Self {
        WindowView {
            slot_id: w.slot.clone(),
            start: hhmm(w.slot.start),
            end: hhmm(w.end),
            capacity_minutes: w.capacity_minutes,
            booked_minutes: w.booked_minutes,
            free_minutes: w.free_minutes(),
            skills: w.skills.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayView {
    pub region: String,
    pub date: NaiveDate,
    pub windows: Vec<WindowView>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotsQuery {
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub from: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    pub slot_id: SlotId,
    pub date: NaiveDate,
    pub start: String,
    pub end: String,
    pub free_minutes: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotsView {
    pub sku: Sku,
    /// The region serving the postal code (none: the service is not offered there).
    pub region: Option<String>,
    pub duration_minutes: u32,
    pub from: NaiveDate,
    pub slots: Vec<Slot>,
}

pub(crate) fn parse_date(field: &str, v: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .filter(|_| v.len() == 10)
        .ok_or_else(|| AppError::invalid_field(field, "a date such as 2026-12-24"))
}

/// A well-formed window that does not go with the rest of the day (422 naming the field).
fn unfit(field: &str, why: &str) -> AppError {
    AppError::UnprocessableField { kind: "invalid-capacity", detail: format!("{field}: {why}"), field: "windows" }
}

/// The windows a day's input asks for, each keeping what is booked in it already.
fn planned(region: &str, date: NaiveDate, input: &CapacityInput, read: &[Window]) -> Result<Vec<Window>, AppError> {
    if input.windows.len() > MAX_WINDOWS {
        return Err(AppError::invalid_field("windows", format!("at most {MAX_WINDOWS} windows a day")));
    }
    let mut out: Vec<Window> = Vec::new();
    for (i, w) in input.windows.iter().enumerate() {
        let field = |f: &str| format!("windows[{i}].{f}");
        let start = parse_hhmm(&w.start).filter(|t| *t < 24 * 60);
        let start = start.ok_or_else(|| AppError::invalid_field(&field("start"), "HH:MM on a quarter hour"))?;
        let end =
            parse_hhmm(&w.end).ok_or_else(|| AppError::invalid_field(&field("end"), "HH:MM on a quarter hour"))?;
        if end <= start {
            return Err(unfit(&field("end"), "a window ends after it starts"));
        }
        if w.technician_minutes > 100_000 {
            return Err(AppError::invalid_field(&field("technicianMinutes"), "0 to 100000"));
        }
        if w.skills.len() > 20 || !w.skills.iter().all(|s| valid_skill(s)) {
            return Err(AppError::invalid_field(
                &field("skills"),
                "at most 20 skills of 1-40 lower-case letters, digits or dashes",
            ));
        }
        if out.iter().any(|o| start < o.end && o.slot.start < end) {
            return Err(unfit(&field("start"), "windows of a day do not overlap"));
        }
        let slot = SlotId { region: region.to_owned(), date, start };
        let booked = read.iter().find(|r| r.slot == slot).map_or(0, |r| r.booked_minutes);
        if w.technician_minutes < booked {
            return Err(AppError::Conflict {
                kind: "capacity-below-bookings",
                detail: format!("windows[{i}]: {booked} minutes are booked; reschedule visits first"),
            });
        }
        let mut skills = w.skills.clone();
        skills.sort();
        skills.dedup();
        out.push(Window { slot, end, capacity_minutes: w.technician_minutes, booked_minutes: booked, skills });
    }
    if let Some(r) = read.iter().find(|r| r.booked_minutes > 0 && !out.iter().any(|w| w.slot == r.slot)) {
        return Err(AppError::Conflict {
            kind: "capacity-below-bookings",
            detail: format!("the {} window has visits booked; reschedule them first", hhmm(r.slot.start)),
        });
    }
    Ok(out)
}

impl Oms {
    /// A service product (active, with its service spec), or not found.
    pub(crate) async fn service_product(&self, sku: &Sku) -> Result<(Product, ServiceSpec), AppError> {
        let p = self.store.get_products(std::slice::from_ref(sku)).await?.remove(sku);
        match p {
            Some(p) if p.active && p.kind == ProductKind::Service => {
                let spec = p.service.clone().ok_or(AppError::NotFound)?;
                Ok((p, spec))
            }
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn capacity_day(&self, caller: &Caller, region: &str, date: &str) -> Result<DayView, AppError> {
        if !caller.may(Permission::Services) {
            return Err(AppError::Forbidden);
        }
        let (region, date) = day_key(region, date)?;
        let windows = self.store.windows(&region, date, date).await?;
        Ok(DayView { windows: windows.iter().map(WindowView::from).collect(), region, date })
    }

    /// Sets a region's windows for a day; what is booked stays booked (a window is never cut
    /// below its bookings), even when a booking lands meanwhile.
    pub async fn put_capacity_day(
        &self,
        caller: &Caller,
        region: &str,
        date: &str,
        input: CapacityInput,
    ) -> Result<DayView, AppError> {
        if !caller.may(Permission::Services) {
            return Err(AppError::Forbidden);
        }
        let (region, date) = day_key(region, date)?;
        for attempt in 1..=8 {
            if attempt > 1 {
                tokio::time::sleep(crate::retry::Backoff::CONTENTION.pause(attempt)).await;
            }
            let read = self.store.windows(&region, date, date).await?;
            let next = planned(&region, date, &input, &read)?;
            match self.store.put_day(&read, &next).await {
                Ok(()) => {
                    tracing::info!(region = %region, %date, windows = next.len(), "service capacity set");
                    return Ok(DayView { windows: next.iter().map(WindowView::from).collect(), region, date });
                }
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict { kind: "concurrent-change", detail: "bookings keep moving; try again".into() })
    }

    /// The windows with room for a visit of the service near a postal code, over two weeks
    /// from `from` (tomorrow at the earliest).
    pub async fn service_slots(&self, sku: &Sku, q: SlotsQuery) -> Result<SlotsView, AppError> {
        let (_, spec) = self.service_product(sku).await?;
        let postal = q.postal_code.as_deref().map(str::trim).unwrap_or_default();
        if postal.is_empty()
            || postal.chars().count() > 16
            || !postal.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        {
            return Err(AppError::invalid_field("postalCode", "1-16 letters, digits, spaces or dashes"));
        }
        let country = q.country.as_deref().unwrap_or("US");
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(AppError::invalid_field("country", "an ISO 3166 alpha-2 country code"));
        }
        let country = CountryCode::parse(country).map_err(|_| AppError::UnprocessableField {
            kind: "unknown-country",
            detail: "country: not a country the shop knows".into(),
            field: "country",
        })?;
        let tomorrow = self.clock.now().date_naive().succ_opt().unwrap_or_default();
        let from = match q.from.as_deref() {
            Some(f) => parse_date("from", f)?.max(tomorrow),
            None => tomorrow,
        };
        let to = from
            .checked_add_days(chrono::Days::new(SLOT_DAYS.unsigned_abs() - 1))
            .unwrap_or(NaiveDate::MAX)
            .min(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX));
        let region = spec.region_for(country.as_str(), postal).map(str::to_owned);
        let slots = match &region {
            Some(r) => self
                .store
                .windows(r, from, to)
                .await?
                .iter()
                .filter(|w| w.fits(&spec))
                .map(|w| Slot {
                    slot_id: w.slot.clone(),
                    date: w.slot.date,
                    start: hhmm(w.slot.start),
                    end: hhmm(w.end),
                    free_minutes: w.free_minutes(),
                })
                .collect(),
            None => Vec::new(),
        };
        Ok(SlotsView { sku: sku.clone(), region, duration_minutes: spec.duration_minutes, from, slots })
    }
}

fn day_key(region: &str, date: &str) -> Result<(String, NaiveDate), AppError> {
    if !valid_region(region) {
        return Err(AppError::invalid_field("region", "a region such as US or US-100"));
    }
    Ok((region.to_owned(), parse_date("date", date)?))
}
