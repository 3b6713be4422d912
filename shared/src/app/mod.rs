//! Use-cases: each takes the ports it needs, applies the domain rules, and writes what must
//! hold together in one transaction.

pub mod carts;
pub mod catalog;
pub mod disputes;
pub mod error;
pub mod fulfillment;
pub mod notify;
pub mod orders;
pub mod reminders;
pub mod returns;
pub mod support;
pub mod tracking;
pub mod views;
pub mod webhooks;

pub use error::AppError;

use crate::adapters::dynamo::DynamoStore;
use crate::domain::CustomerId;
use crate::ports::{Clock, PaymentGateway};
use std::sync::Arc;

/// Who is calling: the JWT `sub` and whether the token carries the admin scope.
#[derive(Debug, Clone)]
pub struct Caller {
    pub customer: CustomerId,
    pub admin: bool,
}

/// The OMS use-cases over their ports. Built once per process and shared by every request.
#[derive(Clone)]
pub struct Oms {
    pub store: DynamoStore,
    pub clock: Arc<dyn Clock>,
    /// Needed to void an authorization when an order is cancelled after payment.
    pub payments: Option<Arc<dyn PaymentGateway>>,
    /// Customer notifications (cancellations, agent re-sends).
    pub notifications: Option<Arc<dyn crate::ports::Queue>>,
}

impl Oms {
    pub fn new(store: DynamoStore, clock: Arc<dyn Clock>) -> Self {
        Oms { store, clock, payments: None, notifications: None }
    }

    pub fn with_payments(mut self, p: Arc<dyn PaymentGateway>) -> Self {
        self.payments = Some(p);
        self
    }

    pub fn with_notifications(mut self, q: Arc<dyn crate::ports::Queue>) -> Self {
        self.notifications = Some(q);
        self
    }

    /// Enqueues a customer notification when a queue is configured.
    pub async fn notify(&self, n: &fulfillment::Notification) -> Result<(), AppError> {
        if let Some(q) = &self.notifications {
            let body = serde_json::to_string(n).map_err(|e| AppError::Internal(e.to_string()))?;
            q.send(&body).await.map_err(AppError::Unavailable)?;
        }
        Ok(())
    }
}
