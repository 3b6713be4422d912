//! One error type for the use-cases; the HTTP layer maps each variant to a status code and a
//! stable problem `type`.

use crate::domain::sourcing::Shortage;
use crate::domain::{IllegalTransition, OrderStatus};
use crate::ports::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed or a field is invalid (400).
    #[error("{detail}")]
    Invalid { detail: String, field: Option<String> },
    /// The request is well-formed but cannot be processed as asked (422).
    #[error("{detail}")]
    Unprocessable { kind: &'static str, detail: String },
    /// Well-formed but refused because of one field's value (422 naming the field).
    #[error("{detail}")]
    UnprocessableField { kind: &'static str, detail: String, field: &'static str },
    /// Too many failed attempts at a secret: locked for a while (429).
    #[error("{detail}")]
    Locked { kind: &'static str, detail: String },
    #[error("not found")]
    NotFound,
    /// A signed link that has expired (410): the customer asks for a new one.
    #[error("the link has expired")]
    Gone,
    #[error("forbidden")]
    Forbidden,
    /// The caller's role does not reach this far (403): a refund over the agent limit.
    #[error("{0}")]
    OverLimit(String),
    #[error("not enough stock")]
    OutOfStock(Vec<Shortage>),
    #[error("the order is {status} and cannot be {action}")]
    InvalidState { status: OrderStatus, action: &'static str },
    #[error("the idempotency key was used with a different request")]
    IdempotencyMismatch,
    #[error("the resource changed: re-read it and retry with its current version")]
    StaleVersion,
    #[error("a version is required (If-Match header or version field)")]
    VersionRequired,
    #[error("the cart was already turned into an order")]
    CartConverted,
    /// The request conflicts with what already happened (409): a parcel already with the
    /// carrier, a provider event already applied.
    #[error("{detail}")]
    Conflict { kind: &'static str, detail: String },
    /// A conflict one field of the request causes (409 naming it): a promotion code another
    /// promotion has.
    #[error("{detail}")]
    ConflictField { kind: &'static str, detail: String, field: &'static str },
    /// A provider we depend on is down; the client may retry (503).
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn invalid(detail: impl Into<String>) -> Self {
        AppError::Invalid { detail: detail.into(), field: None }
    }
    pub fn invalid_field(field: &str, detail: impl std::fmt::Display) -> Self {
        AppError::Invalid { detail: format!("{field}: {detail}"), field: Some(field.to_owned()) }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::StaleVersion => AppError::StaleVersion,
            StoreError::BadCursor => AppError::invalid_field("cursor", "invalid pagination cursor"),
            StoreError::CartConverted => AppError::CartConverted,
            StoreError::PromotionExhausted(id) => AppError::UnprocessableField {
                kind: "promotion-exhausted",
                detail: format!("promotionCodes: promotion {id} has no uses left"),
                field: "promotionCodes",
            },
            StoreError::BackorderFull(sku) => AppError::UnprocessableField {
                kind: "backorder-full",
                detail: format!("quantity: {sku} takes no more backorders now"),
                field: "quantity",
            },
            StoreError::SlotFull(slot) => AppError::Conflict {
                kind: "slot-full",
                detail: format!("slotId: slot {slot} has no time left; choose another"),
            },
            StoreError::DuplicateEvent => {
                AppError::Conflict { kind: "duplicate-event", detail: "this provider event was already applied".into() }
            }
            StoreError::Conflict => AppError::Unavailable("the store is busy; retry shortly".into()),
            StoreError::TooLarge(n) => AppError::Unprocessable {
                kind: "order-too-large",
                detail: format!("the order needs {n} stock movements; split it into smaller orders"),
            },
            StoreError::Unavailable(m) => AppError::Unavailable(m),
            StoreError::OutOfStock(short) => AppError::OutOfStock(
                short.into_iter().map(|(sku, _)| Shortage { sku, requested: 0, available: 0 }).collect(),
            ),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<IllegalTransition> for AppError {
    fn from(e: IllegalTransition) -> Self {
        AppError::InvalidState { status: e.from, action: "changed that way" }
    }
}

/// Why a queue or stream consumer could not handle a message: worth retrying (it stays on the
/// queue or stream), or never going to succeed (it goes to the dead-letter queue after its
/// receives). Tracking, the notifier and the effects dispatcher all answer with it.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("transient: {0}")]
    Transient(String),
    #[error("permanent: {0}")]
    Permanent(String),
}

impl From<StoreError> for ConsumerError {
    fn from(e: StoreError) -> Self {
        ConsumerError::Transient(e.to_string())
    }
}

impl From<crate::ports::PaymentError> for ConsumerError {
    fn from(e: crate::ports::PaymentError) -> Self {
        match e {
            crate::ports::PaymentError::Transient(m) => ConsumerError::Transient(m),
            other => ConsumerError::Permanent(other.to_string()),
        }
    }
}

impl From<crate::ports::CarrierError> for ConsumerError {
    fn from(e: crate::ports::CarrierError) -> Self {
        match e {
            crate::ports::CarrierError::Transient(m) => ConsumerError::Transient(m),
            crate::ports::CarrierError::Rejected(m) => ConsumerError::Permanent(m),
        }
    }
}

/// Runs `op` again, each time from a fresh read, while another write of the same item lands
/// first (many devices on one cart, concurrent receipts of one return): they are applied one
/// after the other. A request still contended after every try is 409 `kind` with `detail`,
/// never a 412, which answers a version the caller sent (these requests name none).
pub(crate) async fn until_it_lands<T, F, Fut>(kind: &'static str, detail: &str, op: F) -> Result<T, AppError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    let patient = crate::retry::Backoff {
        attempts: 24,
        base: std::time::Duration::from_millis(5),
        max: std::time::Duration::from_millis(250),
    };
    crate::retry::retry(patient, |e| matches!(e, AppError::StaleVersion), op).await.map_err(|e| match e {
        AppError::StaleVersion => AppError::Conflict { kind, detail: detail.to_owned() },
        other => other,
    })
}
