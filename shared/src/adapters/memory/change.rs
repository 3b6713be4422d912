//! The one write path in memory: every condition is checked on the state as it is, then
//! everything is applied, under one lock: the same all-or-nothing as a DynamoDB transaction,
//! with the same typed refusals in the same order of precedence.

use super::{MemoryStore, State};
use crate::domain::{OrderChange, OrderId, OutboxEntry, StockRecord, Write};
use crate::ports::{OrderChanges, StoreError};
use std::collections::BTreeMap;

/// Checks one write against the stored version: `(exists, version)`.
fn check<T>(w: &Write<T>, current: Option<u64>, errors: &mut Vec<StoreError>) {
    match (w, current) {
        (Write::Create(_), Some(_)) => errors.push(StoreError::AlreadyExists),
        (Write::Update { expected_version, .. }, Some(v)) if v == *expected_version => {}
        (Write::Update { .. }, _) => errors.push(StoreError::StaleVersion),
        _ => {}
    }
}

/// The number of items besides stock the table would write for this change (stock deltas
/// beyond one transaction are split safely by the table adapter; the rest must fit in one).
fn size(c: &OrderChange) -> usize {
    usize::from(c.order.is_some())
        + c.shipments.len()
        + c.returns.len()
        + c.cases.len()
        + usize::from(c.idempotency.is_some())
        + usize::from(c.cart.is_some())
        + c.payment_refs.len()
        + usize::from(c.provider_event.is_some())
        + 3 * c.documents.len()
        + usize::from(c.feedback.is_some())
        + usize::from(c.company.is_some())
        + 2 * c.promotion_uses.len()
        + crate::domain::service::net(&c.slot_bookings).len()
        + usize::from(c.approval.is_some())
        + usize::from(!c.timeline.is_empty())
        + usize::from(!c.effects.is_empty())
}

fn conditions(
    s: &State,
    c: &OrderChange,
    now: i64,
) -> Result<BTreeMap<(crate::domain::Sku, crate::domain::LocationId, u16), StockRecord>, StoreError> {
    let mut errors = Vec::new();
    if let Some(w) = &c.order {
        check(w, s.orders.get(&w.value().id).map(|o| o.version), &mut errors);
    }
    for w in &c.shipments {
        let v = w.value();
        check(w, s.shipments.get(&(v.order_id.clone(), v.id.clone())).map(|x| x.version), &mut errors);
    }
    for w in &c.returns {
        let v = w.value();
        check(w, s.rmas.get(&(v.order_id.clone(), v.id.clone())).map(|x| x.version), &mut errors);
    }
    for w in &c.cases {
        let v = w.value();
        check(w, s.cases.get(&(v.order_id.clone(), v.id.clone())).map(|x| x.version), &mut errors);
    }
    if let Some((customer, key, _)) = &c.idempotency
        && s.idempotency.contains_key(&(customer.clone(), key.clone()))
    {
        errors.insert(0, StoreError::IdempotencyKeyUsed);
    }
    if let Some(ev) = &c.provider_event
        && s.webhooks.contains_key(&(ev.provider.clone(), ev.event_id.clone()))
    {
        errors.insert(0, StoreError::DuplicateEvent);
    }
    if let Some(w) = &c.feedback {
        check(w, s.feedback.get(&w.value().order_id).map(|f| f.version), &mut errors);
    }
    if let Some(w) = &c.company {
        check(w, s.companies.get(&w.value().id).map(|x| x.version), &mut errors);
    }
    if let Some(w) = &c.approval {
        check(w, s.approvals.get(&w.value().id).map(|x| x.version), &mut errors);
    }
    for u in c.promotion_uses.iter().filter(|u| u.delta > 0) {
        let all = s.promotion_uses.get(&(u.promotion_id.clone(), None)).copied().unwrap_or(0);
        let mine = s.promotion_uses.get(&(u.promotion_id.clone(), Some(u.customer.clone()))).copied().unwrap_or(0);
        if u.limit.is_some_and(|l| all >= i64::from(l)) || u.per_customer_limit.is_some_and(|l| mine >= i64::from(l)) {
            errors.insert(0, StoreError::PromotionExhausted(u.promotion_id.clone()));
        }
    }
    // Netted per window, as the table writes them (one update per item).
    for b in crate::domain::service::net(&c.slot_bookings).iter().filter(|b| b.hold) {
        let free = s.windows.get(&b.slot).map(|w| w.free_minutes());
        if free.is_none_or(|f| f < b.minutes) {
            errors.insert(0, StoreError::SlotFull(b.slot.to_string()));
        }
    }
    for d in &c.documents {
        let last = s.series.get(&d.invoice.series).copied().unwrap_or(0);
        if last != d.previous || d.invoice.sequence != d.previous + 1 {
            errors.push(StoreError::StaleVersion);
        } else if s.invoices.contains_key(&d.invoice.number)
            || s.document_refs.contains_key(&(d.invoice.order_id.clone(), d.invoice.kind, d.invoice.reference.clone()))
        {
            errors.push(StoreError::AlreadyExists);
        }
    }
    if let Some((cart, expected)) = &c.cart
        && s.carts.get(&cart.id).map(|x| x.version) != Some(*expected)
    {
        errors.push(StoreError::CartConverted);
    }
    let _ = now;
    let mut short = Vec::new();
    let mut moved = Vec::new();
    let mut stock = BTreeMap::new();
    for d in c.stock_deltas() {
        let k = (d.sku.clone(), d.location_id.clone());
        let sk = (d.sku.clone(), d.location_id.clone(), d.shard);
        let next = s
            .stock
            .get(&sk)
            .and_then(|r| d.apply(r.level).map(|level| StockRecord { level, version: r.version + 1, ..r.clone() }));
        match next {
            Some(r) => {
                stock.insert(sk, r);
            }
            None if d.takes_available => short.push(k),
            None => moved.push(k),
        }
    }
    if let Some(first) = errors.into_iter().next() {
        return Err(first);
    }
    if !short.is_empty() {
        return Err(StoreError::OutOfStock(short));
    }
    if !moved.is_empty() {
        return Err(StoreError::StockPrecondition(moved));
    }
    Ok(stock)
}

