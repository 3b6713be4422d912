//! The OMS library: `domain` (pure rules), `ports` (what use-cases need), `adapters`
//! (DynamoDB single table and friends), `app` (use-cases wiring ports together).

pub mod adapters;
pub mod app;
pub mod domain;
pub mod ports;
