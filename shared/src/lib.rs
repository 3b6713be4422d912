//! The OMS library: `domain` (pure rules), `ports` (what use-cases need), `app` (use-cases over
//! ports only), `adapters` (DynamoDB single table, in-memory twins, AWS services, providers).

pub mod adapters;
pub mod app;
pub mod domain;
pub mod ports;
pub mod retry;
pub mod winansi;