fn apply(
    s: &mut State,
    c: &OrderChange,
    order_id: Option<&OrderId>,
    stock: BTreeMap<(crate::domain::Sku, crate::domain::LocationId, u16), StockRecord>,
    store: &MemoryStore,
) {
    let now = store.now();
    if let Some(w) = &c.order {
        let o = w.value().clone();
        s.orders.insert(o.id.clone(), o);
    }
    for w in &c.shipments {
        let v = w.value().clone();
        s.shipments.insert((v.order_id.clone(), v.id.clone()), v);
    }
    for w in &c.returns {
        let v = w.value().clone();
        s.rmas.insert((v.order_id.clone(), v.id.clone()), v);
    }
    for w in &c.cases {
        let v = w.value().clone();
        s.cases.insert((v.order_id.clone(), v.id.clone()), v);
    }
    s.stock.extend(stock);
    if let Some((customer, key, rec)) = &c.idempotency {
        let expires =
            (rec.created_at + chrono::Duration::hours(crate::domain::change::IDEMPOTENCY_TTL_HOURS)).timestamp();
        s.idempotency.insert((customer.clone(), key.clone()), (rec.clone(), expires));
    }
    if let Some((cart, _)) = &c.cart {
        s.carts.insert(cart.id.clone(), cart.clone());
    }
    for l in &c.labels {
        s.labels.insert((l.order_id.clone(), l.shipment_id.clone()), l.clone());
    }
    if let Some(id) = order_id {
        for (rid, doc) in &c.return_labels {
            s.return_labels.insert((id.clone(), rid.clone()), doc.clone());
        }
        for a in &c.payment_refs {
            s.payment_refs.insert(a.clone(), id.clone());
        }
        s.timeline.entry(id.clone()).or_default().extend(c.timeline.iter().cloned());
        let events: Vec<String> =
            crate::domain::events::event_types(&c.timeline).into_iter().map(|t| t.to_string()).collect();
        if !c.effects.is_empty() || !events.is_empty() {
            // Kept for a change with events too (the bus may refuse them and defer them); the
            // stream hands the dispatcher only those with effects.
            let entry = OutboxEntry {
                order_id: id.clone(),
                id: format!("{}#{}", now.format("%Y-%m-%dT%H:%M:%S%.3fZ"), ulid::Ulid::new()),
                effects: c.effects.clone(),
                created_at: now,
                events,
                sequence: c.next_order().map(|o| o.version),
                deferral: None,
            };
            if !c.effects.is_empty() {
                s.stream.push((id.clone(), entry.id.clone()));
            }
            s.outbox.insert((id.clone(), entry.id.clone()), entry);
        }
    }
    if let Some(w) = &c.company {
        s.companies.insert(w.value().id.clone(), w.value().clone());
    }
    if let Some(w) = &c.feedback {
        s.feedback.insert(w.value().order_id.clone(), w.value().clone());
    }
    for u in &c.promotion_uses {
        *s.promotion_uses.entry((u.promotion_id.clone(), None)).or_default() += i64::from(u.delta);
        *s.promotion_uses.entry((u.promotion_id.clone(), Some(u.customer.clone()))).or_default() += i64::from(u.delta);
    }
    for b in &crate::domain::service::net(&c.slot_bookings) {
        if let Some(w) = s.windows.get_mut(&b.slot) {
            w.booked_minutes = if b.hold {
                w.booked_minutes.saturating_add(b.minutes)
            } else {
                w.booked_minutes.saturating_sub(b.minutes)
            };
        }
    }
    if let Some(w) = &c.approval {
        s.approvals.insert(w.value().id.clone(), w.value().clone());
    }
    for d in &c.documents {
        s.series.insert(d.invoice.series.clone(), d.invoice.sequence);
        s.invoices.insert(d.invoice.number.clone(), d.invoice.clone());
        let key = (d.invoice.order_id.clone(), d.invoice.kind, d.invoice.reference.clone());
        s.document_refs.insert(key, d.invoice.reference());
    }
    if let Some(ev) = &c.provider_event {
        s.webhooks.insert((ev.provider.clone(), ev.event_id.clone()), now.timestamp());
    }
}

#[async_trait::async_trait]
impl OrderChanges for MemoryStore {
    async fn commit(&self, change: &OrderChange) -> Result<(), StoreError> {
        let order_id = change.order_id.clone().or_else(|| change.next_order().map(|o| o.id.clone()));
        if (!change.timeline.is_empty() || !change.effects.is_empty() || !change.payment_refs.is_empty())
            && order_id.is_none()
        {
            return Err(StoreError::Mapping("timeline entries, effects and payment references need an order".into()));
        }
        let n = size(change);
        if n > 95 {
            return Err(StoreError::TooLarge(n));
        }
        if self.take_injected_failure() {
            return Err(StoreError::Unavailable("injected commit failure".into()));
        }
        let now = self.now().timestamp();
        let mut s = self.lock()?;
        // Payment references are written ahead of the change, as the DynamoDB adapter does.
        if let Some(id) = &order_id {
            for a in &change.payment_refs {
                s.payment_refs.insert(a.clone(), id.clone());
            }
        }
        let stock = conditions(&s, change, now)?;
        apply(&mut s, change, order_id.as_ref(), stock, self);
        Ok(())
    }
}
