//! The order status machine. The only way to change an order's status is [`transition`].

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed, waiting for an agent's confirmation call before fulfillment starts (a rule
    /// chose it at placement: value, first order, services).
    AwaitingConfirmation,
    Placed,
    Validated,
    Allocated,
    /// The payment was declined: the stock stays held until a deadline for the customer to
    /// give another payment method (`POST /v1/orders/{id}/payment`); then it is cancelled.
    PaymentRequired,
    PaymentAuthorized,
    ReadyToShip,
    /// A pickup order whose goods wait at the store for the customer (with a pickup code).
    ReadyForPickup,
    PartiallyShipped,
    Shipped,
    Delivered,
    Completed,
    OnHold,
    Cancelled,
    Failed,
    ReturnRequested,
    PartiallyReturned,
    Returned,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 18] = [
        OrderStatus::AwaitingConfirmation,
        OrderStatus::Placed,
        OrderStatus::Validated,
        OrderStatus::Allocated,
        OrderStatus::PaymentRequired,
        OrderStatus::PaymentAuthorized,
        OrderStatus::ReadyToShip,
        OrderStatus::ReadyForPickup,
        OrderStatus::PartiallyShipped,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Completed,
        OrderStatus::OnHold,
        OrderStatus::Cancelled,
        OrderStatus::Failed,
        OrderStatus::ReturnRequested,
        OrderStatus::PartiallyReturned,
        OrderStatus::Returned,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::AwaitingConfirmation => "awaiting_confirmation",
            OrderStatus::Placed => "placed",
            OrderStatus::Validated => "validated",
            OrderStatus::Allocated => "allocated",
            OrderStatus::PaymentRequired => "payment_required",
            OrderStatus::PaymentAuthorized => "payment_authorized",
            OrderStatus::ReadyToShip => "ready_to_ship",
            OrderStatus::ReadyForPickup => "ready_for_pickup",
            OrderStatus::PartiallyShipped => "partially_shipped",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Completed => "completed",
            OrderStatus::OnHold => "on_hold",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Failed => "failed",
            OrderStatus::ReturnRequested => "return_requested",
            OrderStatus::PartiallyReturned => "partially_returned",
            OrderStatus::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self, OrderStatus::Cancelled | OrderStatus::Failed | OrderStatus::Returned)
    }

    /// Before handover: lines, quantities and address may still change, and the order may be
    /// cancelled or held (whether a parcel was handed over is the shipments' to say).
    pub fn is_before_handover(&self) -> bool {
        matches!(
            self,
            OrderStatus::AwaitingConfirmation
                | OrderStatus::Placed
                | OrderStatus::Validated
                | OrderStatus::Allocated
                | OrderStatus::PaymentRequired
                | OrderStatus::PaymentAuthorized
                | OrderStatus::ReadyToShip
                | OrderStatus::ReadyForPickup
                | OrderStatus::OnHold
        )
    }

    /// In the fulfillment workflow (or waiting at its end for the carrier or the customer): an
    /// agent may hold it, an edit may send it to a confirmation call.
    pub fn is_in_workflow(&self) -> bool {
        self.is_before_handover() && !matches!(self, OrderStatus::AwaitingConfirmation | OrderStatus::OnHold)
    }

    pub fn is_editable(&self) -> bool {
        self.is_before_handover()
    }

    pub fn is_cancellable(&self) -> bool {
        self.is_before_handover()
    }

    /// Work on the order was done past validation (stock allocated, payment authorized,
    /// labels bought): an edit has to undo it and start the workflow again.
    pub fn is_past_validation(&self) -> bool {
        matches!(
            self,
            OrderStatus::Allocated
                | OrderStatus::PaymentRequired
                | OrderStatus::PaymentAuthorized
                | OrderStatus::ReadyToShip
                | OrderStatus::ReadyForPickup
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderEvent {
    /// An agent confirmed the order on the call (or the wait ran out and the rule releases it).
    Confirm,
    /// An edit made the order one the confirmation rule calls about: fulfillment work is undone
    /// and the order waits for the call.
    RequireCall,
    Validate,
    HoldForReview,
    ReleaseHold,
    Allocate,
    AuthorizePayment,
    /// The payment was declined: the order waits for another payment method, stock held.
    RequirePayment,
    /// The customer gave another payment method: authorization is tried again.
    SubmitPayment,
    LabelsCreated,
    /// A pickup order's goods are at the store (instead of labels).
    StageForPickup,
    /// The customer collected a pickup order (with the code).
    Collect,
    ShipSome,
    ShipAll,
    Deliver,
    Complete,
    Cancel,
    Fail,
    RequestReturn,
    ReceivePartialReturn,
    ReceiveFullReturn,
    /// A release that resumes the workflow where a hold interrupted it.
    Resume(OrderStatus),
    /// An edit that undid allocation, payment and labels: the workflow starts again.
    Restart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {event:?} an order that is {from}")]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub event: OrderEvent,
}

/// The machine with the hold's memory: a release resumes only at the status the hold
/// interrupted (`held_from`), nothing else.
pub fn transition_held(
    from: OrderStatus,
    held_from: Option<OrderStatus>,
    event: OrderEvent,
) -> Result<OrderStatus, IllegalTransition> {
    match event {
        OrderEvent::Resume(to) if held_from != Some(to) => Err(IllegalTransition { from, event }),
        _ => transition(from, event),
    }
}

/// The status machine: `placed → validated → allocated → payment_authorized → ready_to_ship →
/// (partially_)shipped → delivered → completed` (a pickup order: `payment_authorized →
/// ready_for_pickup → delivered` when collected; a declined payment: `allocated →
/// payment_required → allocated` with another payment method), with holds, cancellation before shipping or
/// collection, failure before shipping, and returns after delivery.
pub fn transition(from: OrderStatus, event: OrderEvent) -> Result<OrderStatus, IllegalTransition> {
    use OrderEvent as E;
    use OrderStatus as S;
    let to = match (from, event) {
        (S::AwaitingConfirmation, E::Confirm) => S::Placed,
        (s, E::RequireCall) if s.is_in_workflow() => S::AwaitingConfirmation,
        (S::Placed, E::Validate) => S::Validated,
        (s, E::HoldForReview) if s.is_in_workflow() => S::OnHold,
        // Releasing a hold whose work was undone re-enters the workflow from the start...
        (S::OnHold, E::ReleaseHold) => S::Placed,
        // ...otherwise it resumes where the hold interrupted it.
        (S::OnHold, E::Resume(to)) if to.is_before_handover() && to != S::OnHold => to,
        (
            S::Validated
            | S::Allocated
            | S::PaymentRequired
            | S::PaymentAuthorized
            | S::ReadyToShip
            | S::ReadyForPickup,
            E::Restart,
        ) => S::Placed,
        (S::Validated, E::Allocate) => S::Allocated,
        (S::Allocated, E::AuthorizePayment) => S::PaymentAuthorized,
        (S::Allocated, E::RequirePayment) => S::PaymentRequired,
        (S::PaymentRequired, E::SubmitPayment) => S::Allocated,
        (S::PaymentAuthorized, E::LabelsCreated) => S::ReadyToShip,
        (S::PaymentAuthorized, E::StageForPickup) => S::ReadyForPickup,
        (S::ReadyForPickup, E::Collect) => S::Delivered,
        (S::ReadyToShip | S::PartiallyShipped, E::ShipSome) => S::PartiallyShipped,
        (S::ReadyToShip | S::PartiallyShipped, E::ShipAll) => S::Shipped,
        (S::Shipped, E::Deliver) => S::Delivered,
        (S::Delivered | S::PartiallyReturned, E::Complete) => S::Completed,
        (s, E::Cancel) if s.is_cancellable() => S::Cancelled,
        (
            S::Placed
            | S::Validated
            | S::Allocated
            | S::PaymentRequired
            | S::PaymentAuthorized
            | S::ReadyToShip
            | S::ReadyForPickup
            | S::OnHold,
            E::Fail,
        ) => S::Failed,
        (S::Delivered | S::Completed | S::PartiallyReturned, E::RequestReturn) => S::ReturnRequested,
        (S::ReturnRequested, E::ReceivePartialReturn) => S::PartiallyReturned,
        (S::ReturnRequested, E::ReceiveFullReturn) => S::Returned,
        _ => return Err(IllegalTransition { from, event }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EVENTS: [OrderEvent; 27] = [
        OrderEvent::Confirm,
        OrderEvent::RequireCall,
        OrderEvent::Resume(OrderStatus::Allocated),
        OrderEvent::Resume(OrderStatus::ReadyToShip),
        OrderEvent::Resume(OrderStatus::Shipped),
        OrderEvent::Resume(OrderStatus::ReadyForPickup),
        OrderEvent::Restart,
        OrderEvent::Validate,
        OrderEvent::HoldForReview,
        OrderEvent::ReleaseHold,
        OrderEvent::Allocate,
        OrderEvent::AuthorizePayment,
        OrderEvent::RequirePayment,
        OrderEvent::SubmitPayment,
        OrderEvent::Resume(OrderStatus::PaymentRequired),
        OrderEvent::LabelsCreated,
        OrderEvent::StageForPickup,
        OrderEvent::Collect,
        OrderEvent::ShipSome,
        OrderEvent::ShipAll,
        OrderEvent::Deliver,
        OrderEvent::Complete,
        OrderEvent::Cancel,
        OrderEvent::Fail,
        OrderEvent::RequestReturn,
        OrderEvent::ReceivePartialReturn,
        OrderEvent::ReceiveFullReturn,
    ];

    #[test]
    fn happy_path_reaches_completed() {
        let mut s = OrderStatus::Placed;
        for e in [
            OrderEvent::Validate,
            OrderEvent::Allocate,
            OrderEvent::AuthorizePayment,
            OrderEvent::LabelsCreated,
            OrderEvent::ShipSome,
            OrderEvent::ShipAll,
            OrderEvent::Deliver,
            OrderEvent::Complete,
        ] {
            s = transition(s, e).unwrap();
        }
        assert_eq!(s, OrderStatus::Completed);
    }

    #[test]
    fn illegal_transition_is_a_typed_error() {
        assert_eq!(
            transition(OrderStatus::Placed, OrderEvent::ShipAll),
            Err(IllegalTransition { from: OrderStatus::Placed, event: OrderEvent::ShipAll })
        );
        assert!(transition(OrderStatus::Shipped, OrderEvent::Cancel).is_err());
    }

    #[test]
    fn status_names_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
    }

    /// What a legal history must satisfy, tracked alongside the machine.
    #[derive(Default)]
    struct History {
        authorized_since_entry: bool,
        shipped: bool,
        delivered: bool,
    }

    proptest! {
        #[test]
        fn no_event_sequence_reaches_an_illegal_state(events in proptest::collection::vec(0usize..EVENTS.len(), 0..60), awaiting in any::<bool>()) {
            let mut s = if awaiting { OrderStatus::AwaitingConfirmation } else { OrderStatus::Placed };
            let mut h = History::default();
            let mut held_from = None;
            for i in events {
                let e = EVENTS[i];
                match transition_held(s, held_from, e) {
                    Ok(next) => {
                        held_from = (e == OrderEvent::HoldForReview).then_some(s);
                        prop_assert!(!s.is_terminal(), "left terminal state {s}");
                        if next == OrderStatus::Placed { h.authorized_since_entry = false; }
                        if next == OrderStatus::PaymentAuthorized { h.authorized_since_entry = true; }
                        if next == OrderStatus::PaymentRequired {
                            prop_assert!(matches!(s, OrderStatus::Allocated | OrderStatus::OnHold), "payment required from {}", s);
                        }
                        if matches!(next, OrderStatus::PartiallyShipped | OrderStatus::Shipped) {
                            prop_assert!(h.authorized_since_entry, "shipped without payment authorization");
                            h.shipped = true;
                        }
                        if next == OrderStatus::ReadyForPickup && s != OrderStatus::OnHold {
                            prop_assert!(h.authorized_since_entry, "ready for pickup without payment authorization");
                        }
                        if next == OrderStatus::Delivered {
                            prop_assert!(matches!(s, OrderStatus::Shipped | OrderStatus::ReadyForPickup), "delivered from {}", s);
                            h.delivered = true;
                        }
                        if matches!(next, OrderStatus::ReturnRequested | OrderStatus::Returned | OrderStatus::PartiallyReturned | OrderStatus::Completed) {
                            prop_assert!(h.delivered, "return or completion before delivery");
                        }
                        if next == OrderStatus::Cancelled {
                            prop_assert!(!h.shipped, "cancelled after shipping");
                        }
                        s = next;
                    }
                    Err(err) => prop_assert_eq!(err.from, s),
                }
            }
        }
    }
}
