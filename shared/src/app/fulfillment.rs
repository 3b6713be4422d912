//! The fulfillment steps, one per Lambda, each idempotent: re-running a step with the same
//! input changes nothing more. Errors carry the names the state machine's Retry and Catch
//! match (see `infra/statemachines/fulfillment.asl.json`).

use super::Oms;
use crate::adapters::dynamo::StoreError;
use crate::adapters::dynamo::store::{LabelDoc, StockMove, TxOp, label_item, order_item, shipment_item, timeline_item};
use crate::domain::validation::{Decision, Limits, Signals, assess};
use crate::domain::*;
use crate::ports::{AuthorizeRequest, Carrier, CarrierError, Parcel, PaymentError, PaymentGateway, Queue};
use base64::Engine;
use chrono::{Datelike, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A step failure, named for the state machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct StepError {
    pub name: &'static str,
    pub message: String,
}

impl StepError {
    pub const ORDER_REJECTED: &'static str = "OrderRejected";
    pub const ORDER_NOT_ACTIVE: &'static str = "OrderNotActive";
    pub const ALLOCATION_FAILED: &'static str = "AllocationFailed";
    pub const PAYMENT_DECLINED: &'static str = "PaymentDeclined";
    pub const PAYMENT_TRANSIENT: &'static str = "PaymentTransient";
    pub const CARRIER_REJECTED: &'static str = "CarrierRejected";
    pub const CARRIER_TRANSIENT: &'static str = "CarrierTransient";
    pub const STORE_TRANSIENT: &'static str = "StoreTransient";
    pub const INVALID_INPUT: &'static str = "InvalidInput";
    pub const INTERNAL: &'static str = "InternalError";

    /// Every name a step can raise; the definition checker allows only these (plus `States.*`
    /// and `Lambda.*`) in Retry and Catch.
    pub const ALL: [&'static str; 10] = [
        Self::ORDER_REJECTED,
        Self::ORDER_NOT_ACTIVE,
        Self::ALLOCATION_FAILED,
        Self::PAYMENT_DECLINED,
        Self::PAYMENT_TRANSIENT,
        Self::CARRIER_REJECTED,
        Self::CARRIER_TRANSIENT,
        Self::STORE_TRANSIENT,
        Self::INVALID_INPUT,
        Self::INTERNAL,
    ];

    pub fn new(name: &'static str, message: impl Into<String>) -> Self {
        StepError { name, message: message.into() }
    }
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict | StoreError::StaleVersion => {
                StepError::new(StepError::STORE_TRANSIENT, e.to_string())
            }
            StoreError::Dynamo(m) if m.contains("Throttl") || m.contains("ProvisionedThroughput") => {
                StepError::new(StepError::STORE_TRANSIENT, m)
            }
            other => StepError::new(StepError::INTERNAL, other.to_string()),
        }
    }
}

impl From<PaymentError> for StepError {
    fn from(e: PaymentError) -> Self {
        match e {
            PaymentError::Transient(m) => StepError::new(StepError::PAYMENT_TRANSIENT, m),
            PaymentError::Declined(m) | PaymentError::Rejected(m) => StepError::new(StepError::PAYMENT_DECLINED, m),
        }
    }
}

impl From<CarrierError> for StepError {
    fn from(e: CarrierError) -> Self {
        match e {
            CarrierError::Transient(m) => StepError::new(StepError::CARRIER_TRANSIENT, m),
            CarrierError::Rejected(m) => StepError::new(StepError::CARRIER_REJECTED, m),
        }
    }
}

/// The input every step receives.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepInput {
    pub order_id: OrderId,
    /// For compensation: the caught error (`{"Error": ..., "Cause": ...}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// A customer notification message on the notifications queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<ShipmentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<CartId>,
    /// Consumers send at most one mail per key.
    pub dedupe_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Notification {
    /// An order-level notification: at most one mail per (type, order).
    pub fn new(kind: &str, order: &OrderId, detail: Option<String>) -> Self {
        Notification {
            kind: kind.to_owned(),
            order_id: Some(order.clone()),
            shipment_id: None,
            cart_id: None,
            dedupe_key: format!("{kind}#{order}"),
            detail,
        }
    }

    /// A shipment-level notification: at most one mail per (type, shipment).
    pub fn for_shipment(kind: &str, order: &OrderId, shipment: &ShipmentId, detail: Option<String>) -> Self {
        Notification {
            shipment_id: Some(shipment.clone()),
            dedupe_key: format!("{kind}#{order}#{shipment}"),
            ..Self::new(kind, order, detail)
        }
    }

    /// A cart reminder: at most one mail per (cart, stage, period of inactivity).
    pub fn cart_reminder(cart: &CartId, stage: &str, idle_since: &chrono::DateTime<chrono::Utc>) -> Self {
        Notification {
            kind: "cart.reminder".to_owned(),
            order_id: None,
            shipment_id: None,
            cart_id: Some(cart.clone()),
            dedupe_key: format!("cart.reminder#{cart}#{stage}#{}", idle_since.timestamp()),
            detail: Some(stage.to_owned()),
        }
    }
}

