//! SMS and push next to the mail: an order message the customer chose for a channel is sent
//! there too, once per channel (the dedupe key and the channel), after the mail. In the
//! customer's quiet hours it waits on the notifications queue (delayed, up to 15 minutes at a
//! time) until they end; a number that replied STOP is marked opted out and left alone.

use super::notify::{Notifier, NotifyError};
use crate::domain::messaging::{MESSAGE_KINDS, MessageChannel};
use crate::domain::support::Preferences;
use crate::domain::{Notification, Order};
use crate::ports::{MailClaim, MessageError, OutboundMessage};

/// The short text of an order message (an SMS is one or two segments; no personal data but
/// the order number, and the pickup code the customer needs).
fn text(brand: &str, n: &Notification, o: &Order, tracking_url: Option<&str>) -> String {
    let id = &o.id;
    let body = match n.kind.as_str() {
        "order.confirmed" => format!("order {id} is confirmed."),
        "order.payment_declined" => match o.payment.recovery.as_ref() {
            Some(r) => format!(
                "the payment for order {id} was declined. Please give another payment method by {}.",
                r.due_by.format("%Y-%m-%d %H:%M UTC")
            ),
            None => format!("the payment for order {id} was declined."),
        },
        "shipment.shipped" => match tracking_url {
            Some(u) => format!("order {id} has shipped. Track it: {u}"),
            None => format!("order {id} has shipped."),
        },
        "shipment.out_for_delivery" => format!("a parcel of order {id} is out for delivery today."),
        "order.delivered" => format!("order {id} was delivered."),
        "order.ready_for_pickup" => match o.waiting_pickup() {
            Some(p) => format!("order {id} is ready for pickup. Your code: {}", p.code),
            None => format!("order {id} is ready for pickup."),
        },
        "order.pickup_reminder" => match o.waiting_pickup() {
            Some(p) => format!("order {id} waits for you at the store until {}.", p.expires_at.format("%Y-%m-%d")),
            None => format!("order {id} waits for you at the store."),
        },
        "order.cancelled" => format!("order {id} is cancelled. You have not been charged for it."),
        other => format!("news about order {id} ({other})."),
    };
    format!("{brand}: {body}")
}

fn wanted(p: &Preferences, ch: MessageChannel, kind: &str) -> Option<String> {
    match ch {
        MessageChannel::Sms => p.sms.as_ref().filter(|s| s.wants(kind)).map(|s| s.phone.clone()),
        MessageChannel::Push => p.push.as_ref().filter(|s| s.wants(kind)).map(|s| s.device_token.clone()),
    }
}

impl Notifier {
    /// The SMS and push of an order message, per the customer's preferences (`only`: one
    /// channel, a message held back by quiet hours).
    pub(super) async fn other_channels(
        &self,
        n: &Notification,
        only: Option<MessageChannel>,
        read: Option<&crate::ports::OrderView>,
    ) -> Result<(), NotifyError> {
        if !MESSAGE_KINDS.contains(&n.kind.as_str()) {
            return Ok(());
        }
        let Some(order_id) = &n.order_id else { return Ok(()) };
        let store = &self.oms.store;
        let fetched;
        let view = match read {
            Some(v) => v,
            None => {
                let Some(v) = store.get_order_with_shipments(order_id).await? else { return Ok(()) };
                fetched = v;
                &fetched
            }
        };
        let prefs = store.get_preferences(&view.order.customer).await?;
        let channels = match only {
            Some(c) => vec![c],
            None => vec![MessageChannel::Sms, MessageChannel::Push],
        };
        for ch in channels {
            let Some(to) = wanted(&prefs, ch, &n.kind) else { continue };
            let now = self.oms.clock.now();
            if let Some(left) = prefs.quiet_hours.as_ref().and_then(|q| q.remaining(now)) {
                let later = Notification { channel: Some(ch), ..n.clone() };
                let body = serde_json::to_string(&later).map_err(|e| NotifyError::Permanent(e.to_string()))?;
                let delay = u32::try_from(left.num_seconds().clamp(1, 900)).unwrap_or(900);
                self.queue.send_delayed(&body, delay).await.map_err(NotifyError::Transient)?;
                tracing::info!(kind = %n.kind, channel = ch.as_str(), delay, "held back by quiet hours");
                continue;
            }
            let key = format!("{}#{}", n.dedupe_key, ch.as_str());
            match store.claim_mail(&key, 60).await? {
                MailClaim::AlreadySent => continue,
                MailClaim::InFlight => return Err(NotifyError::Transient("another delivery is sending it".into())),
                MailClaim::Claimed => {}
            }
            let shipment = n.shipment_id.as_ref().and_then(|s| view.shipments.iter().find(|x| &x.id == s));
            let url =
                shipment.and_then(|s| s.tracking_number.as_ref()).map(|t| self.tracking_url.replace("{tracking}", t));
            let m = OutboundMessage {
                channel: ch,
                to,
                title: self.brand.clone(),
                body: text(&self.brand, n, &view.order, url.as_deref()),
            };
            match self.messages.send(&m).await {
                Ok(()) => tracing::info!(kind = %n.kind, channel = ch.as_str(), "message sent"),
                Err(MessageError::Transient(e)) => return Err(NotifyError::Transient(e)),
                Err(MessageError::OptedOut) => {
                    // The number replied STOP: remember it, so nothing more is tried.
                    let mut p = store.get_preferences(&view.order.customer).await?;
                    if let Some(s) = p.sms.as_mut() {
                        s.opted_out = true;
                    }
                    store.put_preferences(&view.order.customer, &p).await?;
                    tracing::info!(kind = %n.kind, "sms recipient opted out");
                }
                Err(MessageError::Rejected(e)) => {
                    tracing::warn!(kind = %n.kind, channel = ch.as_str(), error = %e, "message rejected")
                }
            }
            store.mark_mail_sent(&key).await?;
        }
        Ok(())
    }
}
