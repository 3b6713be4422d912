//! The notifier: one mail per notification dedupe key, rendered from the templates in
//! `shared/templates/` (text and HTML) and sent through the `Mailer`. Marketing mail (cart
//! reminders) honours the customer's opt-out. Logs carry ids and types, never addresses.

use super::Oms;
use crate::domain::Notification;
use crate::ports::MailClaim;

pub use super::error::ConsumerError as NotifyError;
use crate::ports::{Mail, MailError, Mailer};
use minijinja::{Environment, Value as TValue};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

const MESSAGES: &str = include_str!("../../templates/messages.json");
const BASE_HTML: &str = include_str!("../../templates/base.html");
const LINES_HTML: &str = include_str!("../../templates/lines.html");
const LINES_TXT: &str = include_str!("../../templates/lines.txt");

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Duplicate,
    OptedOut,
}

/// Templates, loaded once per process.
pub struct Templates {
    env: Environment<'static>,
    kinds: Vec<String>,
}

fn money(v: TValue) -> String {
    let amount = v.get_attr("amount").ok().and_then(|a| i64::try_from(a).ok()).unwrap_or(0);
    let currency = v.get_attr("currency").ok().map(|c| c.to_string()).unwrap_or_default();
    let sign = if amount < 0 { "-" } else { "" };
    let a = amount.abs();
    format!("{sign}{}.{:02} {currency}", a / 100, a % 100)
}

impl Templates {
    pub fn load() -> Result<Self, String> {
        let messages: BTreeMap<String, (String, String, String)> =
            serde_json::from_str(MESSAGES).map_err(|e| e.to_string())?;
        let mut env = Environment::new();
        env.add_filter("money", money);
        env.add_template("base.html", BASE_HTML).map_err(|e| e.to_string())?;
        env.add_template("lines.html", LINES_HTML).map_err(|e| e.to_string())?;
        env.add_template("lines.txt", LINES_TXT).map_err(|e| e.to_string())?;
        for (kind, (subject, text, html)) in &messages {
            env.add_template_owned(format!("{kind}.subject.txt"), subject.clone()).map_err(|e| e.to_string())?;
            env.add_template_owned(format!("{kind}.txt"), text.clone()).map_err(|e| e.to_string())?;
            env.add_template_owned(
                format!("{kind}.html"),
                format!("{{% extends 'base.html' %}}{{% block body %}}{html}{{% endblock %}}"),
            )
            .map_err(|e| e.to_string())?;
        }
        Ok(Templates { env, kinds: messages.keys().cloned().collect() })
    }

    pub fn kinds(&self) -> &[String] {
        &self.kinds
    }

    /// (subject, text, html) for a notification kind and its data.
    pub fn render(&self, kind: &str, data: &Value) -> Result<(String, String, String), String> {
        let ctx = TValue::from(minijinja::value::Serde(data));
        let r = |name: String| {
            self.env.get_template(&name).and_then(|t| t.render(&ctx)).map_err(|e| format!("{name}: {e}"))
        };
        Ok((r(format!("{kind}.subject.txt"))?, r(format!("{kind}.txt"))?, r(format!("{kind}.html"))?))
    }
}

#[derive(Clone)]
pub struct Notifier {
    pub oms: Oms,
    pub mailer: Arc<dyn Mailer>,
    pub templates: Arc<Templates>,
    pub brand: String,
    /// The public base URL and the signing key of links customers open from a mail.
    pub links: super::links::Links,
    /// The carrier's tracking page, `{tracking}` replaced by the tracking number.
    pub tracking_url: String,
    /// SMS and push (`super::messages`).
    pub messages: Arc<dyn crate::ports::MessageSender>,
    /// The notifications queue: an SMS or push held back by quiet hours waits there.
    pub queue: Arc<dyn crate::ports::Queue>,
}

/// The path of a return label's signed link.
pub fn return_label_path(order: &crate::domain::OrderId, rma: &str) -> String {
    format!("/v1/signed/orders/{order}/returns/{rma}/label")
}

/// The path of a customer's signed unsubscribe link (the id percent-encoded as one segment:
/// identity providers' subjects may hold `/`, `|`, spaces or letters beyond ASCII).
pub fn unsubscribe_path(customer: &crate::domain::CustomerId) -> String {
    format!("/v1/signed/customers/{}/unsubscribe", segment(customer.as_str()))
}