/// The fulfillment use-cases and their ports.
#[derive(Clone)]
pub struct Fulfillment {
    pub oms: Oms,
    pub payments: Arc<dyn PaymentGateway>,
    pub carrier: Arc<dyn Carrier>,
    pub notifications: Arc<dyn Queue>,
    pub limits: Limits,
}

fn system(step: &str) -> Actor {
    Actor::System(step.to_owned())
}

/// Business days from `from` to `to` (0 when `to` is not later).
fn business_days_between(from: chrono::NaiveDate, to: chrono::NaiveDate) -> u32 {
    let mut d = from;
    let mut n = 0;
    while d < to {
        d += chrono::Duration::days(1);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            n += 1;
        }
    }
    n
}

impl Fulfillment {
    async fn load(&self, id: &OrderId) -> Result<Order, StepError> {
        self.oms.store.get_order(id).await?.ok_or_else(|| StepError::new(StepError::ORDER_NOT_ACTIVE, "no such order"))
    }

    async fn notify(&self, n: &Notification) -> Result<(), StepError> {
        let body = serde_json::to_string(n).map_err(|e| StepError::new(StepError::INTERNAL, e.to_string()))?;
        self.notifications
            .send(&body)
            .await
            .map_err(|e| StepError::new(StepError::STORE_TRANSIENT, format!("enqueue: {e}")))
    }

    /// Writes the next version of an order with extra operations and one timeline event.
    async fn commit(
        &self,
        before: &Order,
        next: &Order,
        extra: Vec<TxOp>,
        event: TimelineEvent,
    ) -> Result<(), StepError> {
        let mut ops = vec![
            self.oms.store.put_versioned(&order_item(next), before.version)?,
            self.oms.store.put_new(&timeline_item(&next.id, &event))?,
        ];
        ops.extend(extra);
        self.oms.store.transact(ops).await.map_err(|e| match e {
            StoreError::StockPrecondition(items) => {
                StepError::new(StepError::ALLOCATION_FAILED, format!("stock no longer held: {items:?}"))
            }
            other => other.into(),
        })
    }

    fn not_active(o: &Order) -> StepError {
        StepError::new(StepError::ORDER_NOT_ACTIVE, format!("order is {}", o.status))
    }

    /// Validation: deliverability, limits, fraud signals → pass, hold for review, or reject.
    pub async fn validate(&self, input: &StepInput) -> Result<Value, StepError> {
        let order = self.load(&input.order_id).await?;
        match order.status {
            OrderStatus::Placed => {}
            OrderStatus::OnHold => return Ok(json!({"outcome": "hold"})),
            s if s.is_terminal() => return Err(Self::not_active(&order)),
            _ => return Ok(json!({"outcome": "pass"})),
        }
        let since = self.oms.clock.now() - chrono::Duration::hours(1);
        let signals = Signals {
            orders_last_hour_by_email: self.oms.store.count_orders_by_email_since(&order.email, since).await?,
        };
        let now = self.oms.clock.now();
        match assess(&order, signals, &self.limits) {
            Decision::Pass { score } => {
                let mut next = order.clone();
                next.apply(OrderEvent::Validate, now)?;
                next.version += 1;
                let ev = TimelineEvent::new(now, "order.validated", system("validate"))
                    .with_status(next.status)
                    .with_note(format!("fraud score {score}"));
                self.commit(&order, &next, vec![], ev).await?;
                Ok(json!({"outcome": "pass", "score": score}))
            }
            Decision::Hold { score, reasons } => {
                let reason = format!("review: {}", reasons.join(", "));
                self.notify(&Notification::new("order.on_hold", &order.id, Some(reason.clone()))).await?;
                let mut next = order.clone();
                next.apply(OrderEvent::HoldForReview, now)?;
                next.version += 1;
                next.status_reason = Some(reason.clone());
                let ev = TimelineEvent::new(now, "order.held", system("validate"))
                    .with_status(next.status)
                    .with_note(format!("score {score}; {reason}"));
                self.commit(&order, &next, vec![], ev).await?;
                Ok(json!({"outcome": "hold", "score": score}))
            }
            Decision::Reject { reasons } => Err(StepError::new(StepError::ORDER_REJECTED, reasons.join(","))),
        }
    }

