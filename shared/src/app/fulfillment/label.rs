//! Labels: per shipment, the cheapest rate that meets the promised date. Labels are bought
//! first (keyed by shipment, so a retry buys nothing new), then one commit records them with
//! the shipments and the order; if the order moved on meanwhile, the labels are voided. The
//! documents are not stored: the carrier keeps them (or renders them again) on request.

use super::{Fulfillment, StepError, StepInput, business_days_between, system};
use crate::app::AppError;
use crate::domain::*;
use crate::ports::{Carrier, Label, LabelSource, Parcel};
use base64::Engine;
use serde_json::{Value, json};

/// A label's PDF from the carrier (its copy, or rendered again from the same parcel).
pub async fn carrier_pdf(carrier: &dyn Carrier, source: &LabelSource) -> Result<Vec<u8>, AppError> {
    carrier.label_document(source).await.map_err(|e| AppError::Unavailable(e.to_string()))
}

/// A label's PDF as an earlier version stored it in the table (base64).
pub fn stored_pdf(pdf_base64: &str) -> Result<Vec<u8>, AppError> {
    base64::engine::general_purpose::STANDARD.decode(pdf_base64).map_err(|e| AppError::Internal(e.to_string()))
}

/// The parcel a shipment's label is bought for (and rendered again from): as packed when it
/// was, else `weight` from the catalog.
pub fn shipment_parcel(order: &Order, sh: &Shipment, from: &Location, weight: u32) -> Parcel {
    Parcel {
        shipment_id: sh.id.clone(),
        from: from.postal_address(from.name.clone()).for_label(),
        to: order.shipping_address.for_label(),
        weight_grams: sh.parcel.as_ref().map_or(weight, |p| p.weight_grams).max(1),
        dimensions_mm: sh.parcel.as_ref().map(|p| [p.length_mm, p.width_mm, p.height_mm]),
        reference: format!("order {} shipment {}", order.id, sh.id),
    }
}

/// What the label step answers while parcels wait to be packed (the run ends there; packing
/// the last parcel buys the labels).
pub const AWAITING_PACK: &str = "awaiting_pack";

impl Fulfillment {
    /// Parcels at locations that pack with the OMS are labelled once packed: the unpacked ones
    /// go on their location's pick list (`picking`, committed once) and the step waits.
    async fn awaiting_pack(&self, order: &Order, shipments: &[Shipment]) -> Result<bool, StepError> {
        let mut release = Vec::new();
        let mut waiting = false;
        for sh in shipments.iter().filter(|s| {
            s.service_level != ServiceLevel::Pickup
                && s.status != ShipmentStatus::Cancelled
                && s.tracking_number.is_none()
                && s.parcel.is_none()
        }) {
            let packs = self.oms.store.get_location(&sh.location_id).await?.is_some_and(|l| l.packing);
            if packs {
                waiting = true;
                if sh.status == ShipmentStatus::Pending {
                    release.push(sh);
                }
            }
        }
        if release.is_empty() {
            return Ok(waiting);
        }
        let now = self.oms.clock.now();
        let at: Vec<String> = release.iter().map(|s| s.location_id.to_string()).collect();
        let ev = TimelineEvent::new(now, "shipment.picking", system("create-labels"))
            .with_status(order.status)
            .with_note(format!("on the pick list at {}", at.join(", ")));
        let mut change = OrderChange::update(order.clone(), order.version, now).with_event(ev);
        for sh in release {
            let mut next = sh.clone();
            next.status = ShipmentStatus::Picking;
            next.version = sh.version + 1;
            next.updated_at = now;
            change.shipments.push(Write::Update { value: next, expected_version: sh.version });
        }
        self.commit(&change).await?;
        tracing::info!("parcels released for picking");
        Ok(true)
    }

    /// A store order paid at the till: collected as soon as it is staged (stock out of the
    /// store, payment captured, the receipt mail), as staff would with the code.
    async fn take_away(&self, order: &Order) -> Result<Value, StepError> {
        let code = order.pickup.as_ref().map(|p| p.code.clone()).unwrap_or_default();
        let till =
            crate::app::orders::system_caller().map_err(|e| StepError::new(StepError::INTERNAL, e.to_string()))?;
        match self.oms.collect_pickup(&till, &order.id, crate::app::orders::CollectRequest { code }).await {
            Ok(_) => Ok(json!({"outcome": "taken_away"})),
            Err(AppError::InvalidState { .. }) => Err(Self::not_active(order)),
            Err(e) => Err(StepError::new(StepError::STORE_TRANSIENT, e.to_string())),
        }
    }

    async fn buy_label(&self, order: &Order, sh: &Shipment, weight: u32) -> Result<(Shipment, Label), StepError> {
        let now = self.oms.clock.now();
        let from = self
            .oms
            .store
            .get_location(&sh.location_id)
            .await?
            .ok_or_else(|| StepError::new(StepError::INTERNAL, "shipment location missing"))?;
        let parcel = shipment_parcel(order, sh, &from, weight);
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
        let mut updated = sh.clone();
        // Rates of every configured carrier were shopped: the label's carrier tracks it.
        updated.carrier = Some(label.carrier.clone());
        updated.tracking_number = Some(label.tracking_number.clone());
        updated.label_id = Some(label.id.clone());
        updated.label_service = Some(label.service.clone());
        updated.label_url = label.document_url.clone();
        updated.status = ShipmentStatus::LabelCreated;
        updated.estimated_delivery = Some(sourcing::add_business_days(now.date_naive(), label.estimated_delivery_days));
        updated.version = sh.version + 1;
        updated.updated_at = now;
        Ok((updated, label))
    }

