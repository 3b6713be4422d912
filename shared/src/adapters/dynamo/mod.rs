//! The DynamoDB single-table adapter: every storage port of `crate::ports` over one table.
//! `keys` holds every key format; `table` the generic operations; `tx` transaction items and
//! their mapping to domain refusals (`errors`); `change` the one write path; `entities` one
//! module per stored entity; `meter` the capacity meter benchmarks attach to the client.

pub mod billing;
pub mod cache;
pub mod change;
pub mod cursor;
pub mod entities;
pub mod errors;
pub mod item;
pub mod keys;
pub mod meter;
pub mod parts;
pub mod table;
pub mod tx;

pub use table::DynamoStore;