    /// Allocation: held units become allocated at their locations; one shipment per location.
    pub async fn allocate(&self, input: &StepInput) -> Result<Value, StepError> {
        let order = self.load(&input.order_id).await?;
        match order.status {
            OrderStatus::Validated => {}
            s if s.is_terminal() || s == OrderStatus::OnHold || s == OrderStatus::Placed => {
                return Err(Self::not_active(&order));
            }
            _ => {
                let ids: Vec<String> =
                    self.oms.store.shipments_of_order(&order.id).await?.into_iter().map(|s| s.id.to_string()).collect();
                return Ok(json!({"shipments": ids}));
            }
        }
        let now = self.oms.clock.now();
        let mut next = order.clone();
        next.apply(OrderEvent::Allocate, now)?;
        next.version += 1;
        let mut by_location: BTreeMap<LocationId, Vec<ShipmentLine>> = BTreeMap::new();
        let mut ops = Vec::new();
        for r in next.reservations.iter_mut().filter(|r| r.state == ReservationState::Held) {
            ops.push(self.oms.store.stock_move(&r.sku, &r.location_id, StockMove::Allocate, r.quantity)?);
            r.state = ReservationState::Allocated;
            let line_id = order.lines.iter().find(|l| l.sku == r.sku).map(|l| l.line_id.clone()).unwrap_or_default();
            by_location.entry(r.location_id.clone()).or_default().push(ShipmentLine {
                line_id,
                sku: r.sku.clone(),
                quantity: r.quantity,
            });
        }
        let level = order.delivery.service_level;
        let shipments: Vec<Shipment> = by_location
            .into_iter()
            .map(|(location_id, lines)| Shipment {
                id: ShipmentId::generate(),
                order_id: order.id.clone(),
                location_id,
                lines,
                status: ShipmentStatus::Pending,
                service_level: level,
                carrier: None,
                tracking_number: None,
                label_id: None,
                estimated_delivery: None,
                shipped_at: None,
                delivered_at: None,
                captured: None,
                version: 0,
                created_at: now,
                updated_at: now,
            })
            .collect();
        for s in &shipments {
            ops.push(self.oms.store.put_new(&shipment_item(s))?);
        }
        let ev =
            TimelineEvent::new(now, "order.allocated", system("allocate")).with_status(next.status).with_note(format!(
                "{} shipment(s) from {}",
                shipments.len(),
                shipments.iter().map(|s| s.location_id.as_str()).collect::<Vec<_>>().join(", ")
            ));
        self.commit(&order, &next, ops, ev).await?;
        Ok(json!({"shipments": shipments.iter().map(|s| s.id.to_string()).collect::<Vec<_>>()}))
    }

    /// Payment: authorize the order total with manual capture (captured when it ships).
    pub async fn authorize_payment(&self, input: &StepInput) -> Result<Value, StepError> {
        let order = self.load(&input.order_id).await?;
        match order.status {
            OrderStatus::Allocated => {}
            s if s.is_terminal() || matches!(s, OrderStatus::OnHold | OrderStatus::Placed | OrderStatus::Validated) => {
                return Err(Self::not_active(&order));
            }
            _ => return Ok(json!({"authorizationId": order.payment.authorization_id})),
        }
        let payable = order.payable();
        let auth = match &order.payment.authorization_id {
            Some(id) => Some(id.clone()),
            // Fully covered by a credit (an even exchange): nothing to authorize.
            None if payable.amount() == 0 => None,
            None => Some(
                self.payments
                    .authorize(&AuthorizeRequest {
                        token: order.payment.token.clone(),
                        amount: payable,
                        idempotency_key: format!("auth-{}", order.id),
                        order_id: order.id.clone(),
                    })
                    .await?
                    .id,
            ),
        };
        let now = self.oms.clock.now();
        let mut next = order.clone();
        next.apply(OrderEvent::AuthorizePayment, now)?;
        next.version += 1;
        next.payment.authorization_id = auth.clone();
        let ev = TimelineEvent::new(now, "payment.authorized", system("authorize-payment"))
            .with_status(next.status)
            .with_note(format!("{payable} authorized"));
        let mut extra = Vec::new();
        if let Some(a) = &auth {
            // Disputes name the payment; this finds the order from it.
            extra.push(self.oms.store.put_plain(&crate::adapters::dynamo::store::payment_ref_item(
                a,
                &crate::adapters::dynamo::store::PaymentRef { order_id: order.id.clone() },
            ))?);
        }
        self.commit(&order, &next, extra, ev).await?;
        Ok(json!({"authorizationId": auth}))
    }

