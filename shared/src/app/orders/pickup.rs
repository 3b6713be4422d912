//! Store pickup to the end: the customer collects a `ready_for_pickup` order with its code
//! (store staff record it), is reminded a day before the store stops keeping it, and an order
//! not collected in time is cancelled: the authorization voided, the units back on the shelf.

use super::super::projections::OrderProjection;
use super::super::{AppError, Caller, Oms};
use crate::domain::*;
use crate::ports::StoreError;
use chrono::Duration;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectRequest {
    /// The pickup code the customer shows (from the ready-for-pickup mail or their order).
    pub code: String,
}

/// What a sweep of the orders waiting at stores did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PickupSweep {
    pub reminded: usize,
    pub expired: usize,
}

/// The reminder goes out this long before the store stops keeping the order.
const REMIND_BEFORE_HOURS: i64 = 24;
/// Wrong codes allowed per order within `LOCK_SECS` before collection is locked until the
/// window ends: a six-digit code cannot be found by trying them.
const MAX_WRONG_CODES: u32 = 5;
const LOCK_SECS: i64 = 900;

fn locked() -> AppError {
    AppError::Locked {
        kind: "pickup-locked",
        detail: format!("too many wrong pickup codes for this order: try again in {} minutes", LOCK_SECS / 60),
    }
}

fn wrong_code() -> AppError {
    AppError::UnprocessableField {
        kind: "wrong-pickup-code",
        detail: "code: the pickup code does not match this order".into(),
        field: "code",
    }
}

impl Oms {
    /// Compares a pickup code with the order's. On an order not collected yet every code is
    /// counted *before* it is compared, so a burst of guesses sent at once is compared at most
    /// `MAX_WRONG_CODES` times a window (counting only failures, after the comparison, let a
    /// whole burst through); the right code ends the tries (the order is collected). On an order
    /// collected already there is nothing left to take: not counted.
    async fn try_pickup_code(&self, id: &OrderId, code: &str) -> Result<(), AppError> {
        let order = self.store.get_order(id).await?.ok_or(AppError::NotFound)?;
        if order.delivery.pickup_location.is_none() {
            return Err(AppError::Conflict {
                kind: "not-a-pickup-order",
                detail: format!("order {id} is delivered by a carrier, not collected at a store"),
            });
        }
        let Some(hold) = &order.pickup else { return Ok(()) };
        if matches!(order.status, OrderStatus::Delivered | OrderStatus::Completed) {
            return if hold.accepts(code) { Ok(()) } else { Err(wrong_code()) };
        }
        let subject = format!("pickup#{id}");
        if self.store.failures(&subject).await? >= MAX_WRONG_CODES {
            return Err(locked());
        }
        let tries = self.store.record_failure(&subject, LOCK_SECS).await.map_err(|e| match e {
            // Not counted, so not compared: the caller tries again.
            StoreError::Conflict => AppError::Locked {
                kind: "pickup-busy",
                detail: "other codes for this order are being checked at this moment: try again shortly".into(),
            },
            other => other.into(),
        })?;
        if tries > MAX_WRONG_CODES {
            return Err(locked());
        }
        if !hold.accepts(code) {
            tracing::warn!(tries, "wrong pickup code");
            return Err(if tries >= MAX_WRONG_CODES { locked() } else { wrong_code() });
        }
        Ok(())
    }

