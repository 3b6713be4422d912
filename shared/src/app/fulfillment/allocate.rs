//! Allocation: held units become allocated at their locations; one shipment per location.

use super::{Fulfillment, StepError, StepInput, system};
use crate::domain::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

impl Fulfillment {
    #[tracing::instrument(skip_all, fields(order_id = %input.order_id))]
    pub async fn allocate(&self, input: &StepInput) -> Result<Value, StepError> {
        let order = self.load(&input.order_id).await?;
        let validation = input.validation.as_ref();
        let passed_at = validation.filter(|v| v["outcome"] == "pass").and_then(|v| v["version"].as_u64());
        match order.status {
            OrderStatus::Validated => {}
            // Validated in this run: the pass is recorded with the allocation.
            OrderStatus::Placed => {}
            s if s.is_terminal() || s == OrderStatus::OnHold || s == OrderStatus::Placed => {
                return Err(Self::not_active(&order));
            }
            _ => {
                let ids: Vec<String> = self
                    .oms
                    .store
                    .shipments_of_order(&order.id)
                    .await?
                    .into_iter()
                    .filter(|s| s.status != ShipmentStatus::Cancelled)
                    .map(|s| s.id.to_string())
                    .collect();
                return Ok(json!({"shipments": ids}));
            }
        }
        let now = self.oms.clock.now();
        let mut next = order.clone();
        let mut validated = None;
        if next.status == OrderStatus::Placed {
            // Edited since validation looked at it (or run without it): assessed again here.
            let score = match passed_at {
                Some(v) if v == order.version => validation.and_then(|v| v["score"].as_u64()).unwrap_or(0),
                _ => match self.assess_placed(&order).await? {
                    Some(score) => u64::from(score),
                    None => return Ok(json!({"outcome": "hold"})),
                },
            };
            next.apply(OrderEvent::Validate, now)?;
            validated = Some(
                TimelineEvent::new(now, "order.validated", system("validate"))
                    .with_status(next.status)
                    .with_note(format!("fraud score {score}")),
            );
        }
        next.apply(OrderEvent::Allocate, now)?;
        let mut by_location: BTreeMap<LocationId, Vec<ShipmentLine>> = BTreeMap::new();
        let mut moves = Vec::new();
        for r in next.reservations.iter_mut().filter(|r| r.state == ReservationState::Held) {
            moves.push(StockMovement::of_reservation(r, StockMove::Allocate));
            r.state = ReservationState::Allocated;
            let line_id = order.lines.iter().find(|l| l.sku == r.sku).map(|l| l.line_id.clone()).unwrap_or_default();
            let lines = by_location.entry(r.location_id.clone()).or_default();
            // Units of one SKU held on several stock shards ship as one line.
            match lines.iter_mut().find(|l| l.sku == r.sku) {
                Some(l) => l.quantity += r.quantity,
                None => lines.push(ShipmentLine { line_id, sku: r.sku.clone(), quantity: r.quantity }),
            }
        }
        let level = order.delivery.service_level;
        let shipments: Vec<Shipment> = by_location
            .into_iter()
            .map(|(location_id, lines)| Shipment::pending(&order.id, location_id, lines, level, now))
            .collect();
        let ev =
            TimelineEvent::new(now, "order.allocated", system("allocate")).with_status(next.status).with_note(format!(
                "{} shipment(s) from {}",
                shipments.len(),
                shipments.iter().map(|s| s.location_id.as_str()).collect::<Vec<_>>().join(", ")
            ));
        let ids: Vec<String> = shipments.iter().map(|s| s.id.to_string()).collect();
        let mut change = OrderChange::update(next, order.version, now);
        change.timeline.extend(validated);
        change = change.with_event(ev);
        change.stock = moves;
        change.shipments = shipments.into_iter().map(Write::Create).collect();
        self.commit(&change).await?;
        Ok(json!({"shipments": ids}))
    }
}
