//! Receiving and inspection (agents): resellable units go back on the shelf at the location
//! the return goes to, damaged ones are written off, each line's share of price and tax is
//! refunded once per receipt (a provider call keyed by receipt, then the commit); an exchange
//! places its replacement order once everything is back (`exchange.rs`).

use super::exchange::not_placed;
use super::receipt_key::ReceiptKey;
use super::{ReceiveRequest, Returns};
use crate::app::{AppError, Caller};
use crate::domain::returns::*;
use crate::domain::*;
use crate::ports::StoreError;

impl Returns {
    /// Receiving and inspection (agents). Retrying the same request changes nothing more.
    /// Applies a receipt. With an `Idempotency-Key`, the receipt is applied once: sent again
    /// with the same body it answers the return as it is now and changes nothing; with another
    /// body it is refused (422 naming the key).
    pub async fn receive(
        &self,
        agent: &Caller,
        rma_id: &ReturnId,
        req: ReceiveRequest,
        key: Option<&str>,
    ) -> Result<Rma, AppError> {
        if req.lines.is_empty() || req.lines.iter().any(|l| l.quantity == 0 || l.quantity > Quantity::MAX) {
            return Err(AppError::invalid_field("lines", "each line needs a quantity of 1-99"));
        }
        let receipt = key.map(|k| ReceiptKey::of(k, &req)).transpose()?;
        // Concurrent receipts of one return are applied one after the other.
        super::super::error::until_it_lands(
            "return-busy",
            "other receipts of this return kept landing first; send it again",
            || self.receive_once(agent, rma_id, &req, receipt.as_ref()),
        )
        .await
    }

