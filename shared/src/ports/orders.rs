//! Orders: reads, listings, and the one write path (`OrderChanges::commit`).

use super::StoreError;
use crate::domain::{CustomerId, Email, Order, OrderChange, OrderId, OrderStatus, Shipment, TimelineEvent};
use chrono::{DateTime, Utc};

/// An order with everything in its item collection.
#[derive(Debug, Clone)]
pub struct OrderView {
    pub order: Order,
    pub shipments: Vec<Shipment>,
    pub timeline: Vec<TimelineEvent>,
}

/// An order's view with its returns and cases: everything a figure about the order is
/// derived from (analytics).
#[derive(Debug, Clone)]
pub struct OrderFile {
    pub view: OrderView,
    pub returns: Vec<crate::domain::returns::Rma>,
    pub cases: Vec<crate::domain::support::Case>,
}

/// Which page of a listing: at most `limit` items, after the opaque `cursor` of the previous
/// page, created at or after `from`.
#[derive(Debug, Clone, Copy)]
pub struct Listing<'a> {
    pub from: Option<DateTime<Utc>>,
    pub limit: i32,
    pub cursor: Option<&'a str>,
}

impl<'a> Listing<'a> {
    pub fn first(limit: i32) -> Self {
        Listing { from: None, limit, cursor: None }
    }
    pub fn after(self, cursor: Option<&'a str>) -> Self {
        Listing { cursor, ..self }
    }
    pub fn since(self, from: Option<DateTime<Utc>>) -> Self {
        Listing { from, ..self }
    }
    /// Index entries to read for one page: one more than the page shows (to know if another
    /// follows), and one more again after a cursor (the cursor's own entry comes back).
    pub fn read_limit(&self) -> i32 {
        self.limit + if self.cursor.is_some() { 2 } else { 1 }
    }
}

/// Whether a decoded cursor is a listing position a store issues: `<RFC 3339 instant>#<order
/// id>` (an order's creation and id). Anything else is a cursor the server did not issue (400).
pub fn is_created_position(s: &str) -> bool {
    s.split_once('#').is_some_and(|(at, id)| DateTime::parse_from_rfc3339(at).is_ok() && OrderId::parse(id).is_ok())
}

/// One page of a listing with an opaque cursor for the next.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[async_trait::async_trait]
pub trait OrderRepository: Send + Sync {
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError>;
    /// The order with its shipments and timeline, read consistently.
    async fn get_order_view(&self, id: &OrderId) -> Result<Option<OrderView>, StoreError>;
    /// The view with the order's returns and cases, read consistently: one read where the
    /// store keeps them together.
    async fn get_order_file(&self, id: &OrderId) -> Result<Option<OrderFile>, StoreError>;
    /// The order with its shipments, without its timeline (left empty): what a mail renders,
    /// read consistently at a fraction of the view's size.
    async fn get_order_with_shipments(&self, id: &OrderId) -> Result<Option<OrderView>, StoreError> {
        Ok(self.get_order_view(id).await?.map(|v| OrderView { timeline: Vec::new(), ..v }))
    }
    /// `get_order_with_shipments` read eventually consistently (half the price): possibly an
    /// older version. Readers use `get_order_with_shipments_since`.
    async fn get_order_with_shipments_eventually(&self, id: &OrderId) -> Result<Option<OrderView>, StoreError> {
        self.get_order_with_shipments(id).await
    }
    /// The order with its shipments, at version `since` or newer: read eventually consistently
    /// first (what a reader after a commit that knows the version needs), and consistently
    /// when that read is older, finds nothing, or no version is known.
    async fn get_order_with_shipments_since(
        &self,
        id: &OrderId,
        since: Option<u64>,
    ) -> Result<Option<OrderView>, StoreError> {
        if let Some(v) = since
            && let Some(view) = self.get_order_with_shipments_eventually(id).await?
            && view.order.version >= v
        {
            return Ok(Some(view));
        }
        self.get_order_with_shipments(id).await
    }
    /// A customer's orders, newest first (`from` does not apply).
    async fn orders_of_customer(&self, customer: &CustomerId, l: Listing<'_>) -> Result<Page<Order>, StoreError>;
    /// A customer's orders, newest first, page after page until `max` or the last.
    async fn customer_orders_up_to(&self, customer: &CustomerId, max: usize) -> Result<Vec<Order>, StoreError> {
        let mut out: Vec<Order> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.orders_of_customer(customer, Listing::first(100).after(cursor.as_deref())).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) if out.len() < max => cursor = Some(c),
                _ => return Ok(out),
            }
        }
    }
    /// Orders in one status, newest first.
    async fn orders_by_status(&self, status: OrderStatus, l: Listing<'_>) -> Result<Page<Order>, StoreError>;
    /// Every order, newest first (the reconciliation sweep).
    async fn all_orders(&self, l: Listing<'_>) -> Result<Page<Order>, StoreError>;
    /// Orders placed with an e-mail address (case-insensitive), newest first.
    async fn orders_by_email(&self, email: &Email, l: Listing<'_>) -> Result<Page<Order>, StoreError>;
    /// Orders placed with an e-mail address since `since` (fraud velocity signal).
    async fn count_orders_by_email_since(&self, email: &Email, since: DateTime<Utc>) -> Result<usize, StoreError>;
    async fn timeline(&self, order: &OrderId) -> Result<Vec<TimelineEvent>, StoreError>;
    /// The order a payment authorization belongs to.
    async fn order_for_payment(&self, authorization_id: &str) -> Result<Option<OrderId>, StoreError>;
}

/// The one write path for order changes: every condition of the change (order version, new
/// items absent, stock guards, idempotency key, cart version, provider event not yet seen) holds
/// and everything is written, with its outbox entry, or nothing is and the refusal is typed.
/// Lookups and documents that nothing references until the change commits (payment
/// references, label documents) are written ahead and may outlive a refused change.
#[async_trait::async_trait]
pub trait OrderChanges: Send + Sync {
    async fn commit(&self, change: &OrderChange) -> Result<(), StoreError>;

    /// Finishes commits interrupted between the parts of a change too large for one write
    /// (older than `older_than`): what was taken ahead of a commit that never happened is given
    /// back, what a commit freed is given back to the end. Returns how many parts it handled.
    async fn finish_interrupted(&self, _older_than: chrono::DateTime<chrono::Utc>) -> Result<usize, StoreError> {
        Ok(0)
    }
}