    /// Labels: per shipment, the cheapest rate that meets the promised date; the label PDF
    /// and tracking number are stored and the shipment is indexed by tracking number.
    pub async fn create_labels(&self, input: &StepInput) -> Result<Value, StepError> {
        let order = self.load(&input.order_id).await?;
        match order.status {
            OrderStatus::PaymentAuthorized => {}
            s if s.is_terminal()
                || !matches!(
                    s,
                    OrderStatus::ReadyToShip
                        | OrderStatus::PartiallyShipped
                        | OrderStatus::Shipped
                        | OrderStatus::Delivered
                        | OrderStatus::Completed
                ) =>
            {
                return Err(Self::not_active(&order));
            }
            _ => return Ok(json!({"labels": "done"})),
        }
        let now = self.oms.clock.now();
        let shipments = self.oms.store.shipments_of_order(&order.id).await?;
        let catalog =
            self.oms.store.get_products(&order.lines.iter().map(|l| l.sku.clone()).collect::<Vec<_>>()).await?;
        let mut tracking = Vec::new();
        for sh in shipments.iter().filter(|s| s.service_level != ServiceLevel::Pickup) {
            if let Some(t) = &sh.tracking_number {
                tracking.push(t.clone());
                continue;
            }
            let from = self
                .oms
                .store
                .get_location(&sh.location_id)
                .await?
                .ok_or_else(|| StepError::new(StepError::INTERNAL, "shipment location missing"))?;
            let weight: u32 =
                sh.lines.iter().map(|l| catalog.get(&l.sku).map(|p| p.weight_grams).unwrap_or(500) * l.quantity).sum();
            let parcel = Parcel {
                shipment_id: sh.id.clone(),
                from_postal_code: from.postal_code.clone(),
                from_country: from.country,
                to: order.shipping_address.clone(),
                weight_grams: weight.max(1),
                reference: format!("order {} shipment {}", order.id, sh.id),
            };
            let rates = self.carrier.rates(&parcel).await?;
            let days_left = business_days_between(now.date_naive(), order.delivery.promised_by).max(1);
            let rate = rates
                .iter()
                .filter(|r| r.transit_days <= days_left)
                .min_by_key(|r| r.cost.amount())
                .or_else(|| rates.iter().min_by_key(|r| r.transit_days))
                .cloned()
                .ok_or_else(|| StepError::new(StepError::CARRIER_REJECTED, "no rates"))?;
            let label = self.carrier.buy_label(&parcel, &rate, &format!("label-{}", sh.id)).await?;
            let doc = LabelDoc {
                order_id: order.id.clone(),
                shipment_id: sh.id.clone(),
                label_id: label.id.clone(),
                carrier: self.carrier.name().to_owned(),
                tracking_number: label.tracking_number.clone(),
                pdf_base64: base64::engine::general_purpose::STANDARD.encode(&label.pdf),
                created_at: now,
            };
            let mut updated = sh.clone();
            updated.carrier = Some(self.carrier.name().to_owned());
            updated.tracking_number = Some(label.tracking_number.clone());
            updated.label_id = Some(label.id.clone());
            updated.status = ShipmentStatus::LabelCreated;
            updated.estimated_delivery =
                Some(sourcing::add_business_days(now.date_naive(), label.estimated_delivery_days));
            updated.updated_at = now;
            // The label first, then the shipment that points at it: both rewrites are idempotent
            // (the carrier call is keyed by shipment), so no transaction is needed; a retry after
            // a failure in between buys nothing new and writes the same two items.
            self.oms.store.put_one(&label_item(&doc)).await?;
            self.oms.store.put_one(&shipment_item(&updated)).await?;
            tracking.push(label.tracking_number);
        }
        let mut next = order.clone();
        next.apply(OrderEvent::LabelsCreated, now)?;
        next.version += 1;
        let ev = TimelineEvent::new(now, "labels.created", system("create-labels")).with_status(next.status).with_note(
            if tracking.is_empty() {
                "ready for pickup".to_owned()
            } else {
                format!("tracking {}", tracking.join(", "))
            },
        );
        self.commit(&order, &next, vec![], ev).await?;
        Ok(json!({"trackingNumbers": tracking}))
    }

