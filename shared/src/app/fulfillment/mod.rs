//! The fulfillment steps, one per Lambda, each idempotent: re-running a step with the same
//! input changes nothing more. Errors carry the names the state machine's Retry and Catch
//! match (see `infra/statemachines/fulfillment.asl.json`). Each step commits through the one
//! write path; a step that calls a provider first does so with a key derived from the order
//! and step, and undoes the call when the order moved on under it.

mod allocate;
mod compensate;
mod label;
mod pack;
pub use label::{carrier_pdf, shipment_parcel, stored_pdf};
pub use pack::{PICK_LIST_LIMIT, PackRequest, Packed, Pick, PickLine};
mod pay;
mod validate;

use super::Oms;
pub use crate::domain::Notification;
use crate::domain::*;
use crate::ports::{Carrier, CarrierError, PaymentError, PaymentGateway, StoreError};
use chrono::{Datelike, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// A step failure, named for the state machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct StepError {
    pub name: &'static str,
    pub message: String,
}

impl StepError {
    pub const ORDER_REJECTED: &'static str = "OrderRejected";
    pub const ORDER_NOT_ACTIVE: &'static str = "OrderNotActive";
    pub const ALLOCATION_FAILED: &'static str = "AllocationFailed";
    pub const PAYMENT_DECLINED: &'static str = "PaymentDeclined";
    pub const PAYMENT_TRANSIENT: &'static str = "PaymentTransient";
    pub const CARRIER_REJECTED: &'static str = "CarrierRejected";
    pub const CARRIER_TRANSIENT: &'static str = "CarrierTransient";
    pub const STORE_TRANSIENT: &'static str = "StoreTransient";
    pub const INVALID_INPUT: &'static str = "InvalidInput";
    pub const INTERNAL: &'static str = "InternalError";

    /// Every name a step can raise; the definition checker allows only these (plus `States.*`
    /// and `Lambda.*`) in Retry and Catch.
    pub const ALL: [&'static str; 10] = [
        Self::ORDER_REJECTED,
        Self::ORDER_NOT_ACTIVE,
        Self::ALLOCATION_FAILED,
        Self::PAYMENT_DECLINED,
        Self::PAYMENT_TRANSIENT,
        Self::CARRIER_REJECTED,
        Self::CARRIER_TRANSIENT,
        Self::STORE_TRANSIENT,
        Self::INVALID_INPUT,
        Self::INTERNAL,
    ];

    pub fn new(name: &'static str, message: impl Into<String>) -> Self {
        StepError { name, message: message.into() }
    }
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict | StoreError::StaleVersion => {
                StepError::new(StepError::STORE_TRANSIENT, e.to_string())
            }
            StoreError::Unavailable(m) => StepError::new(StepError::STORE_TRANSIENT, m),
            other => StepError::new(StepError::INTERNAL, other.to_string()),
        }
    }
}

impl From<PaymentError> for StepError {
    fn from(e: PaymentError) -> Self {
        match e {
            PaymentError::Transient(m) => StepError::new(StepError::PAYMENT_TRANSIENT, m),
            PaymentError::Declined(m) | PaymentError::Rejected(m) => StepError::new(StepError::PAYMENT_DECLINED, m),
        }
    }
}

impl From<CarrierError> for StepError {
    fn from(e: CarrierError) -> Self {
        match e {
            CarrierError::Transient(m) => StepError::new(StepError::CARRIER_TRANSIENT, m),
            CarrierError::Rejected(m) => StepError::new(StepError::CARRIER_REJECTED, m),
        }
    }
}

/// The input every step receives.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepInput {
    pub order_id: OrderId,
    /// For allocation: validation's outcome in this run (`{"outcome", "score", "version"}`);
    /// a pass is recorded by the allocation's own write, for the order version it assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Value>,
    /// For compensation: the caught error (`{"Error": ..., "Cause": ...}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// The fulfillment use-cases and their ports.
#[derive(Clone)]
pub struct Fulfillment {
    pub oms: Oms,
    pub payments: Arc<dyn PaymentGateway>,
    pub carrier: Arc<dyn Carrier>,
}

fn system(step: &str) -> Actor {
    Actor::System(step.to_owned())
}

/// Business days from `from` to `to` (0 when `to` is not later).
fn business_days_between(from: chrono::NaiveDate, to: chrono::NaiveDate) -> u32 {
    let mut d = from;
    let mut n = 0;
    while d < to {
        d += chrono::Duration::days(1);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            n += 1;
        }
    }
    n
}

impl Fulfillment {
    async fn load(&self, id: &OrderId) -> Result<Order, StepError> {
        self.oms.store.get_order(id).await?.ok_or_else(|| StepError::new(StepError::ORDER_NOT_ACTIVE, "no such order"))
    }

    /// Commits a step's change; stock no longer held is an allocation failure.
    async fn commit(&self, change: &OrderChange) -> Result<(), StepError> {
        self.oms.store.commit(change).await.map_err(|e| match e {
            StoreError::StockPrecondition(items) => {
                StepError::new(StepError::ALLOCATION_FAILED, format!("stock no longer held: {items:?}"))
            }
            other => other.into(),
        })
    }

    fn not_active(o: &Order) -> StepError {
        StepError::new(StepError::ORDER_NOT_ACTIVE, format!("order is {}", o.status))
    }

    /// Runs a step by its function name (the crate name under `functions/`). The Lambda
    /// binaries and the local ASL executor both come through here.
    pub async fn dispatch(&self, function: &str, input: Value) -> Result<Value, StepError> {
        let input: StepInput =
            serde_json::from_value(input).map_err(|e| StepError::new(StepError::INVALID_INPUT, e.to_string()))?;
        let res = match function {
            "validate-order" => Box::pin(self.validate(&input)).await,
            "allocate-order" => Box::pin(self.allocate(&input)).await,
            "authorize-payment" => Box::pin(self.authorize_payment(&input)).await,
            "create-labels" => Box::pin(self.create_labels(&input)).await,
            "compensate-order" => Box::pin(self.compensate(&input)).await,
            other => Err(StepError::new(StepError::INTERNAL, format!("unknown step function {other}"))),
        };
        match &res {
            Ok(_) => tracing::info!(order_id = %input.order_id, step = function, "step done"),
            Err(e) => tracing::warn!(order_id = %input.order_id, step = function, error = e.name, "step failed"),
        }
        res
    }

    /// The step functions `dispatch` knows.
    pub const STEP_FUNCTIONS: [&'static str; 5] =
        ["validate-order", "allocate-order", "authorize-payment", "create-labels", "compensate-order"];
}

impl From<IllegalTransition> for StepError {
    fn from(e: IllegalTransition) -> Self {
        StepError::new(StepError::ORDER_NOT_ACTIVE, e.to_string())
    }
}
