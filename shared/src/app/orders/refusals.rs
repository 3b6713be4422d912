//! Why an order cannot be changed the way asked: the parcel is with the carrier, or the order
//! replaces goods (an exchange, a warranty claim) and its lines and total stay.

use crate::app::AppError;
use crate::domain::{OrderId, ReturnId};

/// The parcel is with the carrier: nothing can be taken back but through a return.
pub(super) fn handed_over(id: &OrderId) -> AppError {
    AppError::Conflict {
        kind: "handed-over",
        detail: format!("a parcel of order {id} is with the carrier: once it is delivered, open a return"),
    }
}

/// A warranty replacement goes out at no charge (its credit covers it): what it sends is the
/// claimed goods, at the total it was placed with.
pub(super) fn warranty_order(id: &OrderId) -> AppError {
    AppError::Conflict {
        kind: "warranty-order",
        detail: format!(
            "order {id} replaces goods under warranty at no charge: its lines and total stay; its address may change"
        ),
    }
}

pub(super) fn exchange_order(id: &OrderId, rma: &ReturnId) -> AppError {
    AppError::Conflict {
        kind: "exchange-order",
        detail: format!(
            "order {id} replaces the goods of return {rma}: its lines and total (tax) stay; cancel it for the credit"
        ),
    }
}
