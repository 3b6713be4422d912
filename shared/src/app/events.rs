//! Integration events, published after the commit: a change record that announced event types
//! (`domain::events::event_types`, recorded with the change) reaches `Effects::publish` from
//! the table's stream; the events carry the order in the integration projection (no notes,
//! fraud signals or provider errors) and go to the bus with ids that are the same on every
//! redelivery, so a retried batch publishes the same events again and consumers keep one.

use super::effects::{EffectError, Effects};
use super::projections::{customer_return, integration_order};
use crate::domain::OrderId;
use crate::domain::events::{DomainEvent, EVENT_TYPES, EVENT_VERSION, event_id};
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

impl Effects {
    /// Publishes a change's events; returns how many. An order gone (erased from the table,
    /// which never happens for a live one) publishes nothing.
    #[tracing::instrument(skip_all, fields(order_id = %c.order))]
    pub async fn publish(&self, c: &ChangeEvents) -> Result<usize, EffectError> {
        let types: Vec<&str> = c.types.iter().map(String::as_str).filter(|t| EVENT_TYPES.contains(t)).collect();
        if types.is_empty() {
            return Ok(0);
        }
        let Some(view) = self.store.get_order_with_shipments(&c.order).await? else {
            tracing::warn!("events for an order that is not there: skipped");
            return Ok(0);
        };
        let payment = super::views::PaymentDetails::of(&view.order);
        let order = integration_order(view).order;
        let mut data = json!({ "order": order });
        if types.iter().any(|t| t.starts_with("payment.") || *t == "return.refunded") {
            // What finance and the ERP book: totals and the ledger (provider references only).
            data["payment"] = serde_json::to_value(payment).map_err(|e| EffectError::Permanent(e.to_string()))?;
        }
        if types.iter().any(|t| t.starts_with("return.")) {
            let returns: Vec<_> = self.store.returns_of_order(&c.order).await?.iter().map(customer_return).collect();
            data["returns"] = serde_json::to_value(returns).map_err(|e| EffectError::Permanent(e.to_string()))?;
        }
        let sequence = c.sequence.unwrap_or(order.version);
        let events: Vec<DomainEvent> = types
            .iter()
            .map(|t| DomainEvent {
                id: event_id(&c.order, &c.change_id, t),
                kind: (*t).to_owned(),
                version: EVENT_VERSION,
                occurred_at: c.occurred_at,
                order_id: c.order.clone(),
                customer_id: order.customer_id.clone(),
                sequence,
                data: data.clone(),
            })
            .collect();
        self.bus.publish(&events).await.map_err(EffectError::Transient)?;
        tracing::info!(events = events.len(), sequence, "events published");
        Ok(events.len())
    }
}
