//! Use-cases, one folder or file per area. They import the domain and the ports, never an
//! adapter or an SDK (a check in the test command enforces it). Every order change goes
//! through `ports::OrderChanges::commit`; what must follow a change (mail, provider calls) is
//! recorded in the change as an effect and run by `effects` after the commit.

pub mod access;
pub mod adjustments;
pub mod analytics;
pub mod backorders;
pub mod carts;
pub mod cases;
pub mod catalog;
pub mod confirmations;
pub mod console;
pub mod conversations;
pub mod customers;
pub mod disputes;
pub mod effects;
pub mod error;
pub mod events;
pub mod feedback;
pub mod fulfillment;
pub mod inbound;
pub mod integrations;
pub mod invoices;
pub mod links;
pub mod loyalty;
pub mod messages;
pub mod notify;
pub mod orders;
pub mod parked;
pub mod privacy;
pub mod projections;
pub mod promotion_input;
pub mod promotions;
pub mod public_tracking;
pub mod reconcile;
pub mod reminders;
pub mod replenishment;
pub mod returns;
pub mod rules;
pub mod services;
pub mod stock_counts;
pub mod stock_import;
pub mod storefront;
pub mod support;
pub mod text;
pub mod tracking;
pub mod views;
pub mod visits;
pub mod warranty;
pub mod webhook_delivery;
pub mod webhook_subscriptions;
pub mod webhooks;

pub use access::{Audience, Caller, Permission, Role, Roles};
pub use error::AppError;

use crate::ports::{Clock, Store};
use std::sync::Arc;

/// The OMS use-cases over their ports. Built once per process (by the composition root,
/// `oms_runtime::wiring`) and shared by every request. Every port is required.
#[derive(Clone)]
pub struct Oms {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Label documents are fetched from (or rendered by) the carrier on request.
    pub carrier: Arc<dyn crate::ports::Carrier>,
    /// Contention on stock items seen by this instance (raises shard counts).
    pub hot: Arc<orders::HotStock>,
    /// Webhook URLs may name private and loopback hosts, over http (local runs only).
    pub webhooks_private_targets: bool,
    /// How long a store keeps a pickup order before it is cancelled (days).
    pub pickup_hold_days: i64,
    /// How long a declined order keeps its stock waiting for another payment method (hours).
    pub payment_recovery_hours: i64,
    /// Days after delivery the satisfaction survey is sent (0: none).
    pub feedback_after_days: i64,
    /// The loyalty programme: members' tiers and offers.
    pub loyalty: Arc<dyn crate::ports::Loyalty>,
}

impl Oms {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        carrier: Arc<dyn crate::ports::Carrier>,
        loyalty: Arc<dyn crate::ports::Loyalty>,
    ) -> Self {
        Oms {
            loyalty,
            store,
            clock,
            carrier,
            hot: Arc::default(),
            webhooks_private_targets: false,
            pickup_hold_days: 7,
            payment_recovery_hours: 24,
            feedback_after_days: 3,
        }
    }
}
