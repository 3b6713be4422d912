//! An exchange's replacement: placed once every unit of the return is back, credited with the
//! returned goods' value, any credit it does not use refunded to the original payment.

use super::Returns;
use super::receive::received_by_others;
use crate::app::orders::{Extras, PlaceOrderRequest};
use crate::app::{AppError, Caller};
use crate::domain::returns::*;
use crate::domain::*;

impl Returns {
    /// Places the replacement order, credited with the returned goods' value; refunds any
    /// credit the replacement does not use.
    pub(super) async fn exchange(&self, original: &Order, rma: Rma) -> Result<Rma, AppError> {
        let store = &self.oms.store;
        let currency = original.totals.total.currency();
        // What each line's units were worth at their receipts (the next units of the order line
        // after other returns' units, fixed in the receipt's serialized write), so exchanges
        // and refunds of one line add up to its price to the cent. A return received before
        // lines carried the value: its units' share now.
        let others = store.returns_of_order(&original.id).await?;
        let credit = rma
            .lines
            .iter()
            .try_fold(0i64, |acc, l| match l.credited {
                Some(m) => Ok(acc + m.amount()),
                None => {
                    let before = received_by_others(&others, &rma.id, &l.line_id);
                    refund_for_units(original, &l.line_id, before, l.quantity).map(|m| acc + m.amount())
                }
            })
            .map_err(|e| AppError::Internal(e.to_string()))?;
        // The credit is money already captured on the original order: never more than what is
        // still there (a goodwill refund may have given some of it back already).
        let latest = store.get_order(&original.id).await?.ok_or(AppError::Internal("order vanished".into()))?;
        let credit = credit.min(latest.payment.refundable()).max(0);
        let credit = Money::new(credit, currency).map_err(|e| AppError::Internal(e.to_string()))?;
        let a = &original.shipping_address;
        let req = PlaceOrderRequest {
            promotion_codes: None,
            cart_id: None,
            lines: Some(rma.exchange_lines.clone()),
            shipping_address: AddressInput::from(a),
            billing_address: None,
            email: original.email.to_string(),
            service_level: Some(ServiceLevel::Standard),
            delivery_option_id: None,
            // The original's card; an order paid without one (marketplace, account, an unpaid
            // link) asks for any difference by a payment link.
            payment_token: Some(original.payment.token.clone()).filter(|t| !t.is_empty()),
            payment_link: original.payment.token.is_empty().then_some(true),
            take_away: None,
            purchase_order: None,
            channel: original.channel,
        };
        let customer = Caller::customer(original.customer.clone());
        let (_, body) = self
            .oms
            .place_order_with(
                &customer,
                &format!("exchange-{}", rma.id),
                &format!("exchange-{}", rma.id),
                req,
                Extras {
                    credit: Some(credit),
                    exchange_for: Some(rma.id.clone()),
                    stored_address: true,
                    ..Extras::default()
                },
            )
            .await?;
        let placed: serde_json::Value = serde_json::from_str(&body).map_err(|e| AppError::Internal(e.to_string()))?;
        let new_id = OrderId::parse(placed["orderId"].as_str().unwrap_or_default())
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let new_total = placed["totals"]["total"]["amount"].as_i64().unwrap_or(0);
        // Credit beyond the replacement's total goes back to the original payment, once.
        let mut effects = Vec::new();
        let mut o2 = latest.clone();
        let used = credit.amount().min(new_total).max(0);
        let excess = credit.amount() - used;
        let now = self.oms.clock.now();
        // The credit leaves the original order's captured money: recorded in its ledger by the
        // same write, so later refunds see it.
        if used > 0 {
            let m = Money::new(used, currency).map_err(|e| AppError::Internal(e.to_string()))?;
            let key = super::credit_key(&rma.id);
            o2.payment.refund(m, &key, now).map_err(|e| AppError::Internal(e.to_string()))?;
            effects.push(Effect::credit_note(&original.id, &key));
        }
        if excess > 0
            && let Some(auth) = &original.payment.authorization_id
        {
            let m = Money::new(excess, currency).map_err(|e| AppError::Internal(e.to_string()))?;
            let key = format!("exchange-refund-{}", rma.id);
            o2.payment.refund(m, &key, now).map_err(|e| AppError::Internal(e.to_string()))?;
            effects.push(Effect::Refund { authorization_id: auth.clone(), amount: m, idempotency_key: key.clone() });
            effects.push(Effect::credit_note(&original.id, &key));
        }
        let mut next = rma.clone();
        next.exchange_order_id = Some(new_id.clone());
        next.version += 1;
        let ev = TimelineEvent::new(now, "return.exchange_placed", Actor::System("returns".into())).with_note(format!(
            "{} replaced by order {new_id}; credit {credit}{}",
            rma.id,
            if excess > 0 {
                format!(", refunded {}", Money::new(excess, currency).map(|m| m.to_string()).unwrap_or_default())
            } else {
                String::new()
            }
        ));
        let mut change = if credit.amount() == 0 {
            OrderChange::for_order(&original.id).with_event(ev)
        } else {
            OrderChange::update(o2, latest.version, now).with_event(ev)
        };
        if excess > 0 {
            // The customer hears of the money coming back, as for a refund return (after the
            // refund effect, in the same record).
            let m = Money::new(excess, currency).map_err(|e| AppError::Internal(e.to_string()))?;
            change = change.with_event(
                TimelineEvent::new(now, "payment.refunded", Actor::System("returns".into()))
                    .with_note(format!("{m} for {}", rma.id)),
            );
            effects.push(Effect::notify(
                Notification::new("return.refunded", &original.id, Some(m.to_string()))
                    .with_dedupe_key(format!("return.refunded#{}#exchange", rma.id)),
            ));
        }
        if used > 0 {
            // A replacement cancelled or failed before this commit (its own effect found no
            // exchange on the return yet) gives the credit back from here; one still going
            // leaves it to its cancel, whichever comes first.
            effects.push(Effect::ReturnExchangeCredit { return_id: rma.id.clone() });
        }
        change.effects = effects;
        change.returns.push(Write::Update { value: next.clone(), expected_version: rma.version });
        store.commit(&change).await?;
        Ok(next)
    }
}

/// The receipt stands when its exchange's replacement cannot be placed: the answer says so (an
/// out-of-stock answer alone reads as if the receipt had failed) and how to place it later.
pub(super) fn not_placed(rma: &ReturnId, e: AppError) -> AppError {
    match e {
        AppError::OutOfStock(short) => {
            let skus: Vec<String> = short.iter().map(|s| s.sku.to_string()).collect();
            AppError::Conflict {
                kind: "exchange-not-placed",
                detail: format!(
                    "return {rma} is received, but its replacement could not be placed: {} out of stock; \
                     receive it again to place it once there is stock",
                    skus.join(", ")
                ),
            }
        }
        other => other,
    }
}
