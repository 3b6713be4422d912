//! Carrier tracking: a shipment's status only moves forward; the first scan that shows the
//! carrier has the parcel ships its stock and captures its share of the payment, once; all
//! shipments delivered delivers the order. Safe under redelivery and out-of-order events.

use super::Oms;
use crate::domain::returns::{ReturnStatus, Rma};
use crate::domain::*;
use crate::ports::PaymentGateway;

pub use super::error::ConsumerError as TrackingError;
use crate::ports::{StoreError, Tracked};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One carrier event, as the webhook enqueues it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingUpdate {
    pub carrier: String,
    pub event_id: String,
    pub tracking_number: String,
    /// The carrier's status word (`pre_transit`, `in_transit`, `out_for_delivery`, `delivered`,
    /// `failure`, `return_to_sender`, ...).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub est_delivery_date: Option<NaiveDate>,
    pub occurred_at: DateTime<Utc>,
}

/// What applying an update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Ignored(&'static str),
    Updated { shipment: ShipmentStatus, order: OrderStatus },
}

pub fn map_status(carrier_status: &str) -> Option<ShipmentStatus> {
    Some(match carrier_status {
        "pre_transit" => ShipmentStatus::PreTransit,
        "in_transit" => ShipmentStatus::InTransit,
        "out_for_delivery" | "available_for_pickup" => ShipmentStatus::OutForDelivery,
        "delivered" => ShipmentStatus::Delivered,
        "failure" | "error" => ShipmentStatus::Failure,
        "return_to_sender" => ShipmentStatus::ReturnToSender,
        _ => return None,
    })
}

#[derive(Clone)]
pub struct Tracking {
    pub oms: Oms,
    pub payments: Arc<dyn PaymentGateway>,
    /// Public tracking page, `{tracking}` replaced (for the shipped mail).
    pub tracking_url: String,
}

/// The goods share (subtotal + tax) of the units in a shipment.
fn shipment_share(order: &Order, sh: &Shipment) -> Result<i64, MoneyError> {
    let mut total = 0i64;
    for sl in &sh.lines {
        if let Some(l) = order.lines.iter().find(|l| l.line_id == sl.line_id) {
            let line_total = l.net().checked_add(l.tax)?;
            total += line_total.share(sl.quantity, l.quantity.max(1))?.amount();
        }
    }
    Ok(total)
}

impl Tracking {
    pub async fn apply(&self, u: &TrackingUpdate) -> Result<Applied, TrackingError> {
        let Some(next) = map_status(&u.status) else { return Ok(Applied::Ignored("status not tracked")) };
        let found = match self.oms.store.tracked(&u.carrier, &u.tracking_number).await? {
            Some(Tracked::Shipment(s)) => s,
            Some(Tracked::Return(r)) => return self.apply_return(u, next, &r).await,
            None => return Err(TrackingError::Permanent(format!("unknown tracking number for {}", u.carrier))),
        };
        // The first attempt uses the shipment the lookup just read (consistently); a retry after
        // a conflict reads it again.
        let mut read = Some(found.clone());
        for _ in 0..6 {
            match self.apply_once(u, next, &found.order_id, &found.id, read.take()).await {
                Err(TrackingError::Transient(m))
                    if m.contains("changed since it was read") || m.contains("conflict") =>
                {
                    continue;
                }
                other => return other,
            }
        }
        Err(TrackingError::Transient("order kept changing".into()))
    }

    /// A return parcel on its way back: the RMA moves forward (in transit, arrived); receiving
    /// and inspection are an agent's step.
    async fn apply_return(
        &self,
        u: &TrackingUpdate,
        next: ShipmentStatus,
        found: &Rma,
    ) -> Result<Applied, TrackingError> {
        let store = &self.oms.store;
        let rma = store.get_rma(&found.id).await?.ok_or_else(|| TrackingError::Permanent("return vanished".into()))?;
        let target = match next {
            ShipmentStatus::InTransit | ShipmentStatus::OutForDelivery => ReturnStatus::InTransit,
            ShipmentStatus::Delivered => ReturnStatus::Arrived,
            _ => return Ok(Applied::Ignored("return status not tracked")),
        };
        let Some(target) = rma.status.advance(target) else { return Ok(Applied::Ignored("not newer")) };
        let now = self.oms.clock.now();
        let mut r2 = rma.clone();
        r2.status = target;
        r2.version += 1;
        r2.updated_at = now;
        let kind = if target == ReturnStatus::Arrived { "return.arrived" } else { "return.in_transit" };
        let ev = TimelineEvent::new(now, kind, Actor::System(u.carrier.clone()))
            .with_note(format!("{} {}", rma.id, u.tracking_number));
        let mut change = OrderChange::for_order(&rma.order_id).with_event(ev);
        change.returns.push(Write::Update { value: r2, expected_version: rma.version });
        store.commit(&change).await.map_err(|e| TrackingError::Transient(e.to_string()))?;
        let order = store.get_order(&rma.order_id).await?.map(|o| o.status).unwrap_or(OrderStatus::ReturnRequested);
        Ok(Applied::Updated { shipment: next, order })
    }

