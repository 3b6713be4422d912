//! Opening a return: eligibility, a return label bought through the carrier (keyed by the RMA),
//! then one commit of the RMA, its label and the order; the label mail follows the commit.

use super::{OpenReturnRequest, Returns, ineligible};
use crate::app::{AppError, Caller};
use crate::domain::returns::*;
use crate::domain::*;
use crate::ports::Parcel;

impl Returns {
    /// Opens an RMA with a return label.
    pub async fn open(&self, caller: &Caller, order_id: &OrderId, req: OpenReturnRequest) -> Result<Rma, AppError> {
        let store = &self.oms.store;
        let order = match store.get_order(order_id).await? {
            Some(o) if caller.acts_for(&o.customer) => o,
            _ => return Err(AppError::NotFound),
        };
        match (req.resolution, req.exchange_lines.is_empty()) {
            (Resolution::Exchange, true) | (Resolution::Refund, false) => {
                return Err(ineligible(ReturnError::ExchangeLines));
            }
            _ => {}
        }
        let max = crate::domain::limits::LIMITS.max_lines;
        if req.lines.len() > max || req.exchange_lines.len() > max {
            return Err(AppError::invalid_field("lines", format!("at most {max} lines")));
        }
        let shipments = store.shipments_of_order(order_id).await?;
        let existing = store.returns_of_order(order_id).await?;
        let now = self.oms.clock.now();
        let lines = check_eligibility(&order, &shipments, &existing, &req.lines, now).map_err(ineligible)?;
        if req.resolution == Resolution::Exchange && order.exchange_credit_left() > 0 {
            // Its value is partly the credit of the exchange before, held on the first order's
            // payment: a refund return sends that back there; a second exchange would lose it.
            return Err(AppError::UnprocessableField {
                kind: "exchange-of-replacement",
                detail: format!(
                    "resolution: order {order_id} is itself a replacement paid with exchange credit: return it for a \
                     refund (the credit goes back to the original payment) and order the other item"
                ),
                field: "resolution",
            });
        }
        if req.resolution == Resolution::Exchange {
            let skus: Vec<Sku> = req.exchange_lines.iter().map(|l| l.sku.clone()).collect();
            let products = store.get_products(&skus).await?;
            let priced =
                crate::domain::pricing::price_lines(&products, &req.exchange_lines, order.shipping_address.country)
                    .map_err(|e| invalid_exchange(e.to_string()))?;
            if let Some(l) = priced.iter().find(|l| l.kind == ProductKind::Service) {
                return Err(invalid_exchange(format!("{} is a service; goods are exchanged for goods", l.sku)));
            }
            // The credit is money in the order's currency: a replacement is priced in the same
            // one, and must be an order placement would take.
            let currency = order.totals.total.currency();
            if priced.iter().any(|l| l.unit_price.currency() != currency) {
                return Err(invalid_exchange(format!(
                    "a replacement is priced in {currency}, like the order it replaces"
                )));
            }
            let value = priced.iter().try_fold(0i64, |acc, l| {
                acc.checked_add(l.subtotal.amount())
                    .and_then(|a| a.checked_add(l.tax.amount()))
                    .ok_or(invalid_exchange("too large".into()))
            })?;
            crate::app::orders::within_order_cap("exchangeLines", value, currency)?;
        }
        let first_line = &lines[0].line_id;
        let origin = shipments
            .iter()
            .find(|s| s.status == ShipmentStatus::Delivered && s.lines.iter().any(|l| &l.line_id == first_line))
            .ok_or(AppError::Internal("delivered shipment vanished".into()))?;
        let location =
            store.get_location(&origin.location_id).await?.ok_or(AppError::Internal("location vanished".into()))?;
        let id = ReturnId::generate();
        let catalog = store.get_products(&lines.iter().map(|l| l.sku.clone()).collect::<Vec<_>>()).await?;
        let weight: u32 =
            lines.iter().map(|l| catalog.get(&l.sku).map(|p| p.weight_grams).unwrap_or(500) * l.quantity).sum();
        let parcel = return_parcel(&order, &id, &location, weight);
        // A refusal is about this parcel and will not change on a retry: 422, not 503.
        let carrier_err = |e: crate::ports::CarrierError| match e {
            crate::ports::CarrierError::Rejected(m) => AppError::Unprocessable {
                kind: "return-label-refused",
                detail: format!("the carrier cannot make a return label for this parcel: {m}"),
            },
            other => AppError::Unavailable(other.to_string()),
        };
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
                carrier: label.carrier.clone(),
                tracking_number: label.tracking_number.clone(),
                label_id: label.id.clone(),
                service: Some(label.service.clone()),
                document_url: label.document_url.clone(),
            }),
            exchange_order_id: None,
            credit_returned_at: None,
            receipt_keys: Vec::new(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let actor = caller.actor_on(&order.customer);
        let mut next = order.clone();
        if matches!(order.status, OrderStatus::Delivered | OrderStatus::Completed | OrderStatus::PartiallyReturned) {
            next.apply(OrderEvent::RequestReturn, now)?;
        }
        let ev = TimelineEvent::new(now, "return.requested", actor).with_status(next.status).with_note(format!(
            "{id}: {} unit(s), {:?}",
            rma.lines.iter().map(|l| l.quantity).sum::<u32>(),
            rma.resolution
        ));
        // The mail's label link is signed when it is sent (notify::return_label_path).
        let notification = Notification::new("return.issued", &order.id, Some(id.to_string()))
            .with_dedupe_key(format!("return.issued#{id}"));
        let mut change =
            OrderChange::update(next, order.version, now).with_event(ev).with_effect(Effect::notify(notification));
        change.returns.push(Write::Create(rma.clone()));
        store.commit(&change).await?;
        tracing::info!(order_id = %order.id, rma = %id, "return opened");
        Ok(rma)
    }
}

/// The parcel of a return label: from the customer back to the location it shipped from (what
/// the label is bought for and rendered again from).
pub fn return_parcel(order: &Order, id: &ReturnId, location: &Location, weight: u32) -> Parcel {
    let mut dock = location.postal_address(format!("{} returns", location.name));
    dock.line2 = Some(match dock.line2.take() {
        Some(l2) => format!("{l2}, RMA {id}"),
        None => format!("RMA {id}"),
    });
    Parcel {
        shipment_id: ShipmentId::parse(id.as_str()).unwrap_or_else(|_| ShipmentId::generate()),
        from: order.shipping_address.for_label(),
        to: dock.for_label(),
        weight_grams: weight.max(1),
        dimensions_mm: None,
        reference: format!("RMA {id} order {}", order.id),
    }
}

/// An exchange's lines refused: 422 naming `exchangeLines`.
fn invalid_exchange(why: String) -> AppError {
    AppError::UnprocessableField {
        kind: "invalid-exchange",
        detail: format!("exchangeLines: {why}"),
        field: "exchangeLines",
    }
}
