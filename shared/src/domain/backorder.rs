//! Pre-orders and backorders: for a SKU flagged with a backorder limit, a customer's request is
//! accepted without stock while the units waiting stay within the limit (the SKU's counter, a
//! condition of the request's own write), and requests become orders in arrival order when
//! stock comes (the oldest waiting first; a request that cannot be filled yet stops the line).

use super::address::Address;
use super::email::Email;
use super::ids::{CustomerId, OrderId, Sku};
use super::order::{Channel, ServiceLevel};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackorderStatus {
    /// Accepted, waiting for stock.
    Waiting,
    /// Claimed by an allocation placing its order (a cancel now is refused; a retry of the
    /// allocation places the same order).
    Placing,
    /// Became an order (`orderId`).
    Placed,
    /// Cancelled by the customer, or refused when it came to be placed (`reason`).
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backorder {
    /// A ULID: requests sort in arrival order.
    pub backorder_id: String,
    pub sku: Sku,
    pub quantity: u32,
    pub customer: CustomerId,
    pub email: Email,
    pub shipping_address: Address,
    pub service_level: ServiceLevel,
    /// The payment provider's token, authorized when the order is placed.
    pub payment_token: String,
    pub channel: Channel,
    pub status: BackorderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Backorder {
    /// The request settled (placed or cancelled): the next version.
    pub fn settled(
        &self,
        status: BackorderStatus,
        order: Option<OrderId>,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Backorder {
        Backorder { status, order_id: order, reason, version: self.version + 1, updated_at: now, ..self.clone() }
    }
}
