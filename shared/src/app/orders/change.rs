//! Changes to a placed order by its customer or an agent: cancel, edit, release a hold. Each
//! loads the order with its version, computes the change, and commits it through the one write
//! path; mails and payment voids follow the commit as effects.

use super::super::projections::OrderProjection;
use super::super::{AppError, Caller, Oms};
use super::refusals::{exchange_order, handed_over, warranty_order};
use super::{DeliveryChoice, EditOrderRequest, current_choice, delivery_choice, line_requests, parse_address};
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
/// captured and not refunded is refunded, the authorization is voided; both are recorded in
/// the order's ledger by the same write.
fn payment_undo(next: &mut Order, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<Effect>, AppError> {
    let Some(auth) = next.payment.authorization_id.clone() else { return Ok(vec![]) };
    let mut out = Vec::new();
    let currency = next.totals.total.currency();
    let refundable = next.payment.refundable();
    if refundable > 0 {
        let amount = Money::new(refundable, currency).map_err(|e| AppError::Internal(e.to_string()))?;
        let key = format!("cancel-refund-{}", next.id);
        next.payment.refund(amount, &key, now).map_err(|e| AppError::Internal(e.to_string()))?;
        out.push(Effect::Refund { authorization_id: auth.clone(), amount, idempotency_key: key.clone() });
        out.push(Effect::credit_note(&next.id, &key));
    }
    let key = format!("void-{}", next.id);
    next.payment.record(LedgerKind::Voided, Money::zero(currency), &key, now);
    out.push(Effect::VoidAuthorization { authorization_id: auth, idempotency_key: key });
    Ok(out)
}

/// Cancels every shipment not yet cancelled (at the version read, so a carrier scan accepted
/// meanwhile refuses the change) and voids its label after the commit.
fn cancel_shipments(change: &mut OrderChange, shipments: &[Shipment], now: chrono::DateTime<chrono::Utc>) {
    for sh in shipments.iter().filter(|s| s.status != ShipmentStatus::Cancelled) {
        let mut c = sh.clone();
        c.status = ShipmentStatus::Cancelled;
        c.version = sh.version + 1;
        c.updated_at = now;
        change.shipments.push(Write::Update { value: c, expected_version: sh.version });
        if let Some(label_id) = &sh.label_id {
            change.effects.push(Effect::VoidLabel { label_id: label_id.clone() });
        }
    }
}

impl Oms {
    /// Cancels an order that has not shipped: holds and allocations go back to available, any
    /// payment authorization is voided (after the commit). Cancelling a cancelled order returns
    /// it unchanged.
    pub async fn cancel_order(
        &self,
        caller: &Caller,
        id: &OrderId,
        actor: Actor,
        reason: Option<String>,
    ) -> Result<OrderProjection, AppError> {
        self.cancel_order_at(caller, id, actor, reason, None).await
    }

    /// A cancel guarded by the version the caller read (`If-Match`), when it sends one.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn cancel_order_at(
        &self,
        caller: &Caller,
        id: &OrderId,
        actor: Actor,
        reason: Option<String>,
        if_match: Option<u64>,
    ) -> Result<OrderProjection, AppError> {
        for _ in 0..5 {
            let order = self.owned_order(caller, id).await?;
            if if_match.is_some_and(|v| v != order.version) {
                return Err(AppError::StaleVersion);
            }
            // Staff using the customer's route appear as themselves on the timeline.
            let actor = match &actor {
                Actor::Customer(_) => caller.actor_on(&order.customer),
                other => other.clone(),
            };
            if order.status == OrderStatus::Cancelled {
                return self.get_order(caller, id).await;
            }
            let shipments = self.store.shipments_of_order(id).await?;
            if shipments.iter().any(Shipment::is_handed_over) {
                return Err(handed_over(id));
            }
            if !order.status.is_cancellable() {
                return Err(AppError::InvalidState { status: order.status, action: "cancelled" });
            }
            let now = self.clock.now();
            let mut next = order.clone();
            next.apply(OrderEvent::Cancel, now)?;
            next.status_reason = reason.clone();
            let moves = release_reservations(&mut next);
            let uses = crate::domain::promotion::release_uses(&mut next);
            let slots = crate::domain::service::cancel_scheduled(&mut next, now);
            let undo = payment_undo(&mut next, now)?;
            let mut ev = TimelineEvent::new(now, "order.cancelled", actor.clone()).with_status(OrderStatus::Cancelled);
            if let Some(r) = &reason {
                ev = ev.with_note(r.clone());
            }
            let mut change = OrderChange::update(next, order.version, now)
                .with_event(ev)
                .with_effect(Effect::notify(Notification::new("order.cancelled", &order.id, reason.clone())));
            change.stock = moves;
            cancel_shipments(&mut change, &shipments, now);
            change.effects.extend(undo);
            // A replacement's exchange credit goes back to the original payment.
            change.effects.extend(Effect::credit_back(&order));
            change.company = self.release_credit(&order, now).await?;
            change.promotion_uses = uses;
            change.slot_bookings = slots;
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
    ) -> Result<OrderProjection, AppError> {
        // The body is checked before anything is read: a bad field is a 400 whatever the order.
        if req.lines.is_none()
            && req.shipping_address.is_none()
            && req.service_level.is_none()
            && req.delivery_option_id.is_none()
        {
            return Err(AppError::invalid_field(
                "lines",
                "nothing to change: give lines, shippingAddress, serviceLevel or deliveryOptionId",
            ));
        }
        let new_address = req.shipping_address.as_ref().map(|a| parse_address("shippingAddress", a)).transpose()?;
        if req.version == Some(0) {
            return Err(AppError::invalid_field("version", "versions start at 1"));
        }
        if let (Some(h), Some(b)) = (if_match, req.version)
            && h != b
        {
            // One of them is stale whichever the order is at: a failed precondition.
            return Err(AppError::StaleVersion);
        }
        let expected = if_match.or(req.version).ok_or(AppError::VersionRequired)?;
        let order = self.owned_order(caller, id).await?;
        if order.version != expected {
            return Err(AppError::StaleVersion);
        }
        // The marketplace took the money for what was ordered there: changes go through it.
        if matches!(order.payment.method, PaymentMethod::Terms(_)) {
            return Err(AppError::Conflict {
                kind: "account-order",
                detail: format!("order {id} is on a company account: cancel it and order again"),
            });
        }
        if matches!(order.payment.method, PaymentMethod::Marketplace(_)) {
            return Err(AppError::Conflict {
                kind: "marketplace-order",
                detail: format!("order {id} was bought on a marketplace: change it there (it sends the change)"),
            });
        }
        // A replacement's lines are its exchange's (paid with credit); its address may change.
        if let (Some(rma), Some(l)) = (&order.exchange_for, &req.lines)
            && !l.is_empty()
        {
            return Err(exchange_order(id, rma));
        }
        // Placed with credit and no return behind it: a warranty replacement.
        let warranty = order.exchange_for.is_none() && order.credit.is_some();
        if warranty && req.lines.as_ref().is_some_and(|l| !l.is_empty()) {
            return Err(warranty_order(id));
        }
        if !order.status.is_editable() {
            if order.status.is_terminal() {
                return Err(AppError::InvalidState { status: order.status, action: "edited" });
            }
            return Err(handed_over(id));
        }
        let address = new_address.unwrap_or_else(|| order.shipping_address.clone());
        let requests: Vec<LineRequest> = match &req.lines {
            Some(l) => l.clone(),
            None => line_requests(&order)?,
        };
        let choice = delivery_choice(&req.service_level, &req.delivery_option_id, current_choice(&order))?;
        let shipments = self.store.shipments_of_order(id).await?;
        if shipments.iter().any(Shipment::is_handed_over) {
            return Err(handed_over(id));
        }
        // An edit is decided again (sourcing, a confirmation call, scoring on a restart) by the
        // rules in force: the order records that version from now on.
        let rules = self.store.current_rules().await?;
        let mut prepared =
            self.prepare(&requests, &address, &choice, &order.reservations, order.channel, &rules.set).await?;
        let keep = std::mem::take(&mut prepared.keep);
        if let Some(rma) = &order.exchange_for {
            // Free to ship, at the total the credit was used against (a new tax is refused).
            prepared.delivery.cost = Money::zero(prepared.totals.total.currency());
            prepared.totals = crate::domain::pricing::totals(&prepared.lines, prepared.delivery.cost)
                .map_err(super::pricing_error)?;
            if prepared.totals.total != order.totals.total {
                return Err(exchange_order(id, rma));
            }
        }
        if warranty && prepared.totals.total != order.totals.total {
            return Err(warranty_order(id));
        }
        let now = self.clock.now();
        let mut next = order.clone();
        // Every unit the order holds or has allocated goes back; the new plan is held anew. The
        // store nets both into one update per stock item.
        let mut moves = release_reservations(&mut next);
        next.lines = prepared.lines;
        if address != order.shipping_address {
            next.former_addresses.push(order.shipping_address.clone());
        }
        next.shipping_address = address;
        next.delivery = prepared.delivery;
        next.totals = prepared.totals;
        next.reservations = prepared.reservations;
        next.rules_version = Some(rules.version);
        let given_back = self.rediscount(&order, &mut next).await?;
        moves.extend(next.reservations.iter().map(|r| StockMovement::of_reservation(r, StockMove::Hold)));
        let progressed = order.held_from.unwrap_or(order.status);
        // An edit that makes the order one the confirmation rule calls about (and that had no
        // call yet) sends it to wait for the call: fulfillment work is undone as on a restart.
        let called = order.confirmation.as_ref().is_some_and(|c| c.confirmed_at.is_some());
        let call = match order.status {
            OrderStatus::OnHold | OrderStatus::AwaitingConfirmation => None,
            _ if called => None,
            _ => rules.set.confirmation_calls.call_for(&next, false, now),
        };
        let restart = call.is_some()
            || progressed.is_past_validation()
            || order.payment.authorization_id.is_some()
            || shipments.iter().any(|s| s.status != ShipmentStatus::Cancelled);
        let mut void = None;
        if restart {
            // Allocation, payment and labels were for the old lines: undone, and the workflow
            // runs again (at once, or when an agent releases the hold).
            if let Some(auth) = next.payment.authorization_id.take() {
                let key = format!("void-{}-v{}", order.id, order.version);
                next.payment.record(LedgerKind::Voided, Money::zero(next.totals.total.currency()), &key, now);
                void = Some(Effect::VoidAuthorization { authorization_id: auth, idempotency_key: key });
            }
            if next.status == OrderStatus::OnHold {
                next.held_from = Some(OrderStatus::Placed);
            } else if let Some(c) = call {
                next.apply(OrderEvent::RequireCall, now)?;
                next.status_reason = Some(format!("confirmation call: {}", c.reason));
                next.confirmation = Some(c);
            } else {
                next.apply(OrderEvent::Restart, now)?;
            }
        }
        let actor = caller.actor_on(&order.customer);
        let mut ev = TimelineEvent::new(now, "order.edited", actor).with_note(format!(
            "{} lines, total {}",
            next.lines.len(),
            next.totals.total
        ));
        if restart {
            ev = ev.with_status(next.status);
        }
        let moved = next.shipping_address != order.shipping_address;
        let (slots, dropped) = crate::domain::service::after_edit(&mut next, moved, now);
        let mut change = OrderChange::update(next, order.version, now).with_event(ev);
        if !dropped.is_empty() {
            let ev = TimelineEvent::new(now, "service.cancelled", caller.actor_on(&order.customer))
                .with_note(format!("{}: the edit changed the service lines or the address", dropped.join(", ")));
            change = change.with_event(ev);
        }
        change.slot_bookings = slots;
        change.stock = moves;
        change = change.keeping(&keep);
        change.promotion_uses = given_back;
        if restart {
            cancel_shipments(&mut change, &shipments, now);
        }
        change.effects.extend(void);
        self.store.commit(&change).await.map_err(out_of_stock)?;
        self.get_order(caller, id).await
    }

    /// Releases a held order (agent action): holds are re-established if compensation released
    /// them, and the order re-enters the workflow (the table stream sees it return to `placed`).
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn release_hold(&self, caller: &Caller, id: &OrderId) -> Result<OrderProjection, AppError> {
        let order = self.owned_order(caller, id).await?;
        if order.status != OrderStatus::OnHold {
            return Err(AppError::InvalidState { status: order.status, action: "released from hold" });
        }
        let now = self.clock.now();
        let mut next = order.clone();
        let mut holds = Vec::new();
        let mut keep = Default::default();
        match order.held_from {
            // The hold interrupted the workflow and undid nothing: it resumes there, and no
            // completed step runs again.
            Some(at) if order.open_reservations().next().is_some() => {
                next.apply(OrderEvent::Resume(at), now)?;
            }
            _ => {
                if order.open_reservations().next().is_none() {
                    let choice: DeliveryChoice = current_choice(&order);
                    let rules = self.store.current_rules().await?;
                    let prepared = self
                        .prepare(
                            &line_requests(&order)?,
                            &order.shipping_address,
                            &choice,
                            &[],
                            order.channel,
                            &rules.set,
                        )
                        .await?;
                    keep = prepared.keep;
                    next.reservations = prepared.reservations;
                    holds = next.reservations.clone();
                }
                next.apply(OrderEvent::ReleaseHold, now)?;
            }
        }
        next.status_reason = None;
        next.review_cleared = true;
        let ev = TimelineEvent::new(now, "order.hold_released", Actor::Agent(caller.customer.to_string()))
            .with_status(next.status);
        let mut change = OrderChange::update(next, order.version, now).with_event(ev);
        for r in &holds {
            change = change.with_reservation(r, StockMove::Hold);
        }
        let change = change.keeping(&keep);
        self.store.commit(&change).await.map_err(out_of_stock)?;
        self.get_order(caller, id).await
    }

    /// A shipment's label document (PDF), for agents and warehouse staff: from the carrier
    /// (its copy, or rendered again from the same parcel); a document stored by an earlier
    /// version is served from the table.
    pub async fn label_pdf(&self, order: &OrderId, shipment: &ShipmentId) -> Result<Vec<u8>, AppError> {
        use crate::app::fulfillment::{carrier_pdf, shipment_parcel, stored_pdf};
        let sh = self.store.get_shipment(order, shipment).await?.ok_or(AppError::NotFound)?;
        // A cancelled shipment's label was voided: nothing to print.
        if sh.status == ShipmentStatus::Cancelled {
            return Err(AppError::NotFound);
        }
        let (Some(tracking), Some(service)) = (sh.tracking_number.clone(), sh.label_service.clone()) else {
            let doc = self.store.get_label(order, shipment).await?.ok_or(AppError::NotFound)?;
            return stored_pdf(&doc.pdf_base64);
        };
        let o = self.store.get_order(order).await?.ok_or(AppError::NotFound)?;
        let from = self
            .store
            .get_location(&sh.location_id)
            .await?
            .ok_or(AppError::Internal("shipment location missing".into()))?;
        let source = crate::ports::LabelSource {
            carrier: sh.carrier.clone().unwrap_or_else(|| self.carrier.name().to_owned()),
            parcel: shipment_parcel(&o, &sh, &from, 1),
            tracking_number: tracking,
            service,
            document_url: sh.label_url.clone(),
        };
        carrier_pdf(self.carrier.as_ref(), &source).await
    }
}
