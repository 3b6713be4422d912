//! Warranty claims (`POST /v1/orders/{orderId}/warranty-claims`): after a unit's return window
//! and within its product's warranty, a replacement at no charge or a free repair visit.
//!
//! A replacement is recorded first (the claim, committed on the order: the units are claimed
//! once even when two requests race), then placed as an order through the normal workflow,
//! fully credited, with the claim's id as its idempotency key, then linked to the claim. A
//! retry finds the claim still unlinked and resumes it: the same replacement, never two.

use super::orders::{Extras, PlaceOrderRequest};
use super::visits::service_error;
use super::{AppError, Caller, Oms};
use crate::domain::pricing::LineRequest;
use crate::domain::service::{VisitKind, check_window, new_visit};
use crate::domain::warranty::{Remedy, WarrantyClaim, WarrantyError, check_claim, next_claim_id};
use crate::domain::*;
use crate::ports::StoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WarrantyClaimInput {
    pub line_id: String,
    #[serde(default = "one")]
    pub quantity: u32,
    pub remedy: Remedy,
    pub reason: String,
    /// A repair: the repair service and the window for the visit.
    #[serde(default)]
    pub service_sku: Option<String>,
    #[serde(default)]
    pub slot_id: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimOutcome {
    pub claim: WarrantyClaim,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visit: Option<crate::domain::service::Visit>,
}

fn warranty_error(e: WarrantyError) -> AppError {
    let field = if matches!(e, WarrantyError::TooMany { .. }) { "quantity" } else { "lineId" };
    AppError::UnprocessableField { kind: "warranty-ineligible", detail: e.to_string(), field }
}

fn busy() -> AppError {
    AppError::Conflict { kind: "concurrent-change", detail: "the order is changing under many hands; try again".into() }
}

impl Oms {
    /// `key`: the request's Idempotency-Key, if any: a retry with it finds the claim it made
    /// (and finishes its replacement), even when the first try's answer was lost.
    pub async fn claim_warranty(
        &self,
        caller: &Caller,
        id: &OrderId,
        input: WarrantyClaimInput,
        key: Option<&str>,
    ) -> Result<ClaimOutcome, AppError> {
        let reason = input.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
            return Err(AppError::invalid_field("reason", "1-500 characters"));
        }
        if !(1..=Quantity::MAX).contains(&input.quantity) {
            return Err(AppError::invalid_field("quantity", format!("1 to {}", Quantity::MAX)));
        }
        // Someone else's order is not found, whatever the body says.
        self.owned_order(caller, id).await?;
        let repair = match (input.remedy, &input.service_sku, &input.slot_id) {
            (Remedy::Repair, Some(s), Some(slot)) => {
                let sku = Sku::parse(s).map_err(|e| AppError::invalid_field("serviceSku", e))?;
                let (_, spec) = self.service_product(&sku).await.map_err(|_| AppError::UnprocessableField {
                    kind: "warranty-ineligible",
                    detail: format!("serviceSku: {sku} is not a service offered"),
                    field: "serviceSku",
                })?;
                Some((sku, spec, self.slot_window(slot).await?))
            }
            (Remedy::Repair, _, _) => {
                return Err(AppError::UnprocessableField {
                    kind: "warranty-ineligible",
                    detail: "serviceSku: a repair needs serviceSku and slotId".into(),
                    field: "serviceSku",
                });
            }
            (Remedy::Replacement, None, None) => None,
            (Remedy::Replacement, _, _) => {
                return Err(AppError::UnprocessableField {
                    kind: "warranty-ineligible",
                    detail: "slotId: a replacement has no serviceSku or slotId".into(),
                    field: "slotId",
                });
            }
        };
        let claim = self.record_claim(caller, id, &input, &reason, repair, key).await?;
        if claim.claim.remedy == Remedy::Replacement && claim.claim.replacement_order_id.is_none() {
            let c = self.replace(caller, id, claim.claim).await?;
            return Ok(ClaimOutcome { claim: c, visit: None });
        }
        Ok(claim)
    }

    /// Commits the claim on the order (with a repair's visit and its minutes), or finds the
    /// same claim still waiting for its replacement.
    async fn record_claim(
        &self,
        caller: &Caller,
        id: &OrderId,
        input: &WarrantyClaimInput,
        reason: &str,
        repair: Option<(Sku, crate::domain::service::ServiceSpec, crate::domain::service::Window)>,
        key: Option<&str>,
    ) -> Result<ClaimOutcome, AppError> {
        let made = |order: &Order| -> Option<ClaimOutcome> {
            let c = order.warranty_claims.iter().find(|c| key.is_some() && c.idempotency_key.as_deref() == key)?;
            let visit = c.visit_id.as_ref().and_then(|v| order.visits.iter().find(|x| &x.visit_id == v)).cloned();
            Some(ClaimOutcome { claim: c.clone(), visit })
        };
        for attempt in 1..=8 {
            if attempt > 1 {
                tokio::time::sleep(crate::retry::Backoff::CONTENTION.pause(attempt)).await;
            }
            let order = self.owned_order(caller, id).await?;
            if let Some(done) = made(&order) {
                return Ok(done);
            }
            if let Some(pending) = order.warranty_claims.iter().find(|c| {
                c.remedy == Remedy::Replacement
                    && c.replacement_order_id.is_none()
                    && c.line_id == input.line_id
                    && c.quantity == input.quantity
                    && input.remedy == Remedy::Replacement
            }) {
                return Ok(ClaimOutcome { claim: pending.clone(), visit: None });
            }
            let line = order.lines.iter().find(|l| l.line_id == input.line_id);
            let sku = line.map(|l| l.sku.clone());
            let months = match &sku {
                Some(s) => {
                    self.store.get_products(std::slice::from_ref(s)).await?.remove(s).and_then(|p| p.warranty_months)
                }
                None => None,
            };
            let shipments = self.store.shipments_of_order(id).await?;
            let now = self.clock.now();
            check_claim(&order, &shipments, &input.line_id, input.quantity, months, now).map_err(warranty_error)?;
            let sku = sku.ok_or(AppError::Internal("claimed line vanished".into()))?;
            let mut claim = WarrantyClaim {
                claim_id: next_claim_id(&order),
                line_id: input.line_id.clone(),
                sku,
                quantity: input.quantity,
                remedy: input.remedy,
                reason: reason.to_owned(),
                replacement_order_id: None,
                visit_id: None,
                idempotency_key: key.map(str::to_owned),
                created_at: now,
            };
            let mut next = order.clone();
            let mut bookings = Vec::new();
            let mut visit = None;
            if let Some((service, spec, window)) = &repair {
                let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
                check_window(spec, window, &order.shipping_address, tomorrow).map_err(service_error)?;
                let (mut v, b) =
                    new_visit(&order, VisitKind::WarrantyRepair, &input.line_id, service, spec, window, now)
                        .map_err(service_error)?;
                v.claim_id = Some(claim.claim_id.clone());
                claim.visit_id = Some(v.visit_id.clone());
                bookings.push(b);
                next.visits.push(v.clone());
                visit = Some(v);
            }
            next.warranty_claims.push(claim.clone());
            let actor = caller.actor_on(&order.customer);
            let remedy = match claim.remedy {
                Remedy::Replacement => "replacement".to_owned(),
                Remedy::Repair => format!("repair visit {}", claim.visit_id.as_deref().unwrap_or_default()),
            };
            let ev = TimelineEvent::new(now, "warranty.claimed", actor)
                .with_note(format!("{} {} x{}: {remedy} ({reason})", claim.claim_id, claim.sku, claim.quantity));
            let mut change = OrderChange::update(next, order.version, now).with_event(ev);
            change.slot_bookings = bookings;
            match self.store.commit(&change).await {
                Ok(()) => {
                    tracing::info!(order_id = %id, claim_id = %claim.claim_id, "warranty claimed");
                    return Ok(ClaimOutcome { claim, visit });
                }
                Err(StoreError::StaleVersion) => continue,
                // The same claim's other try took the window's last minutes: that claim.
                Err(StoreError::SlotFull(slot)) => {
                    let order = self.owned_order(caller, id).await?;
                    return made(&order).ok_or(StoreError::SlotFull(slot).into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(busy())
    }

    /// Places the claim's replacement (fully credited, keyed by the claim) and links it.
    async fn replace(&self, caller: &Caller, id: &OrderId, claim: WarrantyClaim) -> Result<WarrantyClaim, AppError> {
        let order = self.owned_order(caller, id).await?;
        let quantity = Quantity::new(claim.quantity).map_err(|e| AppError::invalid_field("quantity", e))?;
        let a = &order.shipping_address;
        let currency = order.totals.total.currency();
        let req = PlaceOrderRequest {
            promotion_codes: None,
            cart_id: None,
            lines: Some(vec![LineRequest { sku: claim.sku.clone(), quantity }]),
            shipping_address: AddressInput::from(a),
            billing_address: None,
            email: order.email.to_string(),
            service_level: Some(ServiceLevel::Standard),
            delivery_option_id: None,
            payment_token: Some(order.payment.token.clone()).filter(|t| !t.is_empty()),
            payment_link: order.payment.token.is_empty().then_some(true),
            take_away: None,
            purchase_order: None,
            channel: order.channel,
        };
        // Covers the whole replacement, shipping and tax included (a placement takes at most
        // its total): nothing is charged.
        let credit = crate::domain::limits::threshold_money(crate::domain::limits::LIMITS.max_order_total, currency);
        let key = format!("warranty-{}", claim.claim_id);
        let (_, body) = self
            .place_order_with(
                &Caller::customer(order.customer.clone()),
                &key,
                &key,
                req,
                Extras { credit: Some(credit), stored_address: true, ..Extras::default() },
            )
            .await?;
        let placed: serde_json::Value = serde_json::from_str(&body).map_err(|e| AppError::Internal(e.to_string()))?;
        let new_id = OrderId::parse(placed["orderId"].as_str().unwrap_or_default())
            .map_err(|e| AppError::Internal(e.to_string()))?;
        for attempt in 1..=8 {
            if attempt > 1 {
                tokio::time::sleep(crate::retry::Backoff::CONTENTION.pause(attempt)).await;
            }
            let order = self.owned_order(caller, id).await?;
            let mut next = order.clone();
            let Some(c) = next.warranty_claims.iter_mut().find(|c| c.claim_id == claim.claim_id) else {
                return Err(AppError::Internal("warranty claim vanished".into()));
            };
            if c.replacement_order_id.is_some() {
                return Ok(c.clone());
            }
            c.replacement_order_id = Some(new_id.clone());
            let linked = c.clone();
            let now = self.clock.now();
            let ev = TimelineEvent::new(now, "warranty.replacement_placed", Actor::System("warranty".into()))
                .with_note(format!("{} replaced by order {new_id}, no charge", claim.claim_id));
            match self.store.commit(&OrderChange::update(next, order.version, now).with_event(ev)).await {
                Ok(()) => return Ok(linked),
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(busy())
    }
}
