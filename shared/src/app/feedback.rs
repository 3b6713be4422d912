//! The after-delivery survey: made due by the delivery's own write, mailed by the scheduled
//! sweep (the write that marks it sent carries the mail: once), answered once through the
//! signed link (the answer is a versioned write: a second one is refused), read by agents on the
//! order and counted in CSAT.

use super::{AppError, Caller, Oms};
use crate::domain::feedback::{Feedback, MAX_COMMENT};
use crate::domain::*;
use crate::ports::StoreError;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

/// The survey's answer (the page's form).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeedbackAnswer {
    /// How satisfied, 1 (not at all) to 5 (very).
    pub score: String,
    #[serde(default)]
    pub comment: Option<String>,
}

/// The path of an order's signed survey link.
pub fn survey_path(order: &OrderId) -> String {
    format!("/v1/signed/orders/{order}/feedback")
}

impl Oms {
    /// The survey a delivery makes due (none when surveys are off).
    pub fn feedback_survey(&self, order: &Order, delivered_at: DateTime<Utc>) -> Option<Feedback> {
        (self.feedback_after_days > 0)
            .then(|| Feedback::due(&order.id, &order.customer, delivered_at + Duration::days(self.feedback_after_days)))
    }

    /// Mails every survey that is due; returns how many.
    #[tracing::instrument(skip_all)]
    pub async fn sweep_feedback(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let mut sent = 0;
        for f in self.store.due_feedback(now).await? {
            let mut next = f.clone();
            next.requested_at = Some(now);
            next.version = f.version + 1;
            let mut change = OrderChange::for_order(&f.order_id)
                .with_event(TimelineEvent::new(now, "feedback.requested", Actor::System("feedback".into())))
                .with_effect(Effect::notify(Notification::new("feedback.request", &f.order_id, None)));
            change.feedback = Some(Write::Update { value: next, expected_version: f.version });
            match self.store.commit(&change).await {
                Ok(()) => sent += 1,
                Err(StoreError::StaleVersion) => {}
                Err(e) => tracing::warn!(order_id = %f.order_id, error = %e, "survey not sent"),
            }
        }
        tracing::info!(sent, "feedback sweep");
        Ok(sent)
    }

    /// The customer's answer (the signed link was checked by the caller): once.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn answer_feedback(&self, id: &OrderId, a: FeedbackAnswer) -> Result<Feedback, AppError> {
        let score = match a.score.trim().parse::<u8>() {
            Ok(s @ 1..=5) => s,
            _ => return Err(AppError::invalid_field("score", "a whole number from 1 to 5")),
        };
        let comment = match a.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Some(super::text::text("comment", c, MAX_COMMENT)?),
            None => None,
        };
        let f = self.store.get_feedback(id).await?.filter(|f| f.requested_at.is_some()).ok_or(AppError::NotFound)?;
        if f.answered_at.is_some() {
            return Err(AppError::Conflict {
                kind: "feedback-already-given",
                detail: "this survey was answered already: thank you".into(),
            });
        }
        let now = self.clock.now();
        let next =
            Feedback { answered_at: Some(now), score: Some(score), comment, version: f.version + 1, ..f.clone() };
        let note = match &next.comment {
            Some(c) => format!("score {score}: {c}"),
            None => format!("score {score}"),
        };
        let mut change = OrderChange::for_order(id).with_event(
            TimelineEvent::new(now, "feedback.received", Actor::Customer(f.customer_id.to_string())).with_note(note),
        );
        change.feedback = Some(Write::Update { value: next.clone(), expected_version: f.version });
        match self.store.commit(&change).await {
            Ok(()) => Ok(next),
            Err(StoreError::StaleVersion) => Err(AppError::Conflict {
                kind: "feedback-already-given",
                detail: "this survey was answered already: thank you".into(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The order's survey as agents read it.
    pub async fn feedback_of(&self, caller: &Caller, id: &OrderId) -> Result<Feedback, AppError> {
        self.store.get_order(id).await?.filter(|o| caller.reads(&o.customer)).ok_or(AppError::NotFound)?;
        self.store.get_feedback(id).await?.ok_or(AppError::NotFound)
    }
}
