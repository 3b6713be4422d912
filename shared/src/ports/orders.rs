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
    /// A customer's orders, newest first, keyset-paginated.
    async fn orders_of_customer(
        &self,
        customer: &CustomerId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Order>, StoreError>;
    /// Orders in one status, newest first, optionally from a date.
    async fn orders_by_status(
        &self,
        status: OrderStatus,
        from: Option<DateTime<Utc>>,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Order>, StoreError>;
    /// Orders placed with an e-mail address, newest first, optionally from a date.
    async fn orders_by_email(
        &self,
        email: &Email,
        from: Option<DateTime<Utc>>,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Order>, StoreError>;
    /// Orders placed with an e-mail address since `since` (fraud velocity signal).
    async fn count_orders_by_email_since(&self, email: &Email, since: DateTime<Utc>) -> Result<usize, StoreError>;
    async fn timeline(&self, order: &OrderId) -> Result<Vec<TimelineEvent>, StoreError>;
    /// The order a payment authorization belongs to.
    async fn order_for_payment(&self, authorization_id: &str) -> Result<Option<OrderId>, StoreError>;
}

/// The one write path for order changes: every condition of the change (order version, new
/// items absent, stock guards, idempotency key, cart version, provider event not yet seen) holds
/// and everything is written, with its outbox entry, or nothing is and the refusal is typed.
#[async_trait::async_trait]
pub trait OrderChanges: Send + Sync {
    async fn commit(&self, change: &OrderChange) -> Result<(), StoreError>;
}
