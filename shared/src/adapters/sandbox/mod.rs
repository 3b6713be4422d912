//! Offline, deterministic providers for local runs and tests.

pub mod carrier;
pub mod integrations;
pub mod label;
pub mod payment;

pub use carrier::SandboxCarrier;
pub use integrations::SandboxIntegrations;
pub use payment::SandboxPayments;
