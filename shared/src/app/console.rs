//! What the agent console needs beyond orders and customers: confirmation calls (confirm, the
//! rule, the timeout sweep), work queues, stock per location, a refund preview, and the
//! customer conversation on cases (inquiries from the web or by mail, replies by mail).

use super::projections::OrderProjection;
use super::support::{agent, may_handle, text};
use super::{AppError, Caller, Oms, Permission};
use crate::domain::confirmation::{ConfirmationRule, OnTimeout};
use crate::domain::limits::{LIMITS, threshold_money};
use crate::domain::returns::{ReturnStatus, Rma};
use crate::domain::support::{Case, CaseKind, CaseMessage, CaseStatus, MAX_CASE_MESSAGES, MessageFrom, MessageVia};
use crate::domain::*;
use crate::ports::{Listing, StoreError};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmRequest {
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueOrder {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub status: OrderStatus,
    pub total: Money,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm_by: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueCase {
    #[serde(flatten)]
    pub case: Case,
    pub age_hours: i64,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum QueueItems {
    Orders(Vec<QueueOrder>),
    Returns(Vec<Rma>),
    Cases(Vec<QueueCase>),
}

#[derive(Debug, Serialize)]
pub struct Queue {
    pub queue: &'static str,
    pub items: QueueItems,
}

pub const QUEUES: [&str; 5] = ["confirmation-calls", "on-hold", "returns-awaiting-receipt", "cases", "disputes"];

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StockRow {
    pub location_id: LocationId,
    pub name: String,
    pub kind: LocationKind,
    pub on_hand: i64,
    pub available: i64,
    pub held: i64,
    pub allocated: i64,
    pub shards: u16,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StockTotals {
    pub on_hand: i64,
    pub available: i64,
    pub held: i64,
    pub allocated: i64,
}

#[derive(Debug, Serialize)]
pub struct StockView {
    pub sku: Sku,
    pub locations: Vec<StockRow>,
    pub total: StockTotals,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundPreview {
    pub amount: Money,
    pub captured: Money,
    pub refunded: Money,
    pub refundable_before: Money,
    pub refundable_after: Money,
    pub within_agent_limit: bool,
    /// Whether the caller may issue it (limit and captured amount both allow).
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InquiryRequest {
    pub kind: CaseKind,
    pub subject: String,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplyRequest {
    pub message: String,
}

/// A case as its customer sees it: the conversation, never internal fields.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerCase {
    pub case_id: CaseId,
    pub order_id: OrderId,
    pub kind: CaseKind,
    pub status: CaseStatus,
    pub subject: String,
    pub messages: Vec<CustomerMessage>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerMessage {
    pub at: DateTime<Utc>,
    pub from: MessageFrom,
    pub body: String,
}

impl CustomerCase {
    pub fn of(c: &Case) -> Self {
        CustomerCase {
            case_id: c.id.clone(),
            order_id: c.order_id.clone(),
            kind: c.kind,
            status: c.status,
            subject: c.subject.clone(),
            messages: c
                .messages
                .iter()
                .map(|m| CustomerMessage { at: m.at, from: m.from, body: m.body.clone() })
                .collect(),
            created_at: c.created_at,
        }
    }
}

fn money(amount: i64, c: Currency) -> Money {
    Money::new(amount, c).unwrap_or(Money::zero(c))
}

impl Oms {
    /// Confirms an order awaiting its confirmation call: fulfillment starts (the table stream
    /// sees it enter `placed`). Confirming a confirmed order returns it unchanged.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn confirm_order(
        &self,
        c: &Caller,
        id: &OrderId,
        req: ConfirmRequest,
    ) -> Result<OrderProjection, AppError> {
        let note = req.note.as_deref().map(|n| text("note", n, 500)).transpose()?;
        self.confirm_as(id, agent(c), "order.confirmed_by_call", note).await?;
        self.get_order(c, id).await
    }

    async fn confirm_as(&self, id: &OrderId, actor: Actor, kind: &str, note: Option<String>) -> Result<(), AppError> {
        for _ in 0..5 {
            let order = self.order_for_agent(id).await?;
            if order.status != OrderStatus::AwaitingConfirmation {
                // A retry of a confirmation that went through is answered with the order.
                let confirmed = self
                    .store
                    .timeline(id)
                    .await?
                    .iter()
                    .any(|e| matches!(e.kind.as_str(), "order.confirmed_by_call" | "order.confirmation_timed_out"));
                if confirmed && order.status != OrderStatus::Cancelled {
                    return Ok(());
                }
                return Err(AppError::InvalidState { status: order.status, action: "confirmed" });
            }
            let now = self.clock.now();
            let mut next = order.clone();
            next.apply(OrderEvent::Confirm, now)?;
            next.status_reason = None;
            let mut ev = TimelineEvent::new(now, kind, actor.clone()).with_status(OrderStatus::Placed);
            if let Some(n) = &note {
                ev = ev.with_note(n.clone());
            }
            match self.store.commit(&OrderChange::update(next, order.version, now).with_event(ev)).await {
                Ok(()) => return Ok(()),
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }

    pub async fn confirmation_rule(&self) -> Result<ConfirmationRule, AppError> {
        Ok(self.store.get_confirmation_rule().await?)
    }

    pub async fn set_confirmation_rule(&self, c: &Caller, r: ConfirmationRule) -> Result<ConfirmationRule, AppError> {
        if !c.may(Permission::RefundOverLimit) {
            return Err(AppError::Forbidden);
        }
        r.check().map_err(|(field, why)| AppError::invalid_field(field, why))?;
        self.store.put_confirmation_rule(&r).await?;
        Ok(r)
    }

    /// Orders whose confirmation call did not happen in time: released into fulfillment or
    /// cancelled, as the rule says (run on the reconciliation schedule). Returns how many.
    #[tracing::instrument(skip_all)]
    pub async fn expire_confirmations(&self) -> Result<usize, AppError> {
        let rule = self.store.get_confirmation_rule().await?;
        let cutoff = self.clock.now() - Duration::minutes(i64::from(rule.timeout_minutes));
        let system = Caller::admin(CustomerId::parse("system").map_err(|e| AppError::Internal(e.to_string()))?);
        let waiting = self.store.orders_by_status(OrderStatus::AwaitingConfirmation, Listing::first(100)).await?;
        let mut done = 0;
        for o in waiting.items.iter().filter(|o| o.created_at <= cutoff) {
            let why = format!("no confirmation call within {} minutes", rule.timeout_minutes);
            let r = match rule.on_timeout {
                OnTimeout::Release => {
                    self.confirm_as(
                        &o.id,
                        Actor::System("confirmation-calls".into()),
                        "order.confirmation_timed_out",
                        Some(why),
                    )
                    .await
                }
                OnTimeout::Cancel => self
                    .cancel_order(&system, &o.id, Actor::System("confirmation-calls".into()), Some(why))
                    .await
                    .map(|_| ()),
            };
            match r {
                Ok(()) => done += 1,
                Err(e) => tracing::warn!(order_id = %o.id, error = %e, "confirmation timeout not applied"),
            }
        }
        Ok(done)
    }

    /// One work queue, oldest first.
    #[tracing::instrument(skip_all, fields(queue = name))]
    pub async fn queue(&self, c: &Caller, name: &str) -> Result<Queue, AppError> {
        let now = self.clock.now();
        let orders = |v: Vec<Order>, timeout: Option<i64>| {
            let mut v: Vec<QueueOrder> = v
                .into_iter()
                .map(|o| QueueOrder {
                    confirm_by: timeout.map(|m| o.created_at + Duration::minutes(m)),
                    order_id: o.id,
                    customer_id: o.customer,
                    status: o.status,
                    total: o.totals.total,
                    created_at: o.created_at,
                    reason: o.status_reason,
                })
                .collect();
            v.sort_by_key(|o| o.created_at);
            QueueItems::Orders(v)
        };
        let cases = |v: Vec<Case>| {
            let mut v: Vec<QueueCase> =
                v.into_iter().map(|c| QueueCase { age_hours: (now - c.created_at).num_hours(), case: c }).collect();
            v.sort_by_key(|c| (c.case.due_by, c.case.created_at));
            QueueItems::Cases(v)
        };
        let open_cases = async |kind_is_dispute: bool| -> Result<Vec<Case>, AppError> {
            let mut all = self.store.cases_by_status(CaseStatus::Open).await?;
            all.extend(self.store.cases_by_status(CaseStatus::Escalated).await?);
            Ok(all.into_iter().filter(|c| (c.kind == CaseKind::Dispute) == kind_is_dispute).collect())
        };
        let (queue, items) = match name {
            "confirmation-calls" => {
                let rule = self.store.get_confirmation_rule().await?;
                let v = self.store.orders_by_status(OrderStatus::AwaitingConfirmation, Listing::first(100)).await?;
                ("confirmation-calls", orders(v.items, Some(i64::from(rule.timeout_minutes))))
            }
            "on-hold" => (
                "on-hold",
                orders(self.store.orders_by_status(OrderStatus::OnHold, Listing::first(100)).await?.items, None),
            ),
            "returns-awaiting-receipt" => {
                let mut v = Vec::new();
                let waiting = self.store.orders_by_status(OrderStatus::ReturnRequested, Listing::first(100)).await?;
                for o in waiting.items {
                    v.extend(self.store.returns_of_order(&o.id).await?.into_iter().filter(|r| {
                        matches!(r.status, ReturnStatus::Issued | ReturnStatus::InTransit | ReturnStatus::Arrived)
                    }));
                }
                v.sort_by_key(|r| r.created_at);
                ("returns-awaiting-receipt", QueueItems::Returns(v))
            }
            "cases" => ("cases", cases(open_cases(false).await?)),
            "disputes" => {
                if !c.may(Permission::Disputes) {
                    return Err(AppError::Forbidden);
                }
                ("disputes", cases(open_cases(true).await?))
            }
            other => {
                return Err(AppError::invalid_field("queue", format!("unknown queue {other:?}; one of {QUEUES:?}")));
            }
        };
        Ok(Queue { queue, items })
    }

    /// Stock of one SKU per location (shards summed), with totals.
    pub async fn stock_view(&self, sku: Option<&str>) -> Result<StockView, AppError> {
        let sku = Sku::parse(sku.unwrap_or_default()).map_err(|_| AppError::invalid_field("sku", "a SKU"))?;
        let records = self.store.stock_for_sku(&sku).await?;
        let locations = self.store.list_locations().await?;
        let mut by_loc: std::collections::BTreeMap<LocationId, Vec<StockRecord>> = Default::default();
        for r in records {
            by_loc.entry(r.location_id.clone()).or_default().push(r);
        }
        let mut rows = Vec::new();
        let mut t = StockTotals { on_hand: 0, available: 0, held: 0, allocated: 0 };
        for (loc, shards) in by_loc {
            let Some(sum) = crate::domain::stock::total(&shards) else { continue };
            let l = locations.iter().find(|l| l.id == loc);
            let lv = sum.level;
            t.on_hand += lv.on_hand;
            t.available += lv.available;
            t.held += lv.held;
            t.allocated += lv.allocated;
            rows.push(StockRow {
                name: l.map(|l| l.name.clone()).unwrap_or_else(|| loc.to_string()),
                kind: l.map(|l| l.kind).unwrap_or(LocationKind::Warehouse),
                location_id: loc,
                on_hand: lv.on_hand,
                available: lv.available,
                held: lv.held,
                allocated: lv.allocated,
                shards: sum.shards,
            });
        }
        if rows.is_empty() && self.store.get_product(&sku).await?.is_none() {
            return Err(AppError::NotFound);
        }
        Ok(StockView { sku, locations: rows, total: t })
    }

    /// What a goodwill refund would do, changing nothing.
    pub async fn refund_preview(
        &self,
        c: &Caller,
        id: &OrderId,
        req: super::support::GoodwillRequest,
    ) -> Result<RefundPreview, AppError> {
        let order = self.order_for_agent(id).await?;
        let cur = order.totals.total.currency();
        if req.amount.currency() != cur || req.amount.amount() <= 0 {
            return Err(AppError::invalid_field("amount", "a positive amount in the order's currency"));
        }
        let (_, captured, refunded, _) = order.payment.ledger_totals();
        let before = order.payment.refundable();
        let after = before - req.amount.amount();
        let given: i64 = order
            .payment
            .ledger
            .iter()
            .filter(|e| e.kind == LedgerKind::Refunded && e.reference.starts_with("goodwill-"))
            .map(|e| e.amount.amount())
            .sum();
        let limit = threshold_money(LIMITS.agent_refund_limit, cur);
        let within = given.saturating_add(req.amount.amount()) <= limit.amount();
        let problem = if after < 0 {
            Some(format!("at most {} can be refunded", money(before, cur)))
        } else if !within && !c.may(Permission::RefundOverLimit) {
            Some(format!("goodwill over {limit} on one order needs a supervisor or finance"))
        } else {
            None
        };
        Ok(RefundPreview {
            amount: req.amount,
            captured: money(captured, cur),
            refunded: money(refunded, cur),
            refundable_before: money(before, cur),
            refundable_after: money(after.max(0), cur),
            within_agent_limit: within,
            allowed: problem.is_none(),
            problem,
        })
    }

    /// A customer raises an inquiry or complaint on their order (staff may for them).
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn open_inquiry(&self, c: &Caller, id: &OrderId, req: InquiryRequest) -> Result<CustomerCase, AppError> {
        let order = self.owned_order(c, id).await?;
        if req.kind == CaseKind::Dispute {
            return Err(AppError::invalid_field("kind", "inquiry or complaint"));
        }
        let message = CaseMessage {
            at: self.clock.now(),
            from: if c.customer == order.customer { MessageFrom::Customer } else { MessageFrom::Agent },
            by: c.customer.to_string(),
            body: text("message", &req.message, 5000)?,
            via: MessageVia::Web,
        };
        let case = self
            .new_case(&order, req.kind, text("subject", &req.subject, 200)?, message, c.actor_on(&order.customer))
            .await?;
        Ok(CustomerCase::of(&case))
    }

    async fn new_case(
        &self,
        order: &Order,
        kind: CaseKind,
        subject: String,
        message: CaseMessage,
        actor: Actor,
    ) -> Result<Case, AppError> {
        let now = self.clock.now();
        let case = Case {
            id: CaseId::generate(),
            order_id: order.id.clone(),
            kind,
            status: CaseStatus::Open,
            subject,
            description: None,
            resolution: None,
            external_ref: None,
            opened_by: message.by.clone(),
            due_by: None,
            messages: vec![message],
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let ev = TimelineEvent::new(now, "case.opened", actor)
            .with_note(format!("{} {:?}: {}", case.id, case.kind, case.subject));
        let mut change = OrderChange::for_order(&order.id).with_event(ev);
        change.cases.push(Write::Create(case.clone()));
        self.store.commit(&change).await?;
        Ok(case)
    }

    /// Adds a message to a case (its version guards concurrent writers); an agent's reply is
    /// mailed to the customer after the commit.
    async fn add_message(&self, id: &CaseId, m: CaseMessage, actor: Actor) -> Result<Case, AppError> {
        for _ in 0..5 {
            let case = self.store.get_case(id).await?.ok_or(AppError::NotFound)?;
            if case.messages.len() >= MAX_CASE_MESSAGES {
                return Err(AppError::Unprocessable {
                    kind: "case-too-long",
                    detail: format!("a case keeps at most {MAX_CASE_MESSAGES} messages; open a new one"),
                });
            }
            let now = self.clock.now();
            let mut next = case.clone();
            let agent_reply = m.from == MessageFrom::Agent;
            next.messages.push(m.clone());
            next.version += 1;
            next.updated_at = now;
            // A customer writing again reopens a resolved conversation as a new case? No: it stays
            // on this case, which goes back to open.
            if next.status == CaseStatus::Resolved && !agent_reply {
                next.status = CaseStatus::Open;
            }
            let kind = if agent_reply { "case.replied" } else { "case.message" };
            let ev = TimelineEvent::new(now, kind, actor.clone()).with_note(format!("{}", case.id));
            let mut change = OrderChange::for_order(&case.order_id).with_event(ev);
            change.cases.push(Write::Update { value: next.clone(), expected_version: case.version });
            if agent_reply {
                let n = Notification::new("case.reply", &case.order_id, Some(case.id.to_string()))
                    .with_dedupe_key(format!("case.reply#{}#{}", case.id, next.messages.len()));
                change = change.with_effect(Effect::notify(n));
            }
            match self.store.commit(&change).await {
                Ok(()) => return Ok(next),
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }

    /// An agent's reply on an inquiry or complaint: kept on the case and mailed to the customer.
    pub async fn reply_to_case(&self, c: &Caller, id: &CaseId, req: ReplyRequest) -> Result<Case, AppError> {
        let case = self.store.get_case(id).await?.ok_or(AppError::NotFound)?;
        may_handle(c, case.kind)?;
        if case.kind == CaseKind::Dispute {
            return Err(AppError::Unprocessable {
                kind: "dispute-reply",
                detail: "disputes are answered with evidence to the payment provider, not by mail".into(),
            });
        }
        let m = CaseMessage {
            at: self.clock.now(),
            from: MessageFrom::Agent,
            by: c.customer.to_string(),
            body: text("message", &req.message, 5000)?,
            via: MessageVia::Mail,
        };
        self.add_message(id, m, agent(c)).await
    }

    pub async fn case_for_agent(&self, c: &Caller, id: &CaseId) -> Result<Case, AppError> {
        let case = self.store.get_case(id).await?.ok_or(AppError::NotFound)?;
        if case.kind == CaseKind::Dispute && !c.may(Permission::Disputes) {
            return Err(AppError::Forbidden);
        }
        Ok(case)
    }

    /// A mail to the support address: on the case its subject names (`[case <id>]`), else on a
    /// new inquiry on the order it names. The sender must be the order's e-mail: a stranger's
    /// mail never lands on someone's order. Returns the case and its order.
    #[tracing::instrument(skip_all)]
    pub async fn inbound_mail(&self, raw: &[u8]) -> Result<(CaseId, OrderId), AppError> {
        let mail = super::inbound::parse(raw)?;
        let sender = Email::parse(&mail.from).map_err(|_| AppError::invalid_field("from", "a sender address"))?;
        let message = |by: &str| CaseMessage {
            at: self.clock.now(),
            from: MessageFrom::Customer,
            by: by.to_owned(),
            body: mail.body.clone(),
            via: MessageVia::Mail,
        };
        let same = |o: &Order| o.email.lookup_key() == sender.lookup_key();
        if let Some(case_id) = &mail.case_id
            && let Some(case) = self.store.get_case(case_id).await?
            && let Some(order) = self.store.get_order(&case.order_id).await?
            && same(&order)
        {
            let by = order.customer.to_string();
            self.add_message(case_id, message(&by), Actor::Customer(by.clone())).await?;
            return Ok((case_id.clone(), order.id));
        }
        for id in &mail.order_ids {
            let Some(order) = self.store.get_order(id).await? else { continue };
            if !same(&order) {
                continue;
            }
            let by = order.customer.to_string();
            let subject = text(
                "subject",
                if mail.subject.trim().is_empty() { "Mail from the customer" } else { &mail.subject },
                200,
            )
            .unwrap_or_else(|_| "Mail from the customer".into());
            let case =
                self.new_case(&order, CaseKind::Inquiry, subject, message(&by), Actor::Customer(by.clone())).await?;
            return Ok((case.id, order.id));
        }
        Err(AppError::Unprocessable {
            kind: "no-order-for-mail",
            detail: "the mail names no order of its sender (write the order number in the subject)".into(),
        })
    }
}
