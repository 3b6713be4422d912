//! DynamoDB failures mapped to `StoreError`: a conditional check or a cancelled transaction
//! becomes the domain refusal its item stands for.

use crate::domain::{LocationId, Sku};
use crate::ports::StoreError;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::CancellationReason;

pub fn sdk<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
    match code {
        "ConditionalCheckFailedException" => StoreError::StaleVersion,
        // Contention and throttling: worth another attempt after a pause.
        "TransactionConflictException"
        | "TransactionInProgressException"
        | "ThrottlingException"
        | "ProvisionedThroughputExceededException"
        | "RequestLimitExceeded" => StoreError::Conflict,
        _ => StoreError::Unavailable(format!(
            "{}: {}",
            if code.is_empty() { "request failed" } else { code },
            e.as_service_error().and_then(|s| s.message()).unwrap_or("no message")
        )),
    }
}

pub fn mapping(e: serde_dynamo::Error) -> StoreError {
    StoreError::Mapping(e.to_string())
}

/// What each item of a transaction stands for, so a cancellation reason maps to a domain error.
#[derive(Debug, Clone)]
pub enum TxRole {
    NewItem,
    Versioned,
    Idempotency,
    StockTake(Sku, LocationId),
    StockMove(Sku, LocationId),
    CartConversion,
    ProviderEvent,
    /// A promotion's use counter (its limit as the condition).
    PromotionUse(String),
    /// A technician window's free minutes (its slot id).
    SlotBooking(String),
    /// A SKU's backorder counter (its limit as the condition).
    Backorder(String),
    /// A part marker of a change split over several transactions (`parts`): its condition
    /// failing means another writer (the sweep) dealt with the part.
    Part,
    Other,
}

pub fn map_cancellation(roles: &[TxRole], reasons: &[CancellationReason]) -> StoreError {
    let mut short = Vec::new();
    let mut moved = Vec::new();
    let mut first: Option<StoreError> = None;
    for (role, reason) in roles.iter().zip(reasons) {
        match reason.code().unwrap_or("None") {
            "None" | "" => {}
            "ConditionalCheckFailed" => match role {
                TxRole::StockTake(s, l) => short.push((s.clone(), l.clone())),
                TxRole::StockMove(s, l) => moved.push((s.clone(), l.clone())),
                TxRole::Idempotency => first = Some(StoreError::IdempotencyKeyUsed),
                TxRole::ProviderEvent => {
                    first.get_or_insert(StoreError::DuplicateEvent);
                }
                TxRole::PromotionUse(id) => {
                    first.get_or_insert(StoreError::PromotionExhausted(id.clone()));
                }
                TxRole::SlotBooking(slot) => {
                    first.get_or_insert(StoreError::SlotFull(slot.clone()));
                }
                TxRole::Backorder(sku) => {
                    first.get_or_insert(StoreError::BackorderFull(sku.clone()));
                }
                TxRole::Versioned | TxRole::Other => {
                    first.get_or_insert(StoreError::StaleVersion);
                }
                TxRole::NewItem => {
                    first.get_or_insert(StoreError::AlreadyExists);
                }
                TxRole::CartConversion => {
                    first.get_or_insert(StoreError::CartConverted);
                }
                TxRole::Part => {
                    first.get_or_insert(StoreError::Conflict);
                }
            },
            "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded" => {
                first.get_or_insert(StoreError::Conflict);
            }
            other => {
                first.get_or_insert(StoreError::Unavailable(format!("transaction cancelled: {other}")));
            }
        }
    }
    // A used idempotency key or a seen event explains everything else; then versions; then stock.
    match first {
        Some(e @ (StoreError::IdempotencyKeyUsed | StoreError::DuplicateEvent)) => e,
        Some(e @ (StoreError::StaleVersion | StoreError::AlreadyExists | StoreError::CartConverted)) => e,
        _ if !short.is_empty() => StoreError::OutOfStock(short),
        _ if !moved.is_empty() => StoreError::StockPrecondition(moved),
        Some(e) => e,
        None => StoreError::Conflict,
    }
}
