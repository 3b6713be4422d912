//! Adapters: the outside world behind the ports.

pub mod aws;
pub mod carriers;
pub mod dynamo;
pub mod easypost;
pub mod eventbridge;
pub mod http;
pub mod integrations;
pub mod marketplace;
pub mod memory;
pub mod sandbox;
pub mod ses;
pub mod sns;
pub mod sqs;
pub mod stripe;
