//! Changes to a placed order by its customer or an agent: cancel, edit, release a hold. Each
//! loads the order with its version, computes the change, and commits it through the one write
//! path; mails and payment voids follow the commit as effects.

use super::super::views::OrderDto;
use super::super::{AppError, Caller, Oms};
use super::{
    DeliveryChoice, EditOrderRequest, current_choice, delivery_choice, held_reservations, hold_moves, line_requests,
    parse_address,
};
use crate::domain::change::release_reservations;
use crate::domain::pricing::LineRequest;
use crate::domain::*;
use crate::ports::StoreError;

/// A shortage reported by the store (stock moved between read and write), as the API says it.
fn out_of_stock(e: StoreError) -> AppError {
    match e {
        StoreError::OutOfStock(short) => AppError::OutOfStock(
            short.into_iter().map(|(sku, _)| sourcing::Shortage { sku, requested: 0, available: 0 }).collect(),
        ),
        other => other.into(),
    }
}

/// What cancelling must undo with the payment provider once the cancel has committed: money
/// captured is refunded, what is only authorized is voided.
fn payment_undo(order: &Order) -> Result<Vec<Effect>, AppError> {
    let Some(auth) = &order.payment.authorization_id else { return Ok(vec![]) };
    let mut out = Vec::new();
    let captured = order.payment.captured.map(|m| m.amount()).unwrap_or(0)
        - order.payment.refunded.map(|m| m.amount()).unwrap_or(0);
    if captured > 0 {
        let amount =
            Money::new(captured, order.totals.total.currency()).map_err(|e| AppError::Internal(e.to_string()))?;
        out.push(Effect::Refund {
            authorization_id: auth.clone(),
            amount,
            idempotency_key: format!("cancel-refund-{}", order.id),
        });
    }
    out.push(Effect::VoidAuthorization {
        authorization_id: auth.clone(),
        idempotency_key: format!("void-{}", order.id),
    });
    Ok(out)
}