    async fn apply_once(
        &self,
        u: &TrackingUpdate,
        next: ShipmentStatus,
        order_id: &OrderId,
        shipment_id: &ShipmentId,
        read: Option<Shipment>,
    ) -> Result<Applied, TrackingError> {
        let store = &self.oms.store;
        let sh = match read {
            Some(sh) => sh,
            None => store
                .get_shipment(order_id, shipment_id)
                .await?
                .ok_or_else(|| TrackingError::Permanent("shipment vanished".into()))?,
        };
        let order =
            store.get_order(order_id).await?.ok_or_else(|| TrackingError::Permanent("order vanished".into()))?;
        if sh.status == ShipmentStatus::Cancelled || order.status.is_terminal() {
            return Ok(Applied::Ignored("shipment cancelled"));
        }
        let advanced = sh.status.advance(next);
        let new_eta = u.est_delivery_date.filter(|d| Some(*d) != sh.estimated_delivery);
        if advanced.is_none() && new_eta.is_none() {
            return Ok(Applied::Ignored("not newer"));
        }
        let now = self.oms.clock.now();
        let mut s2 = sh.clone();
        s2.version = sh.version + 1;
        s2.updated_at = now;
        if let Some(d) = new_eta {
            s2.estimated_delivery = Some(d);
        }
        let mut o2 = order.clone();
        let mut ops: Vec<StockMovement> = Vec::new();
        let mut events = Vec::new();
        let mut notes: Vec<Notification> = Vec::new();
        let mut documents: Vec<Effect> = Vec::new();
        let mut survey = None;
        let shipments = store.shipments_of_order(order_id).await?;
        if let Some(status) = advanced {
            s2.status = status;
            events.push(
                TimelineEvent::new(
                    now,
                    &format!(
                        "shipment.{}",
                        serde_json::to_value(status)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    ),
                    Actor::System(u.carrier.clone()),
                )
                .with_note(format!("{} {}", sh.id, u.tracking_number)),
            );
            // The carrier has the parcel: ship the stock and capture this shipment's share, once.
            if sh.shipped_at.is_none() && status.rank() >= ShipmentStatus::InTransit.rank() {
                s2.shipped_at = Some(now);
                s2.handed_over_at = s2.handed_over_at.or(Some(now));
                // Held after its labels were bought: the parcel has left regardless, so the
                // order resumes where the hold found it and ships.
                if let (OrderStatus::OnHold, Some(at @ (OrderStatus::ReadyToShip | OrderStatus::PartiallyShipped))) =
                    (o2.status, o2.held_from)
                {
                    o2.apply(OrderEvent::Resume(at), now).map_err(|e| TrackingError::Permanent(e.to_string()))?;
                }
                let others_unshipped = shipments
                    .iter()
                    .filter(|x| {
                        x.id != sh.id
                            && x.status != ShipmentStatus::Cancelled
                            && x.service_level != ServiceLevel::Pickup
                    })
                    .any(|x| x.shipped_at.is_none());
                let captured_so_far = order.payment.captured.map(|m| m.amount()).unwrap_or(0);
                let amount = if others_unshipped {
                    let share = shipment_share(&order, &sh).map_err(|e| TrackingError::Permanent(e.to_string()))?;
                    share.min(order.payable().amount() - captured_so_far)
                } else {
                    order.payable().amount() - captured_so_far
                };
                let currency = order.totals.total.currency();
                let amount =
                    Money::new(amount.max(0), currency).map_err(|e| TrackingError::Permanent(e.to_string()))?;
                let amount = if order.payment.authorization_id.is_some() { amount } else { Money::zero(currency) };
                let key = format!("capture-{}", sh.id);
                if let Some(auth) = &order.payment.authorization_id {
                    self.payments.capture(auth, &amount, &key, !others_unshipped).await?;
                }
                s2.captured = Some(amount);
                o2.payment.capture(amount, &key, now).map_err(|e| TrackingError::Permanent(e.to_string()))?;
                documents.push(Effect::invoice(order_id, &key));
                for line in &sh.lines {
                    // The line's units leave from the stock shards their reservations hold.
                    let mut left = line.quantity;
                    for r in o2.reservations.iter_mut().filter(|r| {
                        r.sku == line.sku && r.location_id == sh.location_id && r.state == ReservationState::Allocated
                    }) {
                        if left == 0 {
                            break;
                        }
                        let q = r.quantity.min(left);
                        ops.push(StockMovement { quantity: q, ..StockMovement::of_reservation(r, StockMove::Ship) });
                        left -= q;
                        r.state = ReservationState::Shipped;
                    }
                    if left > 0 {
                        ops.push(StockMovement::new(&line.sku, &sh.location_id, StockMove::Ship, left));
                    }
                }
                events.push(
                    TimelineEvent::new(now, "payment.captured", Actor::System("tracking".into()))
                        .with_note(format!("{amount} for shipment {}", sh.id)),
                );
                let kind = if order.exchange_for.is_some() { "return.exchange_shipped" } else { "shipment.shipped" };
                notes.push(Notification::for_shipment(
                    kind,
                    order_id,
                    &sh.id,
                    Some(self.tracking_url.replace("{tracking}", &u.tracking_number)),
                ));
                let all_shipped = !others_unshipped;
                let event = if all_shipped { OrderEvent::ShipAll } else { OrderEvent::ShipSome };
                if matches!(o2.status, OrderStatus::ReadyToShip | OrderStatus::PartiallyShipped) {
                    o2.apply(event, now).map_err(|e| TrackingError::Permanent(e.to_string()))?;
                    events.push(
                        TimelineEvent::new(now, "order.shipped", Actor::System("tracking".into()))
                            .with_status(o2.status),
                    );
                }
            }
            match status {
                ShipmentStatus::OutForDelivery => {
                    notes.push(Notification::for_shipment("shipment.out_for_delivery", order_id, &sh.id, None))
                }
                ShipmentStatus::Failure | ShipmentStatus::ReturnToSender => notes.push(Notification::for_shipment(
                    "shipment.exception",
                    order_id,
                    &sh.id,
                    Some(u.status.clone()),
                )),
                ShipmentStatus::Delivered => {
                    s2.delivered_at = Some(now);
                    let all_delivered = shipments
                        .iter()
                        .filter(|x| {
                            x.id != sh.id
                                && x.status != ShipmentStatus::Cancelled
                                && x.service_level != ServiceLevel::Pickup
                        })
                        .all(|x| x.status == ShipmentStatus::Delivered);
                    if all_delivered && o2.status == OrderStatus::Shipped {
                        o2.apply(OrderEvent::Deliver, now).map_err(|e| TrackingError::Permanent(e.to_string()))?;
                        events.push(
                            TimelineEvent::new(now, "order.delivered", Actor::System("tracking".into()))
                                .with_status(o2.status),
                        );
                        notes.push(Notification::new("order.delivered", order_id, None));
                        survey = self.oms.feedback_survey(&order, now);
                    }
                }
                _ => {}
            }
        }
        let mut change = OrderChange::for_order(order_id);
        change.shipments.push(Write::Update { value: s2.clone(), expected_version: sh.version });
        if o2 != order {
            change.order = OrderChange::update(o2.clone(), order.version, now).order;
        }
        change.timeline = events;
        change.stock = ops;
        change.feedback = survey.map(Write::Create);
        change.effects = notes.into_iter().map(Effect::notify).chain(documents).collect();
        // The event's dedupe is a condition of the write that applies it: the shipment's
        // version. A repeat (or a concurrent copy, after its retry) reads the shipment with the
        // event applied and finds nothing newer, so no separate record of seen events is kept.
        match store.commit(&change).await {
            Ok(()) => {}
            Err(StoreError::StaleVersion | StoreError::Conflict) => {
                return Err(TrackingError::Transient("the item changed since it was read".into()));
            }
            Err(other) => return Err(TrackingError::Transient(other.to_string())),
        }
        tracing::info!(order_id = %order_id, shipment_id = %sh.id, status = ?s2.status, "tracking applied");
        Ok(Applied::Updated { shipment: s2.status, order: o2.status })
    }
}