    #[tracing::instrument(skip_all, fields(order_id = %input.order_id))]
    pub async fn create_labels(&self, input: &StepInput) -> Result<Value, StepError> {
        let order = self.load(&input.order_id).await?;
        match order.status {
            OrderStatus::PaymentAuthorized => {}
            s if s.is_terminal()
                || !matches!(
                    s,
                    OrderStatus::ReadyToShip
                        | OrderStatus::ReadyForPickup
                        | OrderStatus::PartiallyShipped
                        | OrderStatus::Shipped
                        | OrderStatus::Delivered
                        | OrderStatus::Completed
                ) =>
            {
                return Err(Self::not_active(&order));
            }
            // A take-away order staged at the store (an earlier try of this step): hand it over.
            OrderStatus::ReadyForPickup if order.delivery.take_away => return self.take_away(&order).await,
            _ => return Ok(json!({"outcome": "labelled", "labels": "done"})),
        }
        let now = self.oms.clock.now();
        let shipments = self.oms.store.shipments_of_order(&order.id).await?;
        if order.delivery.pickup_location.is_none() && self.awaiting_pack(&order, &shipments).await? {
            return Ok(json!({"outcome": AWAITING_PACK}));
        }
        let catalog =
            self.oms.store.get_products(&order.lines.iter().map(|l| l.sku.clone()).collect::<Vec<_>>()).await?;
        let mut tracking = Vec::new();
        let mut bought: Vec<(Shipment, Shipment, Label)> = Vec::new();
        // Shipments an edit cancelled stay cancelled: only the live ones get labels.
        for sh in shipments
            .iter()
            .filter(|s| s.service_level != ServiceLevel::Pickup && s.status != ShipmentStatus::Cancelled)
        {
            if let Some(t) = &sh.tracking_number {
                tracking.push(t.clone());
                continue;
            }
            let weight: u32 =
                sh.lines.iter().map(|l| catalog.get(&l.sku).map(|p| p.weight_grams).unwrap_or(500) * l.quantity).sum();
            let (updated, label) = self.buy_label(&order, sh, weight).await?;
            tracking.push(label.tracking_number.clone());
            bought.push((sh.clone(), updated, label));
        }
        let mut next = order.clone();
        let mut change = if let Some(store) = order.delivery.pickup_location.clone() {
            // A pickup order: no label; the goods wait at the store with a code for the
            // customer, who is told (the mail carries the code) and reminded before expiry.
            next.apply(OrderEvent::StageForPickup, now)?;
            // Staged again after an edit: the customer keeps the code they were sent.
            let mut hold = PickupHold::new(now, self.oms.pickup_hold_days);
            if let Some(before) = &order.pickup {
                hold.code = before.code.clone();
            }
            let ready = hold.ready_at.timestamp_millis();
            let ev = TimelineEvent::new(now, "order.ready_for_pickup", system("create-labels"))
                .with_status(next.status)
                .with_note(format!("at {store}, kept until {}", hold.expires_at.format("%Y-%m-%d %H:%M UTC")));
            next.pickup = Some(hold);
            let mut c = OrderChange::update(next, order.version, now).with_event(ev);
            // A take-away order is handed over at the till right after: no pickup mail.
            if !order.delivery.take_away {
                let n = Notification::new("order.ready_for_pickup", &order.id, None);
                let key = format!("order.ready_for_pickup#{}#{ready}", order.id);
                c.effects.push(Effect::notify(n.with_dedupe_key(key)));
            }
            c
        } else {
            next.apply(OrderEvent::LabelsCreated, now)?;
            let ev = TimelineEvent::new(now, "labels.created", system("create-labels"))
                .with_status(next.status)
                .with_note(format!("tracking {}", tracking.join(", ")));
            OrderChange::update(next, order.version, now).with_event(ev)
        };
        for (before, updated, _) in &bought {
            change.shipments.push(Write::Update { value: updated.clone(), expected_version: before.version });
        }
        match self.commit(&change).await {
            Ok(()) if order.delivery.take_away && order.delivery.pickup_location.is_some() => {
                let staged = self.load(&order.id).await?;
                self.take_away(&staged).await
            }
            Ok(()) => Ok(json!({"outcome": "labelled", "trackingNumbers": tracking})),
            Err(e) if e.name == StepError::STORE_TRANSIENT => {
                let now_order = self.load(&order.id).await?;
                if now_order.status != OrderStatus::PaymentAuthorized {
                    // The order moved on (held, cancelled): void the labels bought here, unless
                    // a concurrent run of this step committed the same ones (labels are keyed
                    // per shipment) and the shipments now carry them.
                    let kept: Vec<String> = self
                        .oms
                        .store
                        .shipments_of_order(&order.id)
                        .await?
                        .into_iter()
                        .filter(|s| s.status != ShipmentStatus::Cancelled)
                        .filter_map(|s| s.label_id)
                        .collect();
                    for (_, _, label) in bought.iter().filter(|(_, _, l)| !kept.contains(&l.id)) {
                        self.carrier.void_label(&label.id).await?;
                    }
                    if now_order.status == OrderStatus::ReadyToShip {
                        return Ok(json!({"outcome": "labelled"}));
                    }
                    return Err(Self::not_active(&now_order));
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}