    async fn receive_once(
        &self,
        agent: &Caller,
        rma_id: &ReturnId,
        req: &ReceiveRequest,
        receipt: Option<&ReceiptKey>,
    ) -> Result<Rma, AppError> {
        let store = &self.oms.store;
        let rma = store.get_rma(rma_id).await?.ok_or(AppError::NotFound)?;
        let order = store.get_order(&rma.order_id).await?.ok_or(AppError::Internal("order vanished".into()))?;
        // A receipt committed but whose replacement could not be placed then (stock, a
        // provider, another receipt of the order landing first): receiving again places it,
        // once (its placement key is the return's); a receipt sent again under its key too.
        if rma.resolution == Resolution::Exchange && rma.fully_received() && rma.exchange_order_id.is_none() {
            if let Some(k) = receipt {
                k.seen_in(&rma)?;
            }
            let id = rma.id.clone();
            return self.exchange(&order, rma).await.map_err(|e| not_placed(&id, e));
        }
        if let Some(k) = receipt
            && k.seen_in(&rma)?
        {
            return Ok(rma);
        }
        let now = self.oms.clock.now();
        let mut next = rma.clone();
        let mut ops: Vec<StockMovement> = Vec::new();
        let mut events = Vec::new();
        let mut refunded_now = 0i64;
        // A replacement's card paid only what its exchange credit did not: units of it coming
        // back are refunded from its card first, then from that credit (to the original order's
        // payment, which holds the money).
        let credit_left = order.exchange_credit_left();
        let mut credit_now = 0i64;
        // The ledger lives on the order: what this receipt refunds is recorded there, capped at
        // what is captured and not yet refunded (a goodwill refund may have come first).
        let mut o2 = order.clone();
        let mut refunds: Vec<Effect> = Vec::new();
        let currency = order.totals.total.currency();
        // Units of each order line other returns of the order already brought back: a receipt
        // is refunded as the next units of the line, so split receipts add up to the cent.
        // (An exchange's units are valued the same way at their receipt, so receipts of the
        // line's returns, serialized on the order's version, never take the same units.)
        let others = store.returns_of_order(&order.id).await?;
        let earlier = |line_id: &str| received_by_others(&others, &rma.id, line_id);
        for r in &req.lines {
            let line =
                next.lines.iter_mut().find(|l| l.line_id == r.line_id).ok_or_else(|| AppError::UnprocessableField {
                    kind: "unknown-line",
                    detail: format!("lines: line {} is not on this return", r.line_id),
                    field: "lines",
                })?;
            let remaining = line.quantity - line.received();
            // Fully received before this request: a retry (a receipt under a new key is more
            // units). A line this request fills is refused beyond what it expects.
            let left_before = rma.lines.iter().find(|l| l.line_id == r.line_id).map(|l| l.quantity - l.received());
            if left_before == Some(0) && receipt.is_none() {
                continue;
            }
            if r.quantity > remaining {
                return Err(AppError::UnprocessableField {
                    kind: "return-quantity-exceeded",
                    detail: format!("lines: line {} expects {remaining} more unit(s)", r.line_id),
                    field: "lines",
                });
            }
            let going_back = line.restock_at(r.quantity, &rma.location_id);
            match r.condition {
                Condition::Resellable => {
                    for (location_id, quantity) in &going_back {
                        ops.push(StockMovement::new(&line.sku, location_id, StockMove::Restock, *quantity));
                    }
                    line.received_resellable += r.quantity;
                }
                Condition::Damaged => line.received_damaged += r.quantity,
            }
            let at: Vec<String> = going_back.iter().map(|(l, q)| format!("{q} at {l}")).collect();
            events.push(
                TimelineEvent::new(now, "return.received", Actor::Agent(agent.customer.to_string())).with_note(
                    format!("{}: {} x {} {:?} ({})", rma.id, r.quantity, line.sku, r.condition, at.join(", ")),
                ),
            );
            // (The units of this receipt are already counted as received.)
            let before = (earlier(&line.line_id) + line.received()).saturating_sub(r.quantity);
            let due = refund_for_units(&order, &line.line_id, before, r.quantity)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            if rma.resolution == Resolution::Exchange {
                // Units received before lines carried their value: valued now, right after the
                // other returns' units, so the line's credit covers every unit received.
                let earlier_units = line.received() - r.quantity;
                let so_far = match line.credited {
                    Some(m) => m.amount(),
                    None if earlier_units > 0 => {
                        refund_for_units(&order, &line.line_id, earlier(&line.line_id), earlier_units)
                            .map_err(|e| AppError::Internal(e.to_string()))?
                            .amount()
                    }
                    None => 0,
                };
                line.credited =
                    Some(Money::new(so_far + due.amount(), currency).map_err(|e| AppError::Internal(e.to_string()))?);
            }
            if rma.resolution == Resolution::Refund {
                let left = o2.payment.refundable().max(0) - refunded_now;
                let card = due.amount().min(left.max(0));
                let from_credit = (due.amount() - card).min(credit_left - credit_now).max(0);
                line.refunded = Some(
                    Money::new(line.refunded.map(|m| m.amount()).unwrap_or(0) + card + from_credit, currency)
                        .map_err(|e| AppError::Internal(e.to_string()))?,
                );
                refunded_now += card;
                credit_now += from_credit;
            }
            line.receipts += 1;
        }
        if next == rma {
            return Ok(rma);
        }
        // One refund for the receipt, whatever number of lines it covers (one provider call, one
        // credit note, one mail), keyed by the return's version it was read at: a retry of this
        // receipt gets the same key.
        if let (Some(auth), true) = (&order.payment.authorization_id, refunded_now > 0) {
            let amount = Money::new(refunded_now, currency).map_err(|e| AppError::Internal(e.to_string()))?;
            let key = format!("refund-{}-{}", rma.id, rma.version);
            o2.payment.refund(amount, &key, now).map_err(|e| AppError::Internal(e.to_string()))?;
            refunds.push(Effect::Refund { authorization_id: auth.clone(), amount, idempotency_key: key.clone() });
            refunds.push(Effect::credit_note(&order.id, &key));
        }
        if credit_now > 0 {
            let (effect, event) = self.credit_refund(&order, &rma, credit_now, now).await?;
            let before = o2.payment.credit_refunded.map_or(0, |m| m.amount());
            // Recorded in the receipt's own commit, on the replacement's version: the refund
            // below goes out once, whatever retries this receipt.
            o2.payment.credit_refunded =
                Some(Money::new(before + credit_now, currency).map_err(|e| AppError::Internal(e.to_string()))?);
            refunds.extend(effect);
            events.push(event);
        }
        if let Some(k) = receipt {
            next.receipt_keys.push(k.0.clone());
        }
        next.status = if next.fully_received() { ReturnStatus::Completed } else { ReturnStatus::PartiallyReceived };
        next.version += 1;
        next.updated_at = now;
        if refunded_now > 0 {
            events.push(
                TimelineEvent::new(now, "payment.refunded", Actor::Agent(agent.customer.to_string())).with_note(
                    format!("{} for {}", Money::new(refunded_now, currency).unwrap_or(Money::zero(currency)), rma.id),
                ),
            );
        }
        if next.fully_received() && o2.status == OrderStatus::ReturnRequested {
            // Everything delivered has come back: returned; otherwise partially returned (the
            // order's returns as read above: a receipt landing since fails this commit).
            let all_returns = &others;
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
        let received = Notification::new("return.received", &order.id, Some(rma.id.to_string()))
            .with_dedupe_key(format!("return.received#{}#{}", rma.id, next.version));
        // The refunds go out after the commit, then the mails: a mail never announces a refund
        // that was not recorded.
        let mut change = OrderChange::update(o2, order.version, now);
        change.effects = refunds;
        change.effects.push(Effect::notify(received));
        // The mail tells the whole refund: the card's part and the credit's.
        let refunded_total = refunded_now + credit_now;
        if refunded_total > 0 {
            let detail = Money::new(refunded_total, currency).map(|m| m.to_string()).unwrap_or_default();
            change.effects.push(Effect::notify(
                Notification::new("return.refunded", &order.id, Some(detail))
                    .with_dedupe_key(format!("return.refunded#{}#{}", rma.id, next.version)),
            ));
        }
        change.returns.push(Write::Update { value: next.clone(), expected_version: rma.version });
        change.timeline = events;
        change.stock = ops;
        store.commit(&change).await.map_err(|e| match e {
            StoreError::StaleVersion | StoreError::Conflict => AppError::StaleVersion,
            other => other.into(),
        })?;
        let mut done = next.clone();
        if done.resolution == Resolution::Exchange && done.fully_received() && done.exchange_order_id.is_none() {
            done = self.exchange(&order, done).await.map_err(|e| not_placed(&next.id, e))?;
        }
        Ok(done)
    }
}

/// Units of an order line that returns other than `rma` brought back.
pub(super) fn received_by_others(returns: &[Rma], rma: &ReturnId, line_id: &str) -> u32 {
    returns
        .iter()
        .filter(|o| &o.id != rma)
        .flat_map(|o| o.lines.iter().filter(|l| l.line_id == line_id))
        .map(|l| l.received())
        .sum()
}
