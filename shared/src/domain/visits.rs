//! What happens to an order's visits: booking checks (region, day, skills and minutes), new
//! visits and the minutes they hold, releases on cancel and after edits, and netting a change's
//! bookings per window. Re-exported by `service`.

use super::address::Address;
use super::ids::Sku;
use super::order::Order;
use super::service::{MAX_VISITS, ServiceSpec, SlotBooking, SlotId, Visit, VisitKind, VisitStatus, Window, hhmm};
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error("lineId: the order has no service line {0}")]
    NotAServiceLine(String),
    #[error("lineId: every unit of line {0} has a visit")]
    AllBooked(String),
    #[error("no visit {0} on the order")]
    UnknownVisit(String),
    #[error("visit {id} is {from}: it cannot become {to}")]
    IllegalTransition { id: String, from: &'static str, to: &'static str },
    #[error("slotId: the earliest day is {0} (after the goods are delivered)")]
    TooEarly(NaiveDate),
    #[error("slotId: the service is not offered in that region for this address")]
    OutOfRegion,
    #[error("slotId: the window lacks the skills or the time the service needs")]
    DoesNotFit,
    /// The window suits the service but has not the minutes left.
    #[error("slotId: slot {0} has no time left; choose another")]
    Full(String),
    #[error("the order is {0}: its visits cannot change")]
    OrderClosed(&'static str),
    #[error("visit {0} already has an open repeat visit")]
    RepeatPending(String),
    #[error("at most {MAX_VISITS} visits on an order")]
    TooManyVisits,
}

/// The day a visit may be booked from: after the goods' promised delivery when the order has
/// goods, else tomorrow.
pub fn earliest_day(order: &Order, now: DateTime<Utc>) -> NaiveDate {
    let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
    if order.goods_lines().next().is_some() {
        order.delivery.promised_by.succ_opt().unwrap_or(order.delivery.promised_by).max(tomorrow)
    } else {
        tomorrow
    }
}

/// Checks `window` can take a visit of `spec` for `address`, from `earliest`.
pub fn check_window(
    spec: &ServiceSpec,
    window: &Window,
    address: &Address,
    earliest: NaiveDate,
) -> Result<(), ServiceError> {
    if spec.region_for(address.country.as_str(), &address.postal_code) != Some(window.slot.region.as_str()) {
        return Err(ServiceError::OutOfRegion);
    }
    if window.slot.date < earliest {
        return Err(ServiceError::TooEarly(earliest));
    }
    if !window.fits(spec) {
        let suits = spec.skills.iter().all(|s| window.skills.contains(s))
            && u32::from(window.end.saturating_sub(window.slot.start)) >= spec.duration_minutes;
        return Err(if suits { ServiceError::Full(window.slot.to_string()) } else { ServiceError::DoesNotFit });
    }
    Ok(())
}

/// A new scheduled visit in `window` and the booking that holds its minutes.
pub fn new_visit(
    order: &Order,
    kind: VisitKind,
    line_id: &str,
    sku: &Sku,
    spec: &ServiceSpec,
    window: &Window,
    now: DateTime<Utc>,
) -> Result<(Visit, SlotBooking), ServiceError> {
    if order.visits.len() >= MAX_VISITS {
        return Err(ServiceError::TooManyVisits);
    }
    let visit = Visit {
        visit_id: format!("V{}", order.visits.len() + 1),
        kind,
        line_id: line_id.to_owned(),
        sku: sku.clone(),
        slot_id: window.slot.clone(),
        date: window.slot.date,
        starts: hhmm(window.slot.start),
        ends: hhmm(window.end),
        minutes: spec.duration_minutes,
        status: VisitStatus::Scheduled,
        free: kind != VisitKind::Service,
        repeat_of: None,
        reason: None,
        outcome: None,
        claim_id: None,
        created_at: now,
        updated_at: now,
    };
    let booking = SlotBooking { slot: window.slot.clone(), minutes: spec.duration_minutes, hold: true };
    Ok((visit, booking))
}

