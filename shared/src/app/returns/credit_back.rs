//! An exchange's credit goes back when its replacement does not ship: the replacement was
//! placed with the returned goods' value as credit, recorded on the original order as a refund
//! of its captured money (`exchange-credit-<rma>`, with its credit note). When the replacement
//! is cancelled or fails, that money would otherwise be lost to the customer: the original
//! order's card is refunded the same amount under that same key (the ledger entry and credit
//! note already say so), and the customer is told. Run as an effect of the replacement's cancel
//! or failure, after its commit (and of the exchange's own commit, for a replacement cancelled
//! before it); the return's `creditReturnedAt`, written on condition of the
//! return's version, makes it happen once, and the refund and mail go out from that commit.

use crate::app::effects::EffectError;
use crate::domain::returns::Rma;
use crate::domain::*;
use crate::ports::{Clock, Store, StoreError};

/// The ledger key of the credit an exchange gave its replacement.
pub fn credit_key(rma: &ReturnId) -> String {
    format!("exchange-credit-{rma}")
}

/// Gives the credit of return `rma_id` back to its original payment, once, when its replacement
/// was cancelled or failed. Anything else (no replacement, one still going, credit given back
/// already, no credit used) changes nothing.
#[tracing::instrument(skip_all, fields(return_id = %rma_id))]
pub async fn give_credit_back(store: &dyn Store, clock: &dyn Clock, rma_id: &ReturnId) -> Result<(), EffectError> {
    for _ in 0..5 {
        let Some(rma) = store.get_rma(rma_id).await? else { return Ok(()) };
        if rma.credit_returned_at.is_some() {
            return Ok(());
        }
        let Some(replacement) = &rma.exchange_order_id else { return Ok(()) };
        let Some(new) = store.get_order(replacement).await? else { return Ok(()) };
        if !matches!(new.status, OrderStatus::Cancelled | OrderStatus::Failed) {
            tracing::info!(status = ?new.status, "replacement still going: its credit stays");
            return Ok(());
        }
        let Some(original) = store.get_order(&rma.order_id).await? else { return Ok(()) };
        match store.commit(&give_back(&rma, &original, &new.id, clock.now())?).await {
            Ok(()) => {
                tracing::info!("exchange credit given back");
                return Ok(());
            }
            Err(StoreError::StaleVersion | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(EffectError::Transient("the return kept changing".into()))
}

/// The change on the original order: the return marked (at the version read), the timeline
/// entry, and the refund with its mail after the commit.
fn give_back(
    rma: &Rma,
    original: &Order,
    replacement: &OrderId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<OrderChange, EffectError> {
    let key = credit_key(&rma.id);
    let used: i64 = original
        .payment
        .ledger
        .iter()
        .filter(|e| e.kind == LedgerKind::Refunded && e.reference == key)
        .map(|e| e.amount.amount())
        .sum();
    let mut next = rma.clone();
    next.credit_returned_at = Some(now);
    next.version += 1;
    next.updated_at = now;
    let mut change = OrderChange::for_order(&original.id);
    change.returns.push(Write::Update { value: next, expected_version: rma.version });
    let amount =
        Money::new(used, original.totals.total.currency()).map_err(|e| EffectError::Permanent(e.to_string()))?;
    let actor = Actor::System("returns".into());
    if used <= 0 {
        return Ok(change);
    }
    let Some(auth) = &original.payment.authorization_id else {
        // No authorization to refund against (none was ever recorded): an agent settles it,
        // the timeline says what is owed, and the return is marked settled so this runs once.
        return Ok(change.with_event(TimelineEvent::new(now, "return.credit_owed", actor).with_note(format!(
            "{amount} credited to replacement {replacement}, which did not ship, is owed to the customer: no payment to refund, refund it by hand"
        ))));
    };
    Ok(change
        .with_event(
            TimelineEvent::new(now, "payment.refunded", actor)
                .with_note(format!("{amount} for {}: replacement {replacement} did not ship", rma.id)),
        )
        .with_effect(Effect::Refund { authorization_id: auth.clone(), amount, idempotency_key: key })
        .with_effect(Effect::notify(
            Notification::new("return.refunded", &original.id, Some(amount.to_string()))
                .with_dedupe_key(format!("return.refunded#{}#credit-back", rma.id)),
        )))
}

impl super::Returns {
    /// Goods of a replacement coming back for a refund, beyond what its own card paid: `amount`
    /// of its exchange credit goes back to the original order's payment (which holds that money,
    /// recorded there as refunded when the exchange used it). The refund to go out after the
    /// receipt's commit (keyed by the return and its version read), and the timeline entry.
    pub(super) async fn credit_refund(
        &self,
        replacement: &Order,
        rma: &Rma,
        amount: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(Option<Effect>, TimelineEvent), crate::app::AppError> {
        use crate::app::AppError;
        let store = &self.oms.store;
        let exchange = replacement.exchange_for.as_ref().ok_or(AppError::Internal("not a replacement".into()))?;
        let first = store.get_rma(exchange).await?.ok_or(AppError::Internal("exchange return vanished".into()))?;
        let original =
            store.get_order(&first.order_id).await?.ok_or(AppError::Internal("original order vanished".into()))?;
        let amount =
            Money::new(amount, replacement.totals.total.currency()).map_err(|e| AppError::Internal(e.to_string()))?;
        let actor = Actor::System("returns".into());
        let Some(auth) = &original.payment.authorization_id else {
            return Ok((
                None,
                TimelineEvent::new(now, "return.credit_owed", actor).with_note(format!(
                    "{amount} of exchange credit (from order {}) for {} is owed to the customer: no payment to refund, refund it by hand",
                    original.id, rma.id
                )),
            ));
        };
        let key = format!("{}-{}-v{}", credit_key(exchange), rma.id, rma.version);
        Ok((
            Some(Effect::Refund { authorization_id: auth.clone(), amount, idempotency_key: key }),
            TimelineEvent::new(now, "payment.refunded", actor).with_note(format!(
                "{amount} for {}: the exchange credit, to the payment of order {}",
                rma.id, original.id
            )),
        ))
    }
}