    /// Compensation, in reverse: void labels, void the authorization, release allocations and
    /// holds; then `failed` (or `on_hold` for a declined payment) with the reason, and one
    /// customer notification. Safe to run any number of times.
    pub async fn compensate(&self, input: &StepInput) -> Result<Value, StepError> {
        let (error_name, cause) = match &input.error {
            Some(e) => (
                e.get("Error").and_then(Value::as_str).unwrap_or("Unknown").to_owned(),
                e.get("Cause").and_then(Value::as_str).unwrap_or("").chars().take(300).collect::<String>(),
            ),
            None => ("Unknown".to_owned(), String::new()),
        };
        for _ in 0..5 {
            let order = self.load(&input.order_id).await?;
            if order.status.is_terminal()
                || (order.status == OrderStatus::OnHold && order.open_reservations().next().is_none())
            {
                return Ok(json!({"status": order.status, "compensated": false}));
            }
            let now = self.oms.clock.now();
            // 1. Labels.
            let mut shipment_ops = Vec::new();
            for sh in self.oms.store.shipments_of_order(&order.id).await? {
                if sh.status == ShipmentStatus::Cancelled {
                    continue;
                }
                if let Some(label) = &sh.label_id {
                    self.carrier.void_label(label).await?;
                }
                let mut s = sh.clone();
                s.status = ShipmentStatus::Cancelled;
                s.updated_at = now;
                shipment_ops.push(self.oms.store.put_plain(&shipment_item(&s))?);
            }
            // 2. Authorization.
            if let Some(auth) = &order.payment.authorization_id {
                self.payments.void(auth, &format!("void-{}", order.id)).await?;
            }
            // 3. Stock.
            let mut next = order.clone();
            let mut ops = Vec::new();
            for r in next.reservations.iter_mut() {
                let mv = match r.state {
                    ReservationState::Held => StockMove::ReleaseHold,
                    ReservationState::Allocated => StockMove::ReleaseAllocation,
                    _ => continue,
                };
                ops.push(self.oms.store.stock_move(&r.sku, &r.location_id, mv, r.quantity)?);
                r.state = ReservationState::Released;
            }
            ops.extend(shipment_ops);
            // 4. Status and notification.
            let declined = error_name == StepError::PAYMENT_DECLINED;
            let (event, kind, reason) = if declined {
                (OrderEvent::HoldForReview, "order.payment_declined", format!("payment_declined: {cause}"))
            } else {
                (OrderEvent::Fail, "order.failed", format!("{error_name}: {cause}"))
            };
            next.apply(event, now)?;
            next.version += 1;
            next.status_reason = Some(reason.clone());
            next.payment.authorization_id = None;
            self.notify(&Notification::new(kind, &order.id, Some(reason.clone()))).await?;
            let ev = TimelineEvent::new(now, kind, system("compensate")).with_status(next.status).with_note(reason);
            match self.commit(&order, &next, ops, ev).await {
                Ok(()) => return Ok(json!({"status": next.status, "compensated": true})),
                Err(e) if e.name == StepError::STORE_TRANSIENT => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StepError::new(StepError::STORE_TRANSIENT, "order kept changing during compensation"))
    }

    /// Runs a step by its function name (the crate name under `functions/`). The Lambda
    /// binaries and the local ASL executor both come through here.
    pub async fn dispatch(&self, function: &str, input: Value) -> Result<Value, StepError> {
        let input: StepInput =
            serde_json::from_value(input).map_err(|e| StepError::new(StepError::INVALID_INPUT, e.to_string()))?;
        let res = match function {
            "validate-order" => Box::pin(self.validate(&input)).await,
            "allocate-order" => Box::pin(self.allocate(&input)).await,
            "authorize-payment" => Box::pin(self.authorize_payment(&input)).await,
            "create-labels" => Box::pin(self.create_labels(&input)).await,
            "compensate-order" => Box::pin(self.compensate(&input)).await,
            other => Err(StepError::new(StepError::INTERNAL, format!("unknown step function {other}"))),
        };
        match &res {
            Ok(_) => tracing::info!(order_id = %input.order_id, step = function, "step done"),
            Err(e) => tracing::warn!(order_id = %input.order_id, step = function, error = e.name, "step failed"),
        }
        res
    }

    /// The step functions `dispatch` knows.
    pub const STEP_FUNCTIONS: [&'static str; 5] =
        ["validate-order", "allocate-order", "authorize-payment", "create-labels", "compensate-order"];
}

impl From<IllegalTransition> for StepError {
    fn from(e: IllegalTransition) -> Self {
        StepError::new(StepError::ORDER_NOT_ACTIVE, e.to_string())
    }
}
