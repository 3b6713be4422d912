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

/// Open inquiries and complaints one order may have at once.
pub const MAX_OPEN_CASES_PER_ORDER: usize = 5;

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
            message_id: None,
        };
        // A few open conversations per order: more is a flood, not a question.
        let open = self.store.cases_of_order(id).await?.iter().filter(|k| k.status != CaseStatus::Resolved).count();
        if open >= MAX_OPEN_CASES_PER_ORDER {
            return Err(AppError::Conflict {
                kind: "too-many-open-cases",
                detail: format!("the order has {open} open cases; write on one of them (an agent answers each)"),
            });
        }
        let case = self
            .new_case_with(
                None,
                &order,
                req.kind,
                text("subject", &req.subject, 200)?,
                message,
                c.actor_on(&order.customer),
            )
            .await?;
        Ok(CustomerCase::of(&case))
    }

    async fn new_case_with(
        &self,
        id: Option<CaseId>,
        order: &Order,
        kind: CaseKind,
        subject: String,
        message: CaseMessage,
        actor: Actor,
    ) -> Result<Case, AppError> {
        let now = self.clock.now();
        let case = Case {
            id: id.unwrap_or_else(CaseId::generate),
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
        match self.store.commit(&change).await {
            Err(StoreError::AlreadyExists) => {
                return Err(AppError::Conflict { kind: "case-exists", detail: format!("case {} exists", case.id) });
            }
            r => r?,
        }
        Ok(case)
    }

    /// Adds a message to a case (its version guards concurrent writers); an agent's reply is
    /// mailed to the customer after the commit.
    async fn add_message(&self, id: &CaseId, m: CaseMessage, actor: Actor) -> Result<Case, AppError> {
        for attempt in 0..12u64 {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(5 * attempt + (attempt * 7) % 11)).await;
            }
            let case = self.store.get_case(id).await?.ok_or(AppError::NotFound)?;
            // The same mail delivered again is kept once (the case's version guards the check).
            if m.message_id.is_some() && case.messages.iter().any(|x| x.message_id == m.message_id) {
                return Ok(case);
            }
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
                // The mail carries this reply (its position on the case), not whatever is newest
                // when the notifier runs.
                let n = Notification::new(
                    "case.reply",
                    &case.order_id,
                    Some(format!("{}#{}", case.id, next.messages.len())),
                )
                .with_dedupe_key(format!("case.reply#{}#{}", case.id, next.messages.len()));
                change = change.with_effect(Effect::notify(n));
            }
            match self.store.commit(&change).await {
                Ok(()) => return Ok(next),
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Unavailable("the case is busy; retry shortly".into()))
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
            message_id: None,
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
        // The customer's words must pass the same text rules as on the web.
        let body = text("message", &mail.body, 5000).unwrap_or_else(|_| {
            mail.body
                .chars()
                .filter(|c| !crate::domain::address::invisible(*c) && (!c.is_control() || *c == '\n'))
                .collect()
        });
        let body = if body.trim().is_empty() { "(empty message)".to_owned() } else { body };
        let message = |by: &str| CaseMessage {
            at: self.clock.now(),
            from: MessageFrom::Customer,
            by: by.to_owned(),
            body: body.clone(),
            via: MessageVia::Mail,
            message_id: mail.message_id.clone(),
        };
        let same = |o: &Order| o.email.lookup_key() == sender.lookup_key();
        let mut continued: Option<Case> = None;
        // The case a reply names (its own marker first), if it is the sender's and not a dispute
        // (disputes are answered with evidence to the provider, not by mail).
        for case_id in &mail.case_ids {
            let Some(case) = self.store.get_case(case_id).await? else { continue };
            let Some(order) = self.store.get_order(&case.order_id).await? else { continue };
            if !same(&order) || case.kind == CaseKind::Dispute {
                continue;
            }
            let by = order.customer.to_string();
            match self.add_message(case_id, message(&by), Actor::Customer(by.clone())).await {
                Ok(_) => return Ok((case_id.clone(), order.id)),
                // A full conversation goes on in a new case on the same order.
                Err(AppError::Unprocessable { kind: "case-too-long", .. }) => {
                    continued = Some(case);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let orders = continued.as_ref().map(|c| vec![c.order_id.clone()]).unwrap_or_else(|| mail.order_ids.clone());
        for id in &orders {
            let Some(order) = self.store.get_order(id).await? else { continue };
            if !same(&order) {
                continue;
            }
            let by = order.customer.to_string();
            let subject = match &continued {
                Some(c) => format!("Continued: {}", c.subject).chars().take(200).collect(),
                None => text(
                    "subject",
                    if mail.subject.trim().is_empty() { "Mail from the customer" } else { &mail.subject },
                    200,
                )
                .unwrap_or_else(|_| "Mail from the customer".into()),
            };
            // The same mail delivered twice opens one case: its id comes from the Message-ID,
            // and the case's own create refuses a second one.
            let case_id = mail.message_id.as_deref().map(|m| case_id_of_message(&order.id, m));
            if let Some(cid) = &case_id
                && self.store.get_case(cid).await?.is_some()
            {
                return Ok((cid.clone(), order.id));
            }
            match self
                .new_case_with(
                    case_id.clone(),
                    &order,
                    CaseKind::Inquiry,
                    subject,
                    message(&by),
                    Actor::Customer(by.clone()),
                )
                .await
            {
                Ok(case) => return Ok((case.id, order.id)),
                Err(AppError::Conflict { .. }) if case_id.is_some() => {
                    return Ok((case_id.unwrap_or_else(CaseId::generate), order.id));
                }
                Err(e) => return Err(e),
            }
        }
        Err(AppError::Unprocessable {
            kind: "no-order-for-mail",
            detail: "the mail names no order of its sender (write the order number in the subject)".into(),
        })
    }
}

/// The case a mailed message opens: a ULID from the order and the `Message-ID` (a second
/// delivery of the same mail names the same case).
fn case_id_of_message(order: &OrderId, message_id: &str) -> CaseId {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("{order}\n{message_id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    CaseId::parse(&ulid::Ulid::from_bytes(b).to_string()).unwrap_or_else(|_| CaseId::generate())
}
