//! The customer conversation on cases: inquiries and complaints from the web or by mail, agent
//! replies mailed to the customer and kept on the case.

use super::support::{agent, may_handle, text};
use super::{AppError, Caller, Oms, Permission};
use crate::domain::support::{Case, CaseKind, CaseMessage, CaseStatus, MAX_CASE_MESSAGES, MessageFrom, MessageVia};
use crate::domain::*;
use crate::ports::StoreError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

impl Oms {
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
    /// mail never lands on someone's order; with `require_verified` (mail through SES
    /// receiving) the sender's domain must also have passed DMARC. Returns the case and its
    /// order.
    #[tracing::instrument(skip_all)]
    pub async fn inbound_mail(&self, raw: &[u8], require_verified: bool) -> Result<(CaseId, OrderId), AppError> {
        let mail = super::inbound::parse(raw)?;
        // Through SES receiving (the inbound-mail function), only a sender whose domain passed
        // DMARC may write on a case: a From header alone proves nothing.
        if require_verified && mail.sender != super::inbound::SenderCheck::Verified {
            return Err(AppError::Unprocessable {
                kind: "unverified-sender",
                detail: format!("the sender could not be verified: {:?}", mail.sender),
            });
        }
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
