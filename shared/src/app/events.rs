//! Integration events, published after the commit: a change record that announced event types
//! (`domain::events::event_types`, recorded with the change) reaches `Effects::publish` from
//! the table's stream; the events carry the order in the integration projection (no notes,
//! fraud signals or provider errors) and go to the bus with ids that are the same on every
//! redelivery, so a retried batch publishes the same events again and consumers keep one.

use super::effects::{EffectError, Effects};
use super::projections::{customer_return, integration_order};
use crate::domain::OrderId;
use crate::domain::events::{DomainEvent, EVENT_TYPES, EVENT_VERSION, event_id};
use crate::ports::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde_json::json;

/// A committed change that announced events, as its change record shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvents {
    pub order: OrderId,
    /// The change record's id (unique per change).
    pub change_id: String,
    pub types: Vec<String>,
    /// The order version the change committed; `None` for a change that did not write the
    /// order (a case): the events then carry the order's version when published.
    pub sequence: Option<u64>,
    pub occurred_at: DateTime<Utc>,
}

impl ChangeEvents {
    /// The events a change record announced, as the drain and the stream hand them on.
    pub fn of(entry: &crate::domain::OutboxEntry) -> Self {
        Self {
            order: entry.order_id.clone(),
            change_id: entry.id.clone(),
            types: entry.events.clone(),
            sequence: entry.sequence,
            occurred_at: entry.created_at,
        }
    }
}

/// The events `named` (type, id) of a change of `order`, with the order as it is now; none
/// when the order is not there. Publishing and webhook replays build them alike.
pub async fn events_for(
    store: &dyn Store,
    order: &OrderId,
    named: &[(String, String)],
    sequence: Option<u64>,
    occurred_at: DateTime<Utc>,
) -> Result<Vec<DomainEvent>, StoreError> {
    // At least the change's version: an eventually consistent read, unless it lags behind.
    let Some(view) = store.get_order_with_shipments_since(order, sequence).await? else { return Ok(Vec::new()) };
    let payment = super::views::PaymentDetails::of(&view.order);
    let state = integration_order(view).order;
    let mut data = json!({ "order": state });
    if named.iter().any(|(t, _)| t.starts_with("payment.") || t == "return.refunded") {
        // What finance and the ERP book: totals and the ledger (provider references only).
        data["payment"] = serde_json::to_value(payment).map_err(|e| StoreError::Mapping(e.to_string()))?;
    }
    if named.iter().any(|(t, _)| t == "invoice.issued") {
        // The order's invoices and credit notes (the newest is the one issued).
        let documents = store.documents_of_order(order).await?;
        data["documents"] = serde_json::to_value(documents).map_err(|e| StoreError::Mapping(e.to_string()))?;
    }
    if named.iter().any(|(t, _)| t.starts_with("return.")) {
        let returns: Vec<_> = store.returns_of_order(order).await?.iter().map(customer_return).collect();
        data["returns"] = serde_json::to_value(returns).map_err(|e| StoreError::Mapping(e.to_string()))?;
    }
    if named.iter().any(|(t, _)| t.starts_with("case.")) {
        // The order's cases as they stand (which one changed: the newest `updatedAt`); never
        // their words, resolutions or disputes.
        let cases: Vec<serde_json::Value> = store
            .cases_of_order(order)
            .await?
            .iter()
            .filter(|c| c.kind != crate::domain::support::CaseKind::Dispute)
            .map(|c| {
                json!({"caseId": c.id, "kind": c.kind, "status": c.status, "createdAt": c.created_at, "updatedAt": c.updated_at})
            })
            .collect();
        data["cases"] = serde_json::Value::Array(cases);
    }
    let sequence = sequence.unwrap_or(state.version);
    Ok(named
        .iter()
        .map(|(kind, id)| DomainEvent {
            id: id.clone(),
            kind: kind.clone(),
            version: EVENT_VERSION,
            occurred_at,
            order_id: order.clone(),
            customer_id: state.customer_id.clone(),
            sequence,
            data: data.clone(),
        })
        .collect())
}

