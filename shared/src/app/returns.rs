//! Returns, exchanges and refunds. An RMA is issued only for delivered, returnable units within
//! the return window; it carries a return label bought through the carrier port. Receiving
//! restocks resellable units at the location they came from, writes off damaged ones, and
//! refunds each line's share of price and tax exactly once per receipt, even when retried. An
//! exchange places a replacement order through the normal workflow, credited with the returned
//! goods' value; any excess credit is refunded.

use super::fulfillment::Notification;
use super::orders::{Extras, PlaceOrderRequest};
use super::{AppError, Caller, Oms};
use crate::adapters::dynamo::StoreError;
use crate::adapters::dynamo::store::{
    ReturnLabelDoc, StockMove, order_item, return_label_item, rma_item, timeline_item,
};
use crate::domain::pricing::LineRequest;
use crate::domain::returns::*;
use crate::domain::*;
use crate::ports::{Carrier, Parcel, PaymentError, PaymentGateway, Queue};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenReturnRequest {
    pub lines: Vec<ReturnRequestLine>,
    pub resolution: Resolution,
    #[serde(default)]
    pub exchange_lines: Vec<LineRequest>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReceiveLine {
    pub line_id: String,
    pub quantity: u32,
    pub condition: Condition,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReceiveRequest {
    pub lines: Vec<ReceiveLine>,
}

#[derive(Clone)]
pub struct Returns {
    pub oms: Oms,
    pub carrier: Arc<dyn Carrier>,
    pub payments: Arc<dyn PaymentGateway>,
    pub notifications: Arc<dyn Queue>,
    /// Link to the printable label, `{order}` and `{rma}` replaced.
    pub label_url: String,
}

fn ineligible(e: ReturnError) -> AppError {
    let kind = match &e {
        ReturnError::UnknownLine(_) => "unknown-line",
        ReturnError::NotDelivered(_) => "not-delivered",
        ReturnError::WindowClosed(_) => "return-window-closed",
        ReturnError::TooMany { .. } => "return-quantity-exceeded",
        ReturnError::NotReturnable(_) => "not-returnable",
        ReturnError::Empty => "invalid-return",
        ReturnError::ExchangeLines => "invalid-return",
    };
    AppError::Unprocessable { kind, detail: e.to_string() }
}

fn payment_err(e: PaymentError) -> AppError {
    match e {
        PaymentError::Transient(m) => AppError::Unavailable(m),
        other => AppError::Unprocessable { kind: "refund-refused", detail: other.to_string() },
    }
}

impl Returns {
    async fn notify(&self, n: Notification) -> Result<(), AppError> {
        let body = serde_json::to_string(&n).map_err(|e| AppError::Internal(e.to_string()))?;
        self.notifications.send(&body).await.map_err(AppError::Unavailable)
    }

    /// Opens an RMA with a return label.
    pub async fn open(&self, caller: &Caller, order_id: &OrderId, req: OpenReturnRequest) -> Result<Rma, AppError> {
        let store = &self.oms.store;
        let order = match store.get_order(order_id).await? {
            Some(o) if caller.admin || o.customer == caller.customer => o,
            _ => return Err(AppError::NotFound),
        };
        match (req.resolution, req.exchange_lines.is_empty()) {
            (Resolution::Exchange, true) | (Resolution::Refund, false) => {
                return Err(ineligible(ReturnError::ExchangeLines));
            }
            _ => {}
        }
        if req.lines.len() > 50 || req.exchange_lines.len() > 50 {
            return Err(AppError::invalid_field("lines", "at most 50 lines"));
        }
        let shipments = store.shipments_of_order(order_id).await?;
        let existing = store.returns_of_order(order_id).await?;
        let now = self.oms.clock.now();
        let lines = check_eligibility(&order, &shipments, &existing, &req.lines, now).map_err(ineligible)?;
        if req.resolution == Resolution::Exchange {
            let skus: Vec<Sku> = req.exchange_lines.iter().map(|l| l.sku.clone()).collect();
            let products = store.get_products(&skus).await?;
            crate::domain::pricing::price_lines(&products, &req.exchange_lines, order.shipping_address.country)
                .map_err(|e| AppError::Unprocessable { kind: "invalid-exchange", detail: e.to_string() })?;
        }
        let first_line = &lines[0].line_id;
        let origin = shipments
            .iter()
            .find(|s| s.status == ShipmentStatus::Delivered && s.lines.iter().any(|l| &l.line_id == first_line))
            .ok_or(AppError::Internal("delivered shipment vanished".into()))?;
        let location =
            store.get_location(&origin.location_id).await?.ok_or(AppError::Internal("location vanished".into()))?;
        let id = ReturnId::generate();
        // The parcel goes from the customer back to the location it shipped from.
        let dock = Address {
            name: format!("{} returns", location.name),
            line1: "Returns dock".into(),
            line2: Some(format!("RMA {id}")),
            city: location.name.clone(),
            region: None,
            postal_code: location.postal_code.clone(),
            country: location.country,
            phone: None,
        };
        let catalog = store.get_products(&lines.iter().map(|l| l.sku.clone()).collect::<Vec<_>>()).await?;
        let weight: u32 =
            lines.iter().map(|l| catalog.get(&l.sku).map(|p| p.weight_grams).unwrap_or(500) * l.quantity).sum();
        let parcel = Parcel {
            shipment_id: ShipmentId::generate(),
            from_postal_code: order.shipping_address.postal_code.clone(),
            from_country: order.shipping_address.country,
            to: dock,
            weight_grams: weight.max(1),
            reference: format!("RMA {id} order {}", order.id),
        };
        let carrier_err = |e: crate::ports::CarrierError| AppError::Unavailable(e.to_string());
        let rates = self.carrier.rates(&parcel).await.map_err(carrier_err)?;
        let rate = rates
            .iter()
            .min_by_key(|r| r.cost.amount())
            .cloned()
            .ok_or(AppError::Unavailable("no return rates".into()))?;
        let label = self.carrier.buy_label(&parcel, &rate, &format!("return-label-{id}")).await.map_err(carrier_err)?;
        let rma = Rma {
            id: id.clone(),
            order_id: order.id.clone(),
            customer: order.customer.clone(),
            lines,
            resolution: req.resolution,
            exchange_lines: req.exchange_lines,
            status: ReturnStatus::Issued,
            location_id: origin.location_id.clone(),
            label: Some(ReturnLabel {
                carrier: self.carrier.name().to_owned(),
                tracking_number: label.tracking_number.clone(),
                label_id: label.id.clone(),
            }),
            exchange_order_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let doc = ReturnLabelDoc { pdf_base64: base64::engine::general_purpose::STANDARD.encode(&label.pdf) };
        let actor = if caller.admin {
            Actor::Agent(caller.customer.to_string())
        } else {
            Actor::Customer(caller.customer.to_string())
        };
        let mut next = order.clone();
        if matches!(order.status, OrderStatus::Delivered | OrderStatus::Completed | OrderStatus::PartiallyReturned) {
            next.apply(OrderEvent::RequestReturn, now)?;
        }
        next.version += 1;
        let ev = TimelineEvent::new(now, "return.requested", actor).with_status(next.status).with_note(format!(
            "{id}: {} unit(s), {:?}",
            rma.lines.iter().map(|l| l.quantity).sum::<u32>(),
            rma.resolution
        ));
        let url = self.label_url.replace("{order}", order.id.as_str()).replace("{rma}", id.as_str());
        self.notify(Notification {
            dedupe_key: format!("return.issued#{id}"),
            ..Notification::new("return.issued", &order.id, Some(format!("{id} {url}")))
        })
        .await?;
        store
            .transact(vec![
                store.put_new(&rma_item(&rma))?,
                store.put_plain(&return_label_item(&order.id, &id, &doc))?,
                store.put_versioned(&order_item(&next), order.version)?,
                store.put_new(&timeline_item(&order.id, &ev))?,
            ])
            .await?;
        tracing::info!(order_id = %order.id, rma = %id, "return opened");
        Ok(rma)
    }

    pub async fn list(&self, caller: &Caller, order_id: &OrderId) -> Result<Vec<Rma>, AppError> {
        match self.oms.store.get_order(order_id).await? {
            Some(o) if caller.admin || o.customer == caller.customer => {
                Ok(self.oms.store.returns_of_order(order_id).await?)
            }
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn label(&self, caller: &Caller, order_id: &OrderId, rma: &ReturnId) -> Result<Vec<u8>, AppError> {
        let _ = self.list(caller, order_id).await?;
        let doc = self.oms.store.get_return_label(order_id, rma).await?.ok_or(AppError::NotFound)?;
        base64::engine::general_purpose::STANDARD.decode(doc.pdf_base64).map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Receiving and inspection (agents). Retrying the same request changes nothing more.
    pub async fn receive(&self, agent: &Caller, rma_id: &ReturnId, req: ReceiveRequest) -> Result<Rma, AppError> {
        if req.lines.is_empty() || req.lines.iter().any(|l| l.quantity == 0 || l.quantity > Quantity::MAX) {
            return Err(AppError::invalid_field("lines", "each line needs a quantity of 1-99"));
        }
        for _ in 0..5 {
            match self.receive_once(agent, rma_id, &req).await {
                Err(AppError::StaleVersion) => continue,
                other => return other,
            }
        }
        Err(AppError::StaleVersion)
    }

    async fn receive_once(&self, agent: &Caller, rma_id: &ReturnId, req: &ReceiveRequest) -> Result<Rma, AppError> {
        let store = &self.oms.store;
        let rma = store.get_rma(rma_id).await?.ok_or(AppError::NotFound)?;
        let order = store.get_order(&rma.order_id).await?.ok_or(AppError::Internal("order vanished".into()))?;
        let now = self.oms.clock.now();
        let mut next = rma.clone();
        let mut ops = Vec::new();
        let mut events = Vec::new();
        let mut refunded_now = 0i64;
        let currency = order.totals.total.currency();
        for r in &req.lines {
            let line =
                next.lines.iter_mut().find(|l| l.line_id == r.line_id).ok_or_else(|| AppError::Unprocessable {
                    kind: "unknown-line",
                    detail: format!("line {} is not on this return", r.line_id),
                })?;
            let remaining = line.quantity - line.received();
            if remaining == 0 {
                continue; // already received: a retry
            }
            if r.quantity > remaining {
                return Err(AppError::Unprocessable {
                    kind: "return-quantity-exceeded",
                    detail: format!("line {} expects {remaining} more unit(s)", r.line_id),
                });
            }
            match r.condition {
                Condition::Resellable => {
                    line.received_resellable += r.quantity;
                    ops.push(store.stock_move(&line.sku, &rma.location_id, StockMove::Restock, r.quantity)?);
                }
                Condition::Damaged => line.received_damaged += r.quantity,
            }
            events.push(
                TimelineEvent::new(now, "return.received", Actor::Agent(agent.customer.to_string())).with_note(
                    format!("{}: {} x {} {:?} at {}", rma.id, r.quantity, line.sku, r.condition, rma.location_id),
                ),
            );
            if rma.resolution == Resolution::Refund {
                let amount =
                    refund_for(&order, &line.line_id, r.quantity).map_err(|e| AppError::Internal(e.to_string()))?;
                if let (Some(auth), true) = (&order.payment.authorization_id, amount.amount() > 0) {
                    let key = format!("refund-{}-{}-{}", rma.id, line.line_id, line.receipts);
                    self.payments.refund(auth, &amount, &key).await.map_err(payment_err)?;
                }
                line.refunded = Some(
                    Money::new(line.refunded.map(|m| m.amount()).unwrap_or(0) + amount.amount(), currency)
                        .map_err(|e| AppError::Internal(e.to_string()))?,
                );
                refunded_now += amount.amount();
            }
            line.receipts += 1;
        }
        if next == rma {
            return Ok(rma);
        }
        next.status = if next.fully_received() { ReturnStatus::Completed } else { ReturnStatus::PartiallyReceived };
        next.version += 1;
        next.updated_at = now;
        let mut o2 = order.clone();
        if refunded_now > 0 {
            let before = order.payment.refunded.map(|m| m.amount()).unwrap_or(0);
            o2.payment.refunded =
                Some(Money::new(before + refunded_now, currency).map_err(|e| AppError::Internal(e.to_string()))?);
            events.push(
                TimelineEvent::new(now, "payment.refunded", Actor::Agent(agent.customer.to_string())).with_note(
                    format!("{} for {}", Money::new(refunded_now, currency).unwrap_or(Money::zero(currency)), rma.id),
                ),
            );
        }
        if next.fully_received() && o2.status == OrderStatus::ReturnRequested {
            // Everything delivered has come back: returned; otherwise partially returned.
            let all_returns = store.returns_of_order(&order.id).await?;
            let returned: u32 = all_returns
                .iter()
                .map(|r| {
                    if r.id == next.id {
                        next.lines.iter().map(|l| l.received()).sum::<u32>()
                    } else {
                        r.lines.iter().map(|l| l.received()).sum()
                    }
                })
                .sum();
            let goods: u32 = order.goods_lines().filter(|l| l.returnable).map(|l| l.quantity).sum();
            let others_open = all_returns.iter().any(|r| r.id != next.id && !r.fully_received());
            if !others_open {
                o2.apply(
                    if returned >= goods { OrderEvent::ReceiveFullReturn } else { OrderEvent::ReceivePartialReturn },
                    now,
                )?;
            }
        }
        o2.version = order.version + 1;
        o2.updated_at = now;
        self.notify(Notification {
            dedupe_key: format!("return.received#{}#{}", rma.id, next.version),
            ..Notification::new("return.received", &order.id, Some(rma.id.to_string()))
        })
        .await?;
        if refunded_now > 0 {
            let detail = Money::new(refunded_now, currency).map(|m| m.to_string()).unwrap_or_default();
            self.notify(Notification {
                dedupe_key: format!("return.refunded#{}#{}", rma.id, next.version),
                ..Notification::new("return.refunded", &order.id, Some(detail))
            })
            .await?;
        }
        let mut tx = vec![
            store.put_versioned(&rma_item(&next), rma.version)?,
            store.put_versioned(&order_item(&o2), order.version)?,
        ];
        for e in &events {
            tx.push(store.put_new(&timeline_item(&order.id, e))?);
        }
        tx.extend(ops);
        store.transact(tx).await.map_err(|e| match e {
            StoreError::StaleVersion | StoreError::Conflict => AppError::StaleVersion,
            other => other.into(),
        })?;
        let mut done = next.clone();
        if done.resolution == Resolution::Exchange && done.fully_received() && done.exchange_order_id.is_none() {
            done = self.exchange(&order, done).await?;
        }
        Ok(done)
    }

    /// Places the replacement order, credited with the returned goods' value; refunds any
    /// credit the replacement does not use.
    async fn exchange(&self, original: &Order, rma: Rma) -> Result<Rma, AppError> {
        let store = &self.oms.store;
        let currency = original.totals.total.currency();
        let credit = rma
            .lines
            .iter()
            .try_fold(0i64, |acc, l| refund_for(original, &l.line_id, l.quantity).map(|m| acc + m.amount()))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let credit = Money::new(credit, currency).map_err(|e| AppError::Internal(e.to_string()))?;
        let a = &original.shipping_address;
        let req = PlaceOrderRequest {
            cart_id: None,
            lines: Some(rma.exchange_lines.clone()),
            shipping_address: AddressInput::from(a),
            billing_address: None,
            email: original.email.to_string(),
            service_level: Some(ServiceLevel::Standard),
            delivery_option_id: None,
            payment_token: original.payment.token.clone(),
            channel: original.channel,
        };
        let customer = Caller { customer: original.customer.clone(), admin: false };
        let (_, body) = self
            .oms
            .place_order_with(
                &customer,
                &format!("exchange-{}", rma.id),
                &format!("exchange-{}", rma.id),
                req,
                Extras { credit: Some(credit), exchange_for: Some(rma.id.clone()) },
            )
            .await?;
        let placed: serde_json::Value = serde_json::from_str(&body).map_err(|e| AppError::Internal(e.to_string()))?;
        let new_id = OrderId::parse(placed["orderId"].as_str().unwrap_or_default())
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let new_total = placed["totals"]["total"]["amount"].as_i64().unwrap_or(0);
        // Credit beyond the replacement's total goes back to the original payment, once.
        let excess = credit.amount() - new_total;
        if excess > 0
            && let Some(auth) = &original.payment.authorization_id
        {
            let m = Money::new(excess, currency).map_err(|e| AppError::Internal(e.to_string()))?;
            self.payments.refund(auth, &m, &format!("exchange-refund-{}", rma.id)).await.map_err(payment_err)?;
        }
        let mut next = rma.clone();
        next.exchange_order_id = Some(new_id.clone());
        next.version += 1;
        let now = self.oms.clock.now();
        let ev = TimelineEvent::new(now, "return.exchange_placed", Actor::System("returns".into())).with_note(format!(
            "{} replaced by order {new_id}; credit {credit}{}",
            rma.id,
            if excess > 0 {
                format!(", refunded {}", Money::new(excess, currency).map(|m| m.to_string()).unwrap_or_default())
            } else {
                String::new()
            }
        ));
        store
            .transact(vec![
                store.put_versioned(&rma_item(&next), rma.version)?,
                store.put_new(&timeline_item(&original.id, &ev))?,
            ])
            .await?;
        Ok(next)
    }
}
