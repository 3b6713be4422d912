//! What a storage port can refuse, in domain terms. Adapters map their own failures (a
//! conditional check, a cancelled transaction, throttling) onto these.

use crate::domain::{LocationId, Sku};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    #[error("the item changed since it was read")]
    StaleVersion,
    #[error("out of stock: {0:?}")]
    OutOfStock(Vec<(Sku, LocationId)>),
    #[error("a stock movement's precondition failed: {0:?}")]
    StockPrecondition(Vec<(Sku, LocationId)>),
    #[error("the idempotency key is already used")]
    IdempotencyKeyUsed,
    /// A promotion's use would pass its total or per-customer limit.
    #[error("promotion {0} has no uses left")]
    PromotionExhausted(String),
    /// A SKU's backorder limit would be passed (its SKU).
    #[error("backorders of {0} are full")]
    BackorderFull(String),
    /// A technician window has not the minutes a visit needs (its slot id).
    #[error("slot {0} is full")]
    SlotFull(String),
    #[error("the cart was already converted to an order")]
    CartConverted,
    /// The provider event was already applied (its dedupe record is part of the change).
    #[error("the provider event was already applied")]
    DuplicateEvent,
    /// Contention or throttling: worth another attempt after a pause.
    #[error("concurrent transaction conflict")]
    Conflict,
    #[error("change too large ({0} items, at most 100)")]
    TooLarge(usize),
    #[error("invalid pagination cursor")]
    BadCursor,
    #[error("stored item could not be mapped: {0}")]
    Mapping(String),
    /// The store failed in a way no caller branches on (logged, answered as unavailable).
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Conflict)
    }
}
