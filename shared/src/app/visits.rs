//! Technicians' visits on an order, each change through the order's one write path: booking a
//! service line's visit (`POST /v1/orders/{id}/visits`), rescheduling and cancelling it, the
//! field-service system's progress reports, and an agent's free repeat visit after a
//! complaint. The window's minutes are held or given back in the same commit
//! (`OrderChange::slot_bookings`), so two customers after the last slot get one booking.

use super::{AppError, Caller, Oms, Permission};
use crate::domain::service::{
    ServiceError, SlotBooking, SlotId, Visit, VisitKind, VisitStatus, Window, check_window, earliest_day, new_visit,
    release, unbooked,
};
use crate::domain::*;
use crate::ports::StoreError;
use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BookVisitInput {
    pub line_id: String,
    pub slot_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RescheduleInput {
    pub slot_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VisitProgressInput {
    pub status: VisitStatus,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepeatVisitInput {
    pub slot_id: String,
    pub reason: String,
}

/// What one visit change does to the order: the next order, the minutes held or given back,
/// its timeline entry and the visit it is about. `None`: nothing to do (a replay).
type Planned = Option<(Order, Vec<SlotBooking>, TimelineEvent, String)>;

pub(crate) fn service_error(e: ServiceError) -> AppError {
    match e {
        ServiceError::NotAServiceLine(_) | ServiceError::AllBooked(_) => {
            AppError::UnprocessableField { kind: "invalid-visit", detail: e.to_string(), field: "lineId" }
        }
        ServiceError::TooEarly(_) | ServiceError::OutOfRegion | ServiceError::DoesNotFit => {
            AppError::UnprocessableField { kind: "slot-unsuitable", detail: e.to_string(), field: "slotId" }
        }
        ServiceError::Full(slot) => StoreError::SlotFull(slot).into(),
        ServiceError::UnknownVisit(_) => AppError::NotFound,
        ServiceError::IllegalTransition { .. } | ServiceError::RepeatPending(_) | ServiceError::TooManyVisits => {
            AppError::Conflict { kind: "visit-state", detail: e.to_string() }
        }
        ServiceError::OrderClosed(_) => AppError::Conflict { kind: "invalid-state", detail: e.to_string() },
    }
}

fn open_order(order: &Order) -> Result<(), AppError> {
    if order.status.is_terminal() {
        return Err(service_error(ServiceError::OrderClosed(order.status.as_str())));
    }
    Ok(())
}

fn visit_note(v: &Visit) -> String {
    format!("{} {} on {} {}-{}", v.visit_id, v.sku, v.date, v.starts, v.ends)
}

fn find<'a>(order: &'a Order, visit_id: &str) -> Result<&'a Visit, AppError> {
    order.visits.iter().find(|v| v.visit_id == visit_id).ok_or(AppError::NotFound)
}

impl Oms {
    /// The window a slot id names.
    pub(crate) async fn slot_window(&self, slot_id: &str) -> Result<Window, AppError> {
        let slot = SlotId::parse(slot_id).ok_or_else(|| AppError::UnprocessableField {
            kind: "slot-unsuitable",
            detail: "slotId: not a slot id from GET /v1/services/{sku}/slots".into(),
            field: "slotId",
        })?;
        self.store.window(&slot).await?.ok_or(AppError::UnprocessableField {
            kind: "slot-unsuitable",
            detail: format!("slotId: no window {slot_id}"),
            field: "slotId",
        })
    }

    /// Loads the order (the caller may act on it), plans the change, commits it with its
    /// bookings; again when the order moved meanwhile. Returns the visit as committed.
    async fn change_visits<F>(
        &self,
        caller: &Caller,
        id: &OrderId,
        staff: Option<Permission>,
        plan: F,
    ) -> Result<Visit, AppError>
    where
        F: Fn(&Order, DateTime<Utc>, Actor) -> Result<(Planned, String), AppError>,
    {
        for attempt in 1..=8 {
            if attempt > 1 {
                tokio::time::sleep(crate::retry::Backoff::CONTENTION.pause(attempt)).await;
            }
            let order = match (self.store.get_order(id).await?, staff) {
                (Some(o), Some(p)) if caller.may(p) => o,
                (Some(o), None) if caller.acts_for(&o.customer) => o,
                _ => return Err(AppError::NotFound),
            };
            let now = self.clock.now();
            let (planned, visit_id) = plan(&order, now, caller.actor_on(&order.customer))?;
            let Some((next, bookings, ev, _)) = planned else {
                return find(&order, &visit_id).cloned();
            };
            let mut change = OrderChange::update(next, order.version, now).with_event(ev);
            change.slot_bookings = bookings;
            match self.store.commit(&change).await {
                Ok(()) => {
                    tracing::info!(order_id = %id, visit_id = %visit_id, "visit changed");
                    let next = change.next_order().ok_or(AppError::Internal("no order in the change".into()))?;
                    return find(next, &visit_id).cloned();
                }
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict {
            kind: "concurrent-change",
            detail: "the order is changing under many hands; try again".into(),
        })
    }

    /// Books a visit for a unit of a service line in a window.
    pub async fn book_visit(&self, caller: &Caller, id: &OrderId, input: BookVisitInput) -> Result<Visit, AppError> {
        let line_sku = |o: &Order| o.lines.iter().find(|l| l.line_id == input.line_id).map(|l| l.sku.clone());
        let order =
            self.store.get_order(id).await?.filter(|o| caller.acts_for(&o.customer)).ok_or(AppError::NotFound)?;
        let window = self.slot_window(&input.slot_id).await?;
        let sku =
            line_sku(&order).ok_or_else(|| service_error(ServiceError::NotAServiceLine(input.line_id.clone())))?;
        let (_, spec) = self
            .service_product(&sku)
            .await
            .map_err(|_| service_error(ServiceError::NotAServiceLine(input.line_id.clone())))?;
        self.change_visits(caller, id, None, |order, now, actor| {
            open_order(order)?;
            if unbooked(order, &input.line_id).map_err(service_error)? == 0 {
                // A retried booking: the visit it made.
                let same = order.visits.iter().find(|v| {
                    v.line_id == input.line_id && v.slot_id == window.slot && v.status == VisitStatus::Scheduled
                });
                return match same {
                    Some(v) => Ok((None, v.visit_id.clone())),
                    None => Err(service_error(ServiceError::AllBooked(input.line_id.clone()))),
                };
            }
            check_window(&spec, &window, &order.shipping_address, earliest_day(order, now)).map_err(service_error)?;
            let (visit, booking) = new_visit(order, VisitKind::Service, &input.line_id, &sku, &spec, &window, now)
                .map_err(service_error)?;
            let ev = TimelineEvent::new(now, "service.scheduled", actor).with_note(visit_note(&visit));
            let vid = visit.visit_id.clone();
            let mut next = order.clone();
            next.visits.push(visit);
            Ok((Some((next, vec![booking], ev, vid.clone())), vid))
        })
        .await
    }

    /// Moves a scheduled visit to another window: the old minutes given back and the new ones
    /// held in one commit.
    pub async fn reschedule_visit(
        &self,
        caller: &Caller,
        id: &OrderId,
        visit_id: &str,
        input: RescheduleInput,
    ) -> Result<Visit, AppError> {
        let order =
            self.store.get_order(id).await?.filter(|o| caller.acts_for(&o.customer)).ok_or(AppError::NotFound)?;
        let sku = find(&order, visit_id)?.sku.clone();
        let window = self.slot_window(&input.slot_id).await?;
        let (_, spec) = self.service_product(&sku).await?;
        self.change_visits(caller, id, None, |order, now, actor| {
            open_order(order)?;
            let v = find(order, visit_id)?;
            if v.slot_id == window.slot && v.status == VisitStatus::Scheduled {
                return Ok((None, v.visit_id.clone()));
            }
            if v.status != VisitStatus::Scheduled {
                return Err(illegal(v, "rescheduled"));
            }
            check_window(&spec, &window, &order.shipping_address, earliest_day(order, now)).map_err(service_error)?;
            let mut next = order.clone();
            let nv = next.visits.iter_mut().find(|x| x.visit_id == visit_id).ok_or(AppError::NotFound)?;
            let bookings =
                vec![release(nv), SlotBooking { slot: window.slot.clone(), minutes: nv.minutes, hold: true }];
            nv.slot_id = window.slot.clone();
            nv.date = window.slot.date;
            nv.starts = crate::domain::service::hhmm(window.slot.start);
            nv.ends = crate::domain::service::hhmm(window.end);
            nv.updated_at = now;
            let ev = TimelineEvent::new(now, "service.rescheduled", actor).with_note(visit_note(nv));
            Ok((Some((next, bookings, ev, visit_id.to_owned())), visit_id.to_owned()))
        })
        .await
    }

    /// Cancels a scheduled visit; its minutes are free again.
    pub async fn cancel_visit(&self, caller: &Caller, id: &OrderId, visit_id: &str) -> Result<Visit, AppError> {
        self.change_visits(caller, id, None, |order, now, actor| {
            let v = find(order, visit_id)?;
            match v.status {
                VisitStatus::Cancelled => return Ok((None, v.visit_id.clone())),
                VisitStatus::Scheduled => {}
                _ => return Err(illegal(v, "cancelled")),
            }
            let mut next = order.clone();
            let nv = next.visits.iter_mut().find(|x| x.visit_id == visit_id).ok_or(AppError::NotFound)?;
            nv.status = VisitStatus::Cancelled;
            nv.updated_at = now;
            let bookings = vec![release(nv)];
            let ev = TimelineEvent::new(now, "service.cancelled", actor).with_note(visit_note(nv));
            Ok((Some((next, bookings, ev, visit_id.to_owned())), visit_id.to_owned()))
        })
        .await
    }

    /// The field-service system's report: dispatched, completed or failed (once each; a
    /// repeated report changes nothing).
    pub async fn visit_progress(
        &self,
        caller: &Caller,
        id: &OrderId,
        visit_id: &str,
        input: VisitProgressInput,
    ) -> Result<Visit, AppError> {
        let note = match input.note.as_deref().map(str::trim) {
            Some(n) if n.is_empty() || n.chars().count() > 500 || n.chars().any(char::is_control) => {
                return Err(AppError::invalid_field("note", "1-500 characters"));
            }
            other => other.map(str::to_owned),
        };
        if !matches!(input.status, VisitStatus::Dispatched | VisitStatus::Completed | VisitStatus::Failed) {
            return Err(AppError::invalid_field("status", "dispatched, completed or failed"));
        }
        self.change_visits(caller, id, Some(Permission::Services), |order, now, _| {
            let v = find(order, visit_id)?;
            if v.status == input.status {
                return Ok((None, v.visit_id.clone()));
            }
            if !v.status.may_become(input.status) {
                return Err(illegal(v, input.status.as_str()));
            }
            let mut next = order.clone();
            let nv = next.visits.iter_mut().find(|x| x.visit_id == visit_id).ok_or(AppError::NotFound)?;
            nv.status = input.status;
            nv.updated_at = now;
            if note.is_some() {
                nv.outcome = note.clone();
            }
            let kind = format!("service.{}", input.status.as_str());
            let mut ev =
                TimelineEvent::new(now, &kind, Actor::System("field-service".into())).with_note(visit_note(nv));
            if let Some(n) = &note {
                ev = ev.with_note(format!("{}: {n}", visit_note(nv)));
            }
            Ok((Some((next, Vec::new(), ev, visit_id.to_owned())), visit_id.to_owned()))
        })
        .await
    }

    /// After a failed visit or a complaint about a completed one: a repeat visit linked to it,
    /// free, with the reason recorded. One open repeat per visit.
    pub async fn repeat_visit(
        &self,
        caller: &Caller,
        id: &OrderId,
        visit_id: &str,
        input: RepeatVisitInput,
    ) -> Result<Visit, AppError> {
        let reason = input.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
            return Err(AppError::invalid_field("reason", "1-500 characters"));
        }
        if !caller.may(Permission::ActForCustomer) {
            return Err(AppError::Forbidden);
        }
        let order = self.store.get_order(id).await?.ok_or(AppError::NotFound)?;
        let sku = find(&order, visit_id)?.sku.clone();
        let window = self.slot_window(&input.slot_id).await?;
        let (_, spec) = self.service_product(&sku).await?;
        self.change_visits(caller, id, Some(Permission::ActForCustomer), |order, now, _| {
            open_order(order)?;
            let original = find(order, visit_id)?;
            if !matches!(original.status, VisitStatus::Failed | VisitStatus::Completed) {
                return Err(illegal(original, "repeated"));
            }
            if let Some(open) = order.visits.iter().find(|v| v.repeat_of.as_deref() == Some(visit_id) && v.is_open()) {
                if open.slot_id == window.slot {
                    return Ok((None, open.visit_id.clone()));
                }
                return Err(service_error(ServiceError::RepeatPending(visit_id.to_owned())));
            }
            let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
            check_window(&spec, &window, &order.shipping_address, tomorrow).map_err(service_error)?;
            let (mut visit, booking) =
                new_visit(order, VisitKind::Repeat, &original.line_id, &sku, &spec, &window, now)
                    .map_err(service_error)?;
            visit.repeat_of = Some(visit_id.to_owned());
            visit.reason = Some(reason.clone());
            visit.claim_id = original.claim_id.clone();
            let ev = TimelineEvent::new(now, "service.scheduled", Actor::Agent(caller.customer.to_string()))
                .with_note(format!("{} (repeat of {visit_id}, free): {reason}", visit_note(&visit)));
            let vid = visit.visit_id.clone();
            let mut next = order.clone();
            next.visits.push(visit);
            Ok((Some((next, vec![booking], ev, vid.clone())), vid))
        })
        .await
    }
}

fn illegal(v: &Visit, to: &'static str) -> AppError {
    service_error(ServiceError::IllegalTransition { id: v.visit_id.clone(), from: v.status.as_str(), to })
}