impl Oms {
    /// Cancels an order that has not shipped: holds and allocations go back to available, any
    /// payment authorization is voided (after the commit). Cancelling a cancelled order returns
    /// it unchanged.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn cancel_order(
        &self,
        caller: &Caller,
        id: &OrderId,
        actor: Actor,
        reason: Option<String>,
    ) -> Result<OrderDto, AppError> {
        for _ in 0..5 {
            let order = self.owned_order(caller, id).await?;
            if order.status == OrderStatus::Cancelled {
                return self.get_order(caller, id).await;
            }
            if !order.status.is_cancellable() {
                return Err(AppError::InvalidState { status: order.status, action: "cancelled" });
            }
            let now = self.clock.now();
            let mut next = order.clone();
            next.apply(OrderEvent::Cancel, now)?;
            next.status_reason = reason.clone();
            let moves = release_reservations(&mut next);
            let mut ev = TimelineEvent::new(now, "order.cancelled", actor.clone()).with_status(OrderStatus::Cancelled);
            if let Some(r) = &reason {
                ev = ev.with_note(r.clone());
            }
            let mut change = OrderChange::update(next, order.version, now)
                .with_event(ev)
                .with_effect(Effect::notify(Notification::new("order.cancelled", &order.id, reason.clone())));
            change.stock = moves;
            change.effects.extend(payment_undo(&order)?);
            match self.store.commit(&change).await {
                Ok(()) => {
                    tracing::info!("order cancelled");
                    return self.get_order(caller, id).await;
                }
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }

    /// Changes lines, quantities, address or delivery before the order is released to the
    /// warehouse: re-priced, holds adjusted by their difference, all in one commit guarded by
    /// the version the caller read.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn edit_order(
        &self,
        caller: &Caller,
        id: &OrderId,
        if_match: Option<u64>,
        req: EditOrderRequest,
    ) -> Result<OrderDto, AppError> {
        let expected = if_match.or(req.version).ok_or(AppError::VersionRequired)?;
        let order = self.owned_order(caller, id).await?;
        if order.version != expected {
            return Err(AppError::StaleVersion);
        }
        if !order.status.is_editable() {
            return Err(AppError::InvalidState { status: order.status, action: "edited" });
        }
        if req.lines.is_none()
            && req.shipping_address.is_none()
            && req.service_level.is_none()
            && req.delivery_option_id.is_none()
        {
            return Err(AppError::invalid(
                "nothing to change: give lines, shippingAddress, serviceLevel or deliveryOptionId",
            ));
        }
        let address = match &req.shipping_address {
            Some(a) => parse_address("shippingAddress", a)?,
            None => order.shipping_address.clone(),
        };
        let requests: Vec<LineRequest> = match &req.lines {
            Some(l) => l.clone(),
            None => line_requests(&order)?,
        };
        let choice = delivery_choice(&req.service_level, &req.delivery_option_id, current_choice(&order))?;
        let prepared = self.prepare(&requests, &address, &choice, &order.reservations).await?;
        let now = self.clock.now();
        let mut next = order.clone();
        next.lines = prepared.lines;
        next.shipping_address = address;
        next.delivery = prepared.delivery;
        next.totals = prepared.totals;
        next.reservations = held_reservations(&prepared.plan);
        let old = order.open_reservations().map(|r| (r.sku.clone(), r.location_id.clone(), -i64::from(r.quantity)));
        let new = next.reservations.iter().map(|r| (r.sku.clone(), r.location_id.clone(), i64::from(r.quantity)));
        let deltas = hold_moves(old.chain(new));
        let ev = TimelineEvent::new(now, "order.edited", Actor::Customer(caller.customer.to_string()))
            .with_note(format!("{} lines, total {}", next.lines.len(), next.totals.total));
        let mut change = OrderChange::update(next, order.version, now).with_event(ev);
        for ((s, l), d) in &deltas {
            let q = u32::try_from(d.unsigned_abs()).unwrap_or(u32::MAX);
            match d.cmp(&0) {
                std::cmp::Ordering::Greater => change = change.with_stock(s, l, StockMove::Hold, q),
                std::cmp::Ordering::Less => change = change.with_stock(s, l, StockMove::ReleaseHold, q),
                std::cmp::Ordering::Equal => {}
            }
        }
        self.store.commit(&change).await.map_err(out_of_stock)?;
        self.get_order(caller, id).await
    }

    /// Releases a held order (agent action): holds are re-established if compensation released
    /// them, and the order re-enters the workflow (the table stream sees it return to `placed`).
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn release_hold(&self, caller: &Caller, id: &OrderId) -> Result<OrderDto, AppError> {
        let order = self.owned_order(caller, id).await?;
        if order.status != OrderStatus::OnHold {
            return Err(AppError::InvalidState { status: order.status, action: "released from hold" });
        }
        let now = self.clock.now();
        let mut next = order.clone();
        let mut holds = Vec::new();
        if order.open_reservations().next().is_none() {
            let choice: DeliveryChoice = current_choice(&order);
            let prepared = self.prepare(&line_requests(&order)?, &order.shipping_address, &choice, &[]).await?;
            next.reservations = held_reservations(&prepared.plan);
            holds = next.reservations.clone();
        }
        next.apply(OrderEvent::ReleaseHold, now)?;
        next.status_reason = None;
        next.review_cleared = true;
        let ev = TimelineEvent::new(now, "order.hold_released", Actor::Agent(caller.customer.to_string()))
            .with_status(next.status);
        let mut change = OrderChange::update(next, order.version, now).with_event(ev);
        for r in &holds {
            change = change.with_stock(&r.sku, &r.location_id, StockMove::Hold, r.quantity);
        }
        self.store.commit(&change).await.map_err(out_of_stock)?;
        self.get_order(caller, id).await
    }

    /// A shipment's label document (PDF), for agents and warehouse staff.
    pub async fn label_pdf(&self, order: &OrderId, shipment: &ShipmentId) -> Result<Vec<u8>, AppError> {
        use base64::Engine;
        let doc = self.store.get_label(order, shipment).await?.ok_or(AppError::NotFound)?;
        base64::engine::general_purpose::STANDARD.decode(doc.pdf_base64).map_err(|e| AppError::Internal(e.to_string()))
    }
}