/// Units of a service line that still have no visit (cancelled visits give theirs back).
pub fn unbooked(order: &Order, line_id: &str) -> Result<u32, ServiceError> {
    let line = order
        .lines
        .iter()
        .find(|l| l.line_id == line_id && l.kind == super::catalog::ProductKind::Service)
        .ok_or_else(|| ServiceError::NotAServiceLine(line_id.to_owned()))?;
    let booked = order
        .visits
        .iter()
        .filter(|v| v.kind == VisitKind::Service && v.line_id == line_id && v.status != VisitStatus::Cancelled)
        .count();
    Ok(line.quantity.saturating_sub(u32::try_from(booked).unwrap_or(u32::MAX)))
}

/// The visit's minutes given back.
pub fn release(v: &Visit) -> SlotBooking {
    SlotBooking { slot: v.slot_id.clone(), minutes: v.minutes, hold: false }
}

/// Cancels every visit still scheduled (the order is cancelled): the bookings that give their
/// minutes back. A dispatched technician is already on the way: that visit stays.
pub fn cancel_scheduled(order: &mut Order, now: DateTime<Utc>) -> Vec<SlotBooking> {
    let mut out = Vec::new();
    for v in order.visits.iter_mut().filter(|v| v.status == VisitStatus::Scheduled) {
        v.status = VisitStatus::Cancelled;
        v.updated_at = now;
        out.push(release(v));
    }
    out
}

/// After an edit: service visits follow their SKU's line (its id may change), scheduled ones
/// beyond the units still ordered or now before the goods' promised delivery are cancelled, and
/// a new address cancels every scheduled visit (the window was for the old one). Returns the minutes given back and the visits
/// cancelled.
pub fn after_edit(order: &mut Order, address_changed: bool, now: DateTime<Utc>) -> (Vec<SlotBooking>, Vec<String>) {
    // A service visit is booked after the goods arrive: a later promise moves it out.
    let earliest = earliest_day(order, now);
    let mut left: std::collections::BTreeMap<Sku, (String, u32)> = std::collections::BTreeMap::new();
    for l in order.lines.iter().filter(|l| l.kind == super::catalog::ProductKind::Service) {
        left.entry(l.sku.clone()).or_insert_with(|| (l.line_id.clone(), 0)).1 += l.quantity;
    }
    let (mut out, mut cancelled) = (Vec::new(), Vec::new());
    for v in order.visits.iter_mut().filter(|v| v.status != VisitStatus::Cancelled) {
        let keep = match (v.kind, left.get_mut(&v.sku)) {
            (VisitKind::Service, Some((line, n))) if *n > 0 => {
                *n -= 1;
                v.line_id = line.clone();
                !address_changed
            }
            (VisitKind::Service, _) => false,
            _ => !address_changed,
        };
        let early = v.kind == VisitKind::Service && v.date < earliest;
        if (!keep || early) && v.status == VisitStatus::Scheduled {
            v.status = VisitStatus::Cancelled;
            v.updated_at = now;
            out.push(release(v));
            cancelled.push(v.visit_id.clone());
        }
    }
    (out, cancelled)
}

/// The bookings of one change netted per window (one write per item in a transaction): a
/// change that frees and takes minutes in the same window moves only the difference.
pub fn net(bookings: &[SlotBooking]) -> Vec<SlotBooking> {
    let mut by: std::collections::BTreeMap<&SlotId, i64> = std::collections::BTreeMap::new();
    for b in bookings {
        let m = i64::from(b.minutes);
        *by.entry(&b.slot).or_default() += if b.hold { m } else { -m };
    }
    by.into_iter()
        .filter(|(_, m)| *m != 0)
        .map(|(slot, m)| SlotBooking {
            slot: slot.clone(),
            minutes: u32::try_from(m.unsigned_abs()).unwrap_or(u32::MAX),
            hold: m > 0,
        })
        .collect()
}
