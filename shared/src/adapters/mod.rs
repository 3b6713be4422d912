//! Adapters: the outside world behind the ports.

pub mod aws;
pub mod dynamo;
pub mod sandbox;
pub mod sqs;
