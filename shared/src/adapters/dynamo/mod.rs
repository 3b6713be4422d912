//! The DynamoDB single-table adapter: key formats (`keys`), item mapping (`item`) and the
//! repositories (`store`), with conditional writes mapped to domain errors.

pub mod billing;
pub mod item;
pub mod keys;
pub mod store;

pub use store::{DynamoStore, IdempotencyRecord, OrderView, Page, StockRecord, StoreError, TxOp};
