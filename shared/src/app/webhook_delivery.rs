//! Delivers integration events to webhook subscribers. Its queue gets every event from the bus
//! (a rule's target) and its own retry tasks. An event is taken once per subscription (the
//! delivery log entry's create is the dedupe), signed per Standard Webhooks and posted;
//! answers other than 2xx are retried on the schedule (about a day) unless the receiver
//! refused it (4xx other than 408 and 429); a subscription whose deliveries keep failing is
//! disabled and its contact told by mail.

use super::error::ConsumerError;
use crate::domain::events::DomainEvent;
use crate::domain::webhooks::{
    Attempt, Delivery, DeliveryState, Outcome, ReplayRequest, Subscription, SubscriptionStatus, outcome, sign,
};
use crate::ports::{Clock, Mail, Mailer, Queue, Store, StoreError, WebhookSender};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone)]
pub struct WebhookDispatcher {
    pub store: Arc<dyn Store>,
    pub sender: Arc<dyn WebhookSender>,
    /// The dispatcher's own queue: retry tasks go back to it, delayed.
    pub queue: Arc<dyn Queue>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    /// The wait before each retry.
    pub schedule: Vec<Duration>,
    /// Deliveries failed in a row that disable a subscription.
    pub disable_after: u32,
}

/// A retry (or a replay): deliver a logged event to a subscription, not before a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliverTask {
    pub subscription_id: String,
    pub occurred_at: DateTime<Utc>,
    pub event_id: String,
    /// The attempt this task makes (the log's attempts so far + 1): a duplicate task finds it
    /// made already and does nothing.
    pub attempt: u32,
    /// Which try of this series (0: the first; the schedule's wait before try n is entry n-1).
    pub series_try: u32,
    pub not_before: DateTime<Utc>,
    /// The event to send (the same bytes on every try).
    pub event: DomainEvent,
}

/// At most this many deliveries per replay request.
pub const REPLAY_LIMIT: usize = 5000;

/// What the dispatcher's queue carries.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Message {
    Task {
        deliver: DeliverTask,
    },
    /// A replay an agent asked for (`POST .../replay`, enqueued after its request committed).
    Replay {
        replay: ReplayRequest,
    },
    /// EventBridge's envelope: the event is its `detail`.
    Bus {
        detail: DomainEvent,
    },
}

impl WebhookDispatcher {
    /// One message from the queue.
    #[tracing::instrument(skip_all)]
    pub async fn handle(&self, body: &str) -> Result<(), ConsumerError> {
        match serde_json::from_str::<Message>(body) {
            Ok(Message::Bus { detail }) => self.fan_out(&detail).await,
            Ok(Message::Task { deliver }) => self.run_task(deliver).await,
            Ok(Message::Replay { replay }) => {
                let n = self.replay(&replay.subscription_id, replay.since, REPLAY_LIMIT).await?;
                tracing::info!(subscription = %replay.subscription_id, deliveries = n, "replay enqueued");
                Ok(())
            }
            Err(e) => Err(ConsumerError::Permanent(format!("not an event or a delivery task: {e}"))),
        }
    }

    /// Sends the event to every subscription that wants its type, all at once (a slow
    /// endpoint delays no other). A disabled subscription gets the event logged as failed,
    /// unsent, so enabling it and replaying sends what it missed.
    async fn fan_out(&self, event: &DomainEvent) -> Result<(), ConsumerError> {
        let subs: Vec<Subscription> =
            self.store.list_subscriptions().await?.into_iter().filter(|s| s.wants_type(&event.kind)).collect();
        let results = futures::future::join_all(subs.iter().map(|sub| self.deliver_new(sub, event))).await;
        results.into_iter().collect()
    }

    async fn deliver_new(&self, sub: &Subscription, event: &DomainEvent) -> Result<(), ConsumerError> {
        let enabled = sub.status == SubscriptionStatus::Enabled;
        let d = Delivery {
            subscription_id: sub.id.clone(),
            event_id: event.id.clone(),
            event_type: event.kind.clone(),
            occurred_at: event.occurred_at,
            state: if enabled { DeliveryState::Pending } else { DeliveryState::Failed },
            attempts: Vec::new(),
            next_attempt_at: None,
            order_id: event.order_id.clone(),
            sequence: event.sequence,
            created_at: self.clock.now(),
        };
        match self.store.create_delivery(&d).await {
            Ok(()) => {}
            // Taken already (the bus delivered the event twice): a redelivery after a crash
            // before the first attempt still sends it.
            Err(StoreError::AlreadyExists) => match self.store.get_delivery(&sub.id, d.occurred_at, &d.event_id).await?
            {
                Some(logged) if logged.attempts.is_empty() && logged.state == DeliveryState::Pending => {}
                _ => return Ok(()),
            },
            Err(e) => return Err(e.into()),
        }
        if !enabled {
            return Ok(());
        }
        self.attempt(sub, d, 0, event).await
    }

    async fn run_task(&self, t: DeliverTask) -> Result<(), ConsumerError> {
        let now = self.clock.now();
        if now < t.not_before {
            // SQS delays at most 15 minutes: the task waits in steps.
            let wait = (t.not_before - now).num_seconds().clamp(1, 900) as u32;
            return self.enqueue(&t, wait).await;
        }
        let Some(mut d) = self.store.get_delivery(&t.subscription_id, t.occurred_at, &t.event_id).await? else {
            return Ok(()); // expired from the log
        };
        if d.state != DeliveryState::Pending || d.attempts.len() as u32 + 1 != t.attempt {
            return Ok(()); // done, or this attempt was made (a duplicate task)
        }
        match self.store.get_subscription(&t.subscription_id).await? {
            Some(sub) if sub.status == SubscriptionStatus::Enabled => {
                self.attempt(&sub, d, t.series_try, &t.event).await
            }
            _ => {
                d.state = DeliveryState::Failed;
                d.next_attempt_at = None;
                Ok(self.store.save_delivery(&d).await?)
            }
        }
    }