    /// Records that the customer collected a pickup order: the code must match; the order is
    /// delivered, its units leave the store's stock, the payment is captured (the ledger with
    /// the commit, the provider after it, with the same key) and the customer thanked. A repeat
    /// with the right code after the collection answers the same; a wrong code changes nothing.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn collect_pickup(
        &self,
        caller: &Caller,
        id: &OrderId,
        req: CollectRequest,
    ) -> Result<OrderProjection, AppError> {
        if req.code.trim().is_empty() || req.code.chars().count() > 32 {
            return Err(AppError::invalid_field("code", "expected the six-digit pickup code"));
        }
        self.try_pickup_code(id, &req.code).await?;
        for _ in 0..5 {
            let order = self.store.get_order(id).await?.ok_or(AppError::NotFound)?;
            let hold = order.pickup.clone();
            if hold.as_ref().is_some_and(|h| !h.accepts(&req.code)) {
                return Err(wrong_code());
            }
            match (order.status, &hold) {
                (OrderStatus::ReadyForPickup, Some(_)) => {}
                // Collected already (a retried request): the same answer.
                (OrderStatus::Delivered | OrderStatus::Completed, Some(_)) => return self.get_order(caller, id).await,
                (status, _) => return Err(AppError::InvalidState { status, action: "collected" }),
            }
            let now = self.clock.now();
            let shipments = self.store.shipments_of_order(id).await?;
            let mut next = order.clone();
            next.apply(OrderEvent::Collect, now)?;
            let mut moves = Vec::new();
            for r in next.reservations.iter_mut().filter(|r| r.state == ReservationState::Allocated) {
                moves.push(StockMovement::of_reservation(r, StockMove::Ship));
                r.state = ReservationState::Shipped;
            }
            let currency = order.totals.total.currency();
            let captured = order.payment.captured.map(|m| m.amount()).unwrap_or(0);
            let amount = Money::new((order.payable().amount() - captured).max(0), currency)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let key = format!("capture-pickup-{id}");
            let mut capture = None;
            if let Some(auth) = order.payment.authorization_id.clone().filter(|_| amount.amount() > 0) {
                next.payment.capture(amount, &key, now).map_err(|e| AppError::Internal(e.to_string()))?;
                let entry = TimelineEvent::new(now, "payment.captured", Actor::System("pickup".into()))
                    .with_note(format!("{amount} at collection"));
                capture = Some((Effect::Capture { authorization_id: auth, amount, idempotency_key: key }, entry));
            }
            let mut change = OrderChange::update(next, order.version, now);
            if let Some((effect, entry)) = capture {
                change.effects.push(effect);
                change.effects.push(Effect::invoice(id, &format!("capture-pickup-{id}")));
                change.timeline.push(entry);
            }
            let mut first = true;
            for sh in shipments.iter().filter(|s| s.status != ShipmentStatus::Cancelled) {
                let mut s2 = sh.clone();
                s2.status = ShipmentStatus::Delivered;
                s2.handed_over_at = Some(now);
                s2.shipped_at = Some(now);
                s2.delivered_at = Some(now);
                s2.captured = first.then_some(amount);
                s2.version = sh.version + 1;
                s2.updated_at = now;
                first = false;
                change.shipments.push(Write::Update { value: s2, expected_version: sh.version });
            }
            let store = order.delivery.pickup_location.as_ref().map(|l| l.to_string()).unwrap_or_default();
            change = change
                .with_event(
                    TimelineEvent::new(now, "order.collected", caller.actor_on(&order.customer))
                        .with_status(OrderStatus::Delivered)
                        .with_note(format!("at {store}")),
                )
                .with_effect(Effect::notify(Notification::new("order.collected", id, None)));
            change.stock = moves;
            change.feedback = self.feedback_survey(&order, now).map(Write::Create);
            match self.store.commit(&change).await {
                Ok(()) => {
                    tracing::info!("pickup collected");
                    return self.get_order(caller, id).await;
                }
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }

    /// The scheduled sweep of orders waiting at stores: a reminder a day before the store stops
    /// keeping one (once: the write that records it carries the mail), and a cancel (void,
    /// restock, mail) once it is past.
    #[tracing::instrument(skip_all)]
    pub async fn sweep_pickups(&self) -> Result<PickupSweep, AppError> {
        let now = self.clock.now();
        let system = super::system_caller()?;
        let mut done = PickupSweep::default();
        for o in self.orders_in(OrderStatus::ReadyForPickup).await? {
            let Some(hold) = o.pickup.clone() else { continue };
            if hold.expires_at <= now {
                let why = format!("not collected by {}", hold.expires_at.format("%Y-%m-%d %H:%M UTC"));
                match self.cancel_order(&system, &o.id, Actor::System("pickup-expiry".into()), Some(why)).await {
                    Ok(_) => done.expired += 1,
                    Err(e) => tracing::warn!(order_id = %o.id, error = %e, "pickup expiry not applied"),
                }
            } else if !hold.reminded && hold.expires_at - Duration::hours(REMIND_BEFORE_HOURS) <= now {
                let mut next = o.clone();
                let key = format!("order.pickup_reminder#{}#{}", o.id, hold.ready_at.timestamp_millis());
                next.pickup = Some(PickupHold { reminded: true, ..hold });
                next.updated_at = now;
                let change = OrderChange::update(next, o.version, now)
                    .with_event(TimelineEvent::new(now, "pickup.reminded", Actor::System("pickup-expiry".into())))
                    .with_effect(Effect::notify(
                        Notification::new("order.pickup_reminder", &o.id, None).with_dedupe_key(key),
                    ));
                match self.store.commit(&change).await {
                    Ok(()) => done.reminded += 1,
                    // Changed meanwhile (collected, cancelled): the next sweep looks again.
                    Err(StoreError::StaleVersion) => {}
                    Err(e) => tracing::warn!(order_id = %o.id, error = %e, "pickup reminder not recorded"),
                }
            }
        }
        tracing::info!(reminded = done.reminded, expired = done.expired, "pickup sweep");
        Ok(done)
    }
}