impl Effects {
    /// Publishes a change's events; returns how many. An order gone (erased from the table,
    /// which never happens for a live one) publishes nothing.
    #[tracing::instrument(skip_all, fields(order_id = %c.order))]
    pub async fn publish(&self, c: &ChangeEvents) -> Result<usize, EffectError> {
        let named: Vec<(String, String)> = c
            .types
            .iter()
            .filter(|t| EVENT_TYPES.contains(&t.as_str()))
            .map(|t| (t.clone(), event_id(&c.order, &c.change_id, t)))
            .collect();
        if named.is_empty() {
            return Ok(0);
        }
        let events = events_for(self.store.as_ref(), &c.order, &named, c.sequence, c.occurred_at).await?;
        if events.is_empty() {
            tracing::warn!("events for an order that is not there: skipped");
            return Ok(0);
        }
        let sequence = events[0].sequence;
        self.bus.publish(&events).await.map_err(EffectError::Transient)?;
        tracing::info!(events = events.len(), sequence, "events published");
        Ok(events.len())
    }
}

impl Effects {
    /// Publishes a SKU's available-to-promise at a location as it is now (`inventory.changed`);
    /// `false` when the location has no stock record. Its id follows the level's sequence, so a
    /// redelivered stream record publishes the same event again.
    #[tracing::instrument(skip_all, fields(sku = %sku, location_id = %location))]
    pub async fn publish_inventory(
        &self,
        sku: &crate::domain::Sku,
        location: &crate::domain::LocationId,
    ) -> Result<bool, EffectError> {
        use crate::domain::events::{InventoryEvent, InventoryLevel};
        let shards: Vec<_> =
            self.store.stock_for_sku(sku).await?.into_iter().filter(|r| &r.location_id == location).collect();
        if shards.is_empty() {
            return Ok(false);
        }
        let sum = |f: fn(&crate::domain::StockRecord) -> i64| shards.iter().map(f).sum::<i64>();
        let level = InventoryLevel {
            available: sum(|r| r.level.available),
            on_hand: sum(|r| r.level.on_hand),
            held: sum(|r| r.level.held),
            allocated: sum(|r| r.level.allocated),
            reorder_point: None,
            suggested_quantity: None,
            days_of_cover: None,
            cover_days: None,
        };
        let sequence = shards.iter().map(|r| r.version).sum();
        let e = InventoryEvent::new(sku.clone(), location.clone(), sequence, level, Utc::now());
        self.bus.publish_inventory(std::slice::from_ref(&e)).await.map_err(EffectError::Transient)?;
        tracing::info!(sequence, available = e.data.available, "inventory published");
        self.low_stock(&shards).await?;
        Ok(true)
    }

    /// A location that went below its reorder point: `inventory.low` once per crossing (its id
    /// is the crossing's number, published before the mark so a failure publishes the same
    /// event again), then the mark, on condition it is not set yet; back above, the mark goes.
    async fn low_stock(&self, shards: &[crate::domain::StockRecord]) -> Result<(), EffectError> {
        use crate::domain::events::{INVENTORY_LOW, InventoryEvent, InventoryLevel};
        use crate::domain::inventory::{Crossing, crossing, promisable, suggested_quantity};
        let Some(t) = crate::domain::stock::total(shards) else { return Ok(()) };
        match crossing(&t) {
            Some(Crossing::Below { n }) => {
                let level = InventoryLevel {
                    available: promisable(&t),
                    on_hand: t.level.on_hand,
                    held: t.level.held,
                    allocated: t.level.allocated,
                    reorder_point: t.control.as_ref().and_then(|c| c.reorder_point),
                    suggested_quantity: Some(suggested_quantity(&t)),
                    days_of_cover: None,
                    cover_days: None,
                };
                let mut e = InventoryEvent::new(t.sku.clone(), t.location_id.clone(), n, level, Utc::now());
                e.kind = INVENTORY_LOW.to_owned();
                e.id = format!("inventory.low.{}.{}.{n}", t.sku, t.location_id);
                self.bus.publish_inventory(std::slice::from_ref(&e)).await.map_err(EffectError::Transient)?;
                let marked = self.store.mark_low(&t.sku, &t.location_id, Some((n, e.occurred_at))).await?;
                tracing::info!(crossing = n, marked, "low stock alerted");
            }
            Some(Crossing::Recovered { .. }) => {
                self.store.mark_low(&t.sku, &t.location_id, None).await?;
            }
            None => {}
        }
        Ok(())
    }
}
