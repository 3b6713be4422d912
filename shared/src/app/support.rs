//! Customer-service tools: the one window a call-centre agent needs. Search (by order id,
//! e-mail, tracking number, status and dates, all through indexes), notes, cases for
//! complaints and disputes, re-sending a notification, holds, goodwill refunds.

use super::projections::OrderProjection;
use super::views::{OrderList, OrderSummary};
use super::{AppError, Caller, Oms, Permission};
use crate::domain::limits::{LIMITS, threshold_money};
use crate::domain::support::{CaseKind, CaseStatus};
use crate::domain::*;
use crate::ports::StoreError;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NoteRequest {
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenCaseRequest {
    pub order_id: OrderId,
    pub kind: CaseKind,
    pub subject: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Disputes: the provider's evidence deadline (set by the dispute webhook).
    #[serde(skip)]
    pub due_by: Option<chrono::DateTime<chrono::Utc>>,
    /// Inquiries: the customer's first message (set by the inquiry routes).
    #[serde(skip)]
    pub message: Option<crate::domain::support::CaseMessage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCaseRequest {
    pub status: CaseStatus,
    #[serde(default)]
    pub resolution: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResendRequest {
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HoldRequest {
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoodwillRequest {
    pub amount: Money,
    pub reason: String,
}

pub use super::text::text;

/// Disputes are for supervisors and finance; other cases for agents and supervisors.
pub(crate) fn may_handle(c: &Caller, kind: CaseKind) -> Result<(), AppError> {
    match kind {
        CaseKind::Dispute if !c.may(Permission::Disputes) => {
            Err(AppError::OverLimit("disputes are handled by a supervisor or finance".into()))
        }
        CaseKind::Dispute => Ok(()),
        _ if !c.may(Permission::Annotate) => Err(AppError::Forbidden),
        _ => Ok(()),
    }
}

pub(crate) fn agent(c: &Caller) -> Actor {
    Actor::Agent(c.customer.to_string())
}

/// Notification types an agent may re-send.
/// Re-sends of one message kind per order.
pub const MAX_RESENDS: usize = 3;

pub const RESENDABLE: [&str; 8] = [
    "order.confirmed",
    "order.cancelled",
    "shipment.shipped",
    "order.delivered",
    "order.on_hold",
    "order.payment_declined",
    "order.payment_requested",
    "return.issued",
];

impl Oms {
    pub(crate) async fn order_for_agent(&self, id: &OrderId) -> Result<Order, AppError> {
        self.store.get_order(id).await?.ok_or(AppError::NotFound)
    }

    /// The order a carrier tracking number belongs to (outbound or return parcel).
    pub async fn find_by_tracking(&self, tracking: &str) -> Result<OrderList, AppError> {
        let mut orders = Vec::new();
        for carrier in super::public_tracking::CARRIERS {
            let found = self.store.tracked(carrier, tracking).await?;
            let id = match found {
                Some(crate::ports::Tracked::Shipment(s)) => s.order_id,
                Some(crate::ports::Tracked::Return(r)) => r.order_id,
                None => continue,
            };
            if let Some(o) = self.store.get_order(&id).await? {
                orders.push(OrderSummary::from(&o));
            }
        }
        Ok(OrderList { orders, next_cursor: None })
    }

    pub async fn add_note(&self, c: &Caller, id: &OrderId, req: NoteRequest) -> Result<OrderProjection, AppError> {
        let note = text("text", &req.text, 2000)?;
        self.order_for_agent(id).await?;
        let ev = TimelineEvent::new(self.clock.now(), "note.added", agent(c)).with_note(note);
        self.store.commit(&OrderChange::for_order(id).with_event(ev)).await?;
        self.get_order(c, id).await
    }

    pub async fn resend_notification(
        &self,
        c: &Caller,
        id: &OrderId,
        req: ResendRequest,
    ) -> Result<OrderProjection, AppError> {
        if !RESENDABLE.contains(&req.kind.as_str()) {
            return Err(AppError::invalid_field("type", format!("one of {}", RESENDABLE.join(", "))));
        }
        let order = self.order_for_agent(id).await?;
        if crate::domain::privacy::erased(&order) {
            return Err(AppError::Unprocessable {
                kind: "customer-erased",
                detail: "the customer's personal data was erased: there is no address to send to".into(),
            });
        }
        // Only what was sent can be sent again: the event that sent it is on the timeline.
        let cause = match req.kind.as_str() {
            "order.confirmed" => "labels.created",
            "shipment.shipped" => "order.shipped",
            "order.on_hold" => "order.held",
            "return.issued" => "return.requested",
            other => other,
        };
        let timeline = self.store.timeline(id).await?;
        // An agent's hold sends the customer nothing (it is internal): only the workflow's
        // review hold sent "being reviewed".
        let sent_it =
            |e: &&TimelineEvent| e.kind == cause && (cause != "order.held" || matches!(e.actor, Actor::System(_)));
        let resent =
            timeline.iter().filter(|e| e.kind == "notification.resent" && e.note.as_deref() == Some(&req.kind)).count();
        if resent >= MAX_RESENDS {
            return Err(AppError::Conflict {
                kind: "resend-limit",
                detail: format!("{} was already re-sent {resent} times for this order", req.kind),
            });
        }
        let Some(original) = timeline.iter().rev().find(sent_it) else {
            return Err(AppError::Conflict {
                kind: "nothing-to-resend",
                detail: format!("no {} message was sent for this order", req.kind),
            });
        };
        let detail = match req.kind.as_str() {
            // The return's id and where its label is (the note starts with the RMA id).
            "return.issued" => original
                .note
                .as_deref()
                .and_then(|n| n.split(':').next())
                .map(|rma| format!("{rma} /v1/orders/{id}/returns/{rma}/label")),
            _ => None,
        };
        let now = self.clock.now();
        // A fresh dedupe key: a re-send is a new mail on purpose.
        let n = Notification::new(&req.kind, id, detail).with_dedupe_key(format!(
            "{}#{id}#resend-{}",
            req.kind,
            ulid::Ulid::new()
        ));
        let ev = TimelineEvent::new(now, "notification.resent", agent(c)).with_note(req.kind);
        self.store.commit(&OrderChange::for_order(id).with_event(ev).with_effect(Effect::notify(n))).await?;
        self.get_order(c, id).await
    }

    pub async fn place_hold(&self, c: &Caller, id: &OrderId, req: HoldRequest) -> Result<OrderProjection, AppError> {
        let reason = text("reason", &req.reason, 500)?;
        // A hold sent without a version wins over a workflow step that moved the order
        // meanwhile: it is applied to the order as it now is.
        for _ in 0..5 {
            let order = self.order_for_agent(id).await?;
            if order.status == OrderStatus::OnHold {
                return self.get_order(c, id).await;
            }
            if self.store.shipments_of_order(id).await?.iter().any(Shipment::is_handed_over) {
                return Err(AppError::InvalidState {
                    status: order.status,
                    action: "held (a parcel is with the carrier)",
                });
            }
            let now = self.clock.now();
            let mut next = order.clone();
            next.apply(OrderEvent::HoldForReview, now)
                .map_err(|_| AppError::InvalidState { status: order.status, action: "held" })?;
            next.status_reason = Some(format!("agent hold: {reason}"));
            let ev = TimelineEvent::new(now, "order.held", agent(c)).with_status(next.status).with_note(reason.clone());
            match self.store.commit(&OrderChange::update(next, order.version, now).with_event(ev)).await {
                Ok(()) => return self.get_order(c, id).await,
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }

    /// A goodwill refund on a captured payment, with a reason; `key` makes retries safe.
    pub async fn goodwill_refund(
        &self,
        c: &Caller,
        id: &OrderId,
        key: &str,
        req: GoodwillRequest,
    ) -> Result<OrderProjection, AppError> {
        let reason = text("reason", &req.reason, 500)?;
        let idem = format!("goodwill-{id}-{key}");
        // The same key with another request is a client bug, not a retry.
        let request_hash = format!("{}:{}:{reason}", req.amount.amount(), req.amount.currency());
        if let Some(rec) = self.store.get_idempotency(&c.customer, &idem).await? {
            if rec.request_hash != request_hash {
                return Err(AppError::IdempotencyMismatch);
            }
            return self.get_order(c, id).await;
        }
        // Concurrent refunds on one order each get their turn: re-read after a short jitter.
        for attempt in 0..10u64 {
            let order = self.order_for_agent(id).await?;
            // The key names one refund of the order whoever sends it (the ledger's and the
            // provider's reference is the order's and the key's): another member of staff with
            // the same key gets the first one's answer, never a second entry under that reference.
            if let Some(e) = order.payment.ledger.iter().find(|e| e.kind == LedgerKind::Refunded && e.reference == idem)
            {
                if e.amount != req.amount {
                    return Err(AppError::IdempotencyMismatch);
                }
                return self.get_order(c, id).await;
            }
            let auth = order.payment.authorization_id.clone().ok_or(AppError::Unprocessable {
                kind: "nothing-to-refund",
                detail: "the order has no payment".into(),
            })?;
            if req.amount.currency() != order.totals.total.currency() || req.amount.amount() == 0 {
                return Err(AppError::invalid_field("amount", "a positive amount in the order's currency"));
            }
            // The agent limit is per order: goodwill already given on it counts.
            let limit = threshold_money(LIMITS.agent_refund_limit, req.amount.currency());
            let given = order.payment.goodwill_given();
            if given.saturating_add(req.amount.amount()) > limit.amount() && !c.may(Permission::RefundOverLimit) {
                return Err(AppError::OverLimit(format!(
                    "amount: goodwill over {limit} on one order needs a supervisor or finance (oms/supervisor, oms/finance)"
                )));
            }
            // The ledger refuses a refund beyond what is captured; the order's versioned write
            // makes that hold against every other refund; the provider call follows the commit.
            let now = self.clock.now();
            let mut next = order.clone();
            next.payment.refund(req.amount, &idem, now).map_err(|e| match e {
                RefundError::ExceedsCaptured { refundable } => AppError::UnprocessableField {
                    kind: "refund-exceeds-captured",
                    detail: format!(
                        "amount: at most {} can be refunded",
                        Money::new(refundable, req.amount.currency())
                            .map(|m| m.to_string())
                            .unwrap_or_else(|_| refundable.to_string())
                    ),
                    field: "amount",
                },
                other => AppError::invalid_field("amount", other),
            })?;
            let ev = TimelineEvent::new(now, "payment.goodwill_refund", agent(c))
                .with_note(format!("{}: {reason}", req.amount));
            let record = IdempotencyRecord {
                request_hash: request_hash.clone(),
                order_id: id.clone(),
                status_code: 200,
                response: String::new(),
                created_at: now,
            };
            let mut change = OrderChange::update(next, order.version, now)
                .with_event(ev)
                .with_effect(Effect::Refund {
                    authorization_id: auth,
                    amount: req.amount,
                    idempotency_key: idem.clone(),
                })
                .with_effect(Effect::credit_note(id, &idem));
            change.idempotency = Some((c.customer.clone(), idem.clone(), record));
            match self.store.commit(&change).await {
                Ok(()) => return self.get_order(c, id).await,
                Err(StoreError::IdempotencyKeyUsed) => {
                    let same = self.store.get_idempotency(&c.customer, &idem).await?.map(|r| r.request_hash);
                    if same.as_deref() != Some(request_hash.as_str()) {
                        return Err(AppError::IdempotencyMismatch);
                    }
                    return self.get_order(c, id).await;
                }
                Err(StoreError::StaleVersion) => {
                    tokio::time::sleep(std::time::Duration::from_millis(rand::random::<u64>() % (10 * (attempt + 1))))
                        .await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }
}