    async fn enqueue(&self, t: &DeliverTask, delay: u32) -> Result<(), ConsumerError> {
        let body = serde_json::json!({ "deliver": t }).to_string();
        self.queue.send_delayed(&body, delay).await.map_err(ConsumerError::Transient)
    }

    /// One attempt, recorded; then a retry task, or the end of the delivery.
    async fn attempt(
        &self,
        sub: &Subscription,
        mut d: Delivery,
        series_try: u32,
        event: &DomainEvent,
    ) -> Result<(), ConsumerError> {
        let payload = serde_json::to_string(event).map_err(|e| ConsumerError::Permanent(e.to_string()))?;
        let now = self.clock.now();
        let ts = now.timestamp();
        let headers = [
            ("webhook-id", d.event_id.clone()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", sign(&sub.signing_secrets(now), &d.event_id, ts, payload.as_bytes())),
            ("user-agent", "oms-webhooks/1".to_owned()),
        ];
        let started = std::time::Instant::now();
        let res = self.sender.post(&sub.url, &headers, payload.as_bytes()).await;
        let (status, error) = match res {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e.chars().take(200).collect::<String>())),
        };
        let took = started.elapsed().as_millis() as u64;
        tracing::info!(subscription = %sub.id, event_id = %d.event_id, status, took_ms = took, "webhook attempt");
        d.attempts.push(Attempt { at: now, status, error: error.clone(), duration_ms: took });
        let why = status.map(|s| format!("HTTP {s}")).or(error).unwrap_or_default();
        match outcome(status) {
            Outcome::Delivered => {
                d.state = DeliveryState::Succeeded;
                d.next_attempt_at = None;
                self.store.save_delivery(&d).await?;
                if sub.consecutive_failures > 0 {
                    self.update_subscription(&sub.id, |s| s.consecutive_failures = 0).await?;
                }
                Ok(())
            }
            Outcome::Retry if (series_try as usize) < self.schedule.len() => {
                let wait = self.schedule[series_try as usize];
                let task = DeliverTask {
                    subscription_id: sub.id.clone(),
                    occurred_at: d.occurred_at,
                    event_id: d.event_id.clone(),
                    attempt: d.attempts.len() as u32 + 1,
                    series_try: series_try + 1,
                    not_before: now + wait,
                    event: event.clone(),
                };
                d.next_attempt_at = Some(task.not_before);
                self.store.save_delivery(&d).await?;
                self.enqueue(&task, wait.num_seconds().clamp(0, 900) as u32).await
            }
            _ => {
                d.state = DeliveryState::Failed;
                d.next_attempt_at = None;
                self.store.save_delivery(&d).await?;
                let limit = self.disable_after;
                let disabled = self
                    .update_subscription(&sub.id, |s| {
                        s.failed_delivery(limit, &why);
                    })
                    .await?;
                if let Some(s) = disabled.filter(|s| s.status != sub.status) {
                    self.tell_disabled(&s).await;
                }
                Ok(())
            }
        }
    }

    async fn update_subscription(
        &self,
        id: &str,
        f: impl Fn(&mut Subscription),
    ) -> Result<Option<Subscription>, ConsumerError> {
        let updated =
            super::webhook_subscriptions::update_subscription(self.store.as_ref(), self.clock.as_ref(), id, |s, _| {
                f(s)
            });
        Ok(updated.await?)
    }

    async fn tell_disabled(&self, s: &Subscription) {
        let why = s.disabled_reason.clone().unwrap_or_default();
        let text = format!(
            "Your webhook endpoint {} (subscription {}) was disabled: {why}.\n\nFix the endpoint, then enable it again \
             (POST /v1/admin/webhook-subscriptions/{}/enable) and replay what it missed \
             (POST /v1/admin/webhook-subscriptions/{}/replay).\n",
            s.url, s.id, s.id, s.id
        );
        let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
        let html = format!("<p>{}</p>", escaped.replace('\n', "<br>"));
        let mail = Mail {
            to: s.contact_email.to_string(),
            subject: "Your OMS webhook endpoint was disabled".into(),
            text,
            html,
            category: "transactional",
            unsubscribe: None,
            attachments: Vec::new(),
        };
        if let Err(e) = self.mailer.send(&mail).await {
            tracing::warn!(subscription = %s.id, error = %e, "could not tell the subscriber");
        }
    }

    /// Sends again every logged delivery of events that occurred since `since` (at most
    /// `limit`): each becomes pending and is attempted through the queue. Returns how many.
    pub async fn replay(&self, id: &str, since: DateTime<Utc>, limit: usize) -> Result<usize, ConsumerError> {
        let now = self.clock.now();
        let mut n = 0;
        for mut d in self.store.deliveries(id, since, limit).await? {
            // The event as the bus would carry it now (same id and sequence; the order as it is).
            let named = [(d.event_type.clone(), d.event_id.clone())];
            let built =
                super::events::events_for(self.store.as_ref(), &d.order_id, &named, Some(d.sequence), d.occurred_at);
            let Some(event) = built.await?.pop() else { continue };
            d.state = DeliveryState::Pending;
            d.next_attempt_at = Some(now);
            self.store.save_delivery(&d).await?;
            let task = DeliverTask {
                subscription_id: id.to_owned(),
                occurred_at: d.occurred_at,
                event_id: d.event_id.clone(),
                attempt: d.attempts.len() as u32 + 1,
                series_try: 0,
                not_before: now,
                event,
            };
            self.enqueue(&task, 0).await?;
            n += 1;
        }
        Ok(n)
    }
}
