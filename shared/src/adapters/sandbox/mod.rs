//! Offline, deterministic providers for local runs and tests.

pub mod carrier;
pub mod label;
pub mod payment;

pub use carrier::SandboxCarrier;
pub use payment::SandboxPayments;
