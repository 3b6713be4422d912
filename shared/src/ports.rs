//! Narrow traits the use-cases need from the outside world.

use chrono::{DateTime, Utc};

/// Time, injectable so tests can move it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Starts the fulfillment workflow for a placed order. Implementations must be idempotent per
/// order (a second start for the same order is a no-op).
#[async_trait::async_trait]
pub trait WorkflowStarter: Send + Sync {
    async fn start(&self, order_id: &crate::domain::OrderId) -> Result<(), String>;
}