/// `s` as one URL path segment: unreserved characters kept (not `.`: no dot-segments), every
/// other byte `%XX`.
pub fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Notifier {
    pub async fn handle(&self, n: &Notification) -> Result<Outcome, NotifyError> {
        if !self.templates.kinds.iter().any(|k| k == &n.kind) {
            return Err(NotifyError::Permanent(format!("no template for {}", n.kind)));
        }
        // One channel only: an SMS or push quiet hours held back (the mail went already).
        if let Some(ch) = n.channel {
            self.other_channels(n, Some(ch), None).await?;
            return Ok(Outcome::Sent);
        }
        let store = &self.oms.store;
        if let Some(cart_id) = &n.cart_id {
            let cart = store.get_cart(cart_id).await?.ok_or_else(|| NotifyError::Permanent("cart not found".into()))?;
            if cart.converted_order.is_some() {
                return Ok(Outcome::Duplicate);
            }
            if !store.get_preferences(&cart.customer).await?.marketing_emails {
                return Ok(Outcome::OptedOut);
            }
            let to = cart.email.clone().ok_or_else(|| NotifyError::Permanent("cart has no e-mail".into()))?;
            let unsubscribe = self.links.signed(
                &unsubscribe_path(&cart.customer),
                self.oms.clock.now(),
                super::links::UNSUBSCRIBE_LINK_DAYS,
            );
            let names = store.get_products(&cart.items.iter().map(|i| i.sku.clone()).collect::<Vec<_>>()).await?;
            let items: Vec<Value> = cart
                .items
                .iter()
                .map(|i| {
                    let name = names.get(&i.sku).map(|p| p.name.clone()).unwrap_or_else(|| i.sku.to_string());
                    serde_json::json!({"quantity": i.quantity, "sku": i.sku, "name": name})
                })
                .collect();
            let data = serde_json::json!({"cart": super::views::CartDto::from(&cart), "items": items, "brand": self.brand,
                "marketing": true, "unsubscribe_url": unsubscribe});
            return self.deliver(n, to, data, true, Some(unsubscribe), Vec::new()).await;
        }
        // The order is read once for the mail and the other channels.
        let order_id =
            n.order_id.as_ref().ok_or_else(|| NotifyError::Permanent("notification names no order or cart".into()))?;
        let view = store
            .get_order_with_shipments_since(order_id, n.order_version)
            .await?
            .ok_or_else(|| NotifyError::Permanent("order not found".into()))?;
        let sent = self.order_mail(n, &view).await?;
        self.other_channels(n, None, Some(&view)).await?;
        Ok(sent)
    }

    /// An order's mail: its customer projection, the shipment's lines by name, tracking, the
    /// signed label link of a return.
    async fn order_mail(&self, n: &Notification, view: &crate::ports::OrderView) -> Result<Outcome, NotifyError> {
        let store = &self.oms.store;
        let o = &view.order;
        // A store sale taken away at the till: its receipt is the collection mail, not a
        // confirmation that it is on its way.
        if n.kind == "order.confirmed" && o.delivery.take_away {
            return Ok(Outcome::Duplicate);
        }
        let shipment = n.shipment_id.as_ref().and_then(|s| view.shipments.iter().find(|x| &x.id == s).cloned());
        let to = o.email.clone();
        let name = o.shipping_address.name.split_whitespace().next().unwrap_or("there").to_owned();
        let order = super::projections::customer_order(o, &view.shipments, &view.timeline);
        // The shipment's lines by product name, as the order sold them.
        let shipment_lines: Vec<Value> = shipment
            .iter()
            .flat_map(|s| s.lines.iter())
            .map(|l| {
                let name = o.lines.iter().find(|x| x.line_id == l.line_id).map(|x| x.name.clone());
                serde_json::json!({"quantity": l.quantity, "name": name.unwrap_or_else(|| l.sku.to_string())})
            })
            .collect();
        let tracking_number = shipment.as_ref().and_then(|s| s.tracking_number.clone());
        let tracking_url = tracking_number.as_ref().map(|t| self.tracking_url.replace("{tracking}", t));
        // A return's notification names its RMA first (older ones also carried a link).
        let rma = n.detail.as_deref().and_then(|d| d.split_whitespace().next()).unwrap_or_default().to_owned();
        let label_url = (n.kind == "return.issued").then(|| {
            self.links.signed(&return_label_path(&o.id, &rma), self.oms.clock.now(), super::links::DOCUMENT_LINK_DAYS)
        });
        // A replacement order speaks of the order its return came from.
        let exchange_of = match &o.exchange_for {
            Some(rma) => store.get_rma(rma).await?.map(|r| r.order_id.to_string()),
            None => None,
        };
        // An agent's reply on a case: the case and the reply's words.
        let (case, reply) = match (n.kind.as_str(), n.detail.as_deref()) {
            ("case.reply", Some(d)) => self.case_reply(d).await?,
            _ => (None, None),
        };
        // An invoice or credit note's mail: the document its detail names, and its signed link.
        let document = match (n.kind.as_str(), n.detail.as_deref()) {
            ("invoice.issued" | "credit_note.issued", Some(number)) => Some(
                store
                    .get_invoice(number)
                    .await?
                    .ok_or_else(|| NotifyError::Transient("document not found yet".into()))?,
            ),
            _ => None,
        };
        let document_url = document.as_ref().map(|d| {
            self.links.signed(
                &super::invoices::document_path(&o.id, &d.number),
                self.oms.clock.now(),
                super::links::DOCUMENT_LINK_DAYS,
            )
        });
        // The carrier's latest estimate once the parcel moves, else the promise.
        let estimate = shipment.as_ref().and_then(|s| s.estimated_delivery).unwrap_or(o.delivery.promised_by);
        let data = serde_json::json!({
            "order": order, "shipment": shipment, "shipment_lines": shipment_lines, "name": name,
            "brand": self.brand, "detail": n.detail, "rma": rma, "label_url": label_url,
            "tracking_number": tracking_number, "carrier": shipment.as_ref().and_then(|s| s.carrier.clone()),
            "tracking_url": tracking_url, "promised_by": estimate, "marketing": false,
            "exchange_of": exchange_of, "credit": o.credit, "payable": o.payable(),
            "case": case, "reply": reply,
            // The pickup code and expiry as the mail's change recorded them (the order may have
            // been held or collected since this mail was queued).
            "pickup": o.pickup,
            // A declined payment: until when another payment method keeps the order.
            "payment_due_by": o.payment.recovery.as_ref().map(|r| r.due_by.format("%Y-%m-%d %H:%M UTC").to_string()),
            // Where the customer pays while the order waits for it (a link order, a decline).
            "payment_url": (o.status == crate::domain::OrderStatus::PaymentRequired).then(|| {
                let due = o.payment.recovery.as_ref().map(|r| r.due_by).unwrap_or_else(|| self.oms.clock.now());
                let days = (due - self.oms.clock.now()).num_days() + 1;
                self.links.signed(&super::orders::payment_path(&o.id), self.oms.clock.now(), days.clamp(1, 30))
            }),
            "document": document.as_ref().map(|d| serde_json::json!({
                "number": d.number, "kind": d.kind.title(), "total": d.total.to_string(), "issuedAt": d.issued_at.format("%Y-%m-%d").to_string(),
            })),
            "document_url": document_url,
            // The satisfaction survey's signed link.
            "feedback_url": (n.kind == "feedback.request").then(|| {
                self.links.signed(&super::feedback::survey_path(&o.id), self.oms.clock.now(), super::links::DOCUMENT_LINK_DAYS)
            }),
        });
        // An invoice or credit note travels as its PDF.
        let attachments = document
            .iter()
            .map(|d| crate::ports::Attachment {
                filename: format!("{}.pdf", d.number),
                content_type: "application/pdf",
                bytes: super::invoices::pdf::render(d),
            })
            .collect();
        self.deliver(n, to, data, false, None, attachments).await
    }

    /// A case reply's mail data: the case and the reply the detail names (`<case id>#<position>`).
    /// The subject is the customer's own words only on a case they opened.
    async fn case_reply(&self, detail: &str) -> Result<(Option<Value>, Option<String>), NotifyError> {
        use crate::domain::support::MessageFrom;
        let (id, pos) = detail.split_once('#').unwrap_or((detail, ""));
        let id = crate::domain::CaseId::parse(id).map_err(|e| NotifyError::Permanent(e.to_string()))?;
        let c = self.oms.store.get_case(&id).await?.ok_or_else(|| NotifyError::Permanent("case not found".into()))?;
        let reply = match pos.parse::<usize>() {
            Ok(p) => c.messages.get(p.wrapping_sub(1)).filter(|m| m.from == MessageFrom::Agent),
            // Older notifications named only the case: its newest reply.
            Err(_) => c.messages.iter().rev().find(|m| m.from == MessageFrom::Agent),
        };
        let reply = reply.ok_or_else(|| NotifyError::Permanent("no such reply on the case".into()))?;
        let theirs = c.messages.first().is_some_and(|m| m.from == MessageFrom::Customer);
        let subject = if theirs { c.subject.clone() } else { format!("Your order {}", c.order_id) };
        Ok((Some(serde_json::json!({"id": c.id, "subject": subject})), Some(reply.body.clone())))
    }

    /// Renders and sends one notification at most once per dedupe key.
    async fn deliver(
        &self,
        n: &Notification,
        to: crate::domain::Email,
        data: Value,
        marketing: bool,
        unsubscribe: Option<String>,
        attachments: Vec<crate::ports::Attachment>,
    ) -> Result<Outcome, NotifyError> {
        let store = &self.oms.store;
        // An erased customer's placeholder address never receives mail.
        if to.as_str().ends_with(&format!("@{}", crate::domain::privacy::ERASED_DOMAIN)) {
            return Ok(Outcome::OptedOut);
        }
        let (subject, text, html) = self.templates.render(&n.kind, &data).map_err(NotifyError::Permanent)?;
        match store.claim_mail(&n.dedupe_key, 60).await? {
            MailClaim::AlreadySent => return Ok(Outcome::Duplicate),
            MailClaim::InFlight => {
                return Err(NotifyError::Transient("another delivery of this message is sending it".into()));
            }
            MailClaim::Claimed => {}
        }
        let mail = Mail {
            to: to.to_string(),
            subject,
            text,
            html,
            category: if marketing { "marketing" } else { "transactional" },
            unsubscribe,
            attachments,
        };
        self.mailer.send(&mail).await.map_err(|e| match e {
            MailError::Transient(m) => NotifyError::Transient(m),
            MailError::Rejected(m) => NotifyError::Permanent(m),
        })?;
        store.mark_mail_sent(&n.dedupe_key).await?;
        tracing::info!(kind = %n.kind, order_id = ?n.order_id.as_ref().map(|o| o.to_string()), "mail sent");
        Ok(Outcome::Sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_with_realistic_data() {
        let t = Templates::load().unwrap();
        let money = |a: i64| serde_json::json!({"amount": a, "currency": "USD"});
        let data = serde_json::json!({
            "brand": "OMS Shop", "name": "Ann", "detail": "RMA-1", "tracking_url": "https://track.example/SBX1",
            "marketing": false, "unsubscribe_url": "https://shop.example/unsubscribe",
            "order": {"orderId": "01JD", "lines": [{"quantity": 2, "name": "Mug <b>", "subtotal": money(2500)}],
                      "totals": {"subtotal": money(2500), "shipping": money(599), "tax": money(200), "total": money(3299)},
                      "delivery": {"promisedBy": "2026-11-25", "pickupLocation": "STORE-NYC"},
                      },
            "pickup": {"code": "042917", "expiresAt": "2026-11-30T10:00:00Z"},
            "payable": money(3299),
            "shipment": {"lines": [{"quantity": 2, "sku": "MUG"}]},
            "cart": {"items": [{"sku": "MUG", "quantity": 1}]},
            "case": {"id": "01JDCASE", "subject": "Gift wrap?"}, "reply": "Yes, in blue paper.",
        });
        for kind in t.kinds() {
            let (subject, text, html) = t.render(kind, &data).unwrap();
            assert!(!subject.is_empty() && !text.is_empty() && html.contains("<html>"), "{kind}");
        }
        let (_, text, _) = t.render("order.ready_for_pickup", &data).unwrap();
        assert!(text.contains("Your pickup code: 042917"), "{text}");
        let (_, text, html) = t.render("order.confirmed", &data).unwrap();
        assert!(text.contains("2 x Mug <b>  25.00 USD"), "{text}");
        assert!(text.contains("Total  32.99 USD"));
        assert!(html.contains("Mug &lt;b&gt;"), "HTML is escaped: {html}");
    }
}
