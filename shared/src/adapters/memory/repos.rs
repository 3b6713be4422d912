//! Carts, stock, catalog, locations, returns, cases, idempotency, dedupe, preferences and the
//! outbox, in memory.

use super::MemoryStore;
use crate::domain::returns::Rma;
use crate::domain::support::{Case, CaseStatus, Preferences};
use crate::domain::*;
use crate::ports::*;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

#[async_trait::async_trait]
impl CartRepository for MemoryStore {
    async fn save_cart(&self, cart: &mut Cart) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        let current = s.carts.get(&cart.id).map(|c| c.version);
        let ok = match current {
            None => cart.version == 0,
            Some(v) => v == cart.version && cart.version != 0,
        };
        if !ok {
            return Err(StoreError::StaleVersion);
        }
        cart.version += 1;
        s.carts.insert(cart.id.clone(), cart.clone());
        Ok(())
    }

    async fn get_cart(&self, id: &CartId) -> Result<Option<Cart>, StoreError> {
        self.read(|s| s.carts.get(id).cloned())
    }

    async fn carts_of_customer(&self, customer: &CustomerId) -> Result<Vec<Cart>, StoreError> {
        let mut carts: Vec<Cart> = self.lock()?.carts.values().filter(|c| &c.customer == customer).cloned().collect();
        carts.sort_by_key(|c| std::cmp::Reverse(c.last_activity));
        Ok(carts)
    }

    async fn idle_carts(&self, cutoff: DateTime<Utc>) -> Result<Vec<Cart>, StoreError> {
        Ok(self
            .lock()?
            .carts
            .values()
            .filter(|c| {
                !c.items.is_empty() && c.email.is_some() && c.converted_order.is_none() && c.last_activity < cutoff
            })
            .cloned()
            .collect())
    }
}

#[async_trait::async_trait]
impl CatalogRepository for MemoryStore {
    async fn put_product(&self, p: &Product) -> Result<(), StoreError> {
        self.lock()?.products.insert(p.sku.clone(), p.clone());
        Ok(())
    }

    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        self.read(|s| s.products.get(sku).cloned())
    }

    async fn list_products(&self) -> Result<Vec<Product>, StoreError> {
        self.read(|s| s.products.values().cloned().collect())
    }

    async fn get_products(&self, skus: &[Sku]) -> Result<HashMap<Sku, Product>, StoreError> {
        let s = self.lock()?;
        Ok(skus.iter().filter_map(|k| s.products.get(k).map(|p| (k.clone(), p.clone()))).collect())
    }
}

#[async_trait::async_trait]
impl LocationRepository for MemoryStore {
    async fn put_location(&self, l: &Location) -> Result<(), StoreError> {
        self.lock()?.locations.insert(l.id.clone(), l.clone());
        Ok(())
    }

    async fn get_location(&self, id: &LocationId) -> Result<Option<Location>, StoreError> {
        self.read(|s| s.locations.get(id).cloned())
    }

    async fn list_locations(&self) -> Result<Vec<Location>, StoreError> {
        self.read(|s| s.locations.values().cloned().collect())
    }
}

#[async_trait::async_trait]
impl ReturnRepository for MemoryStore {
    async fn get_rma(&self, id: &ReturnId) -> Result<Option<Rma>, StoreError> {
        self.read(|s| s.rmas.values().find(|r| &r.id == id).cloned())
    }

    async fn returns_of_order(&self, order: &OrderId) -> Result<Vec<Rma>, StoreError> {
        self.read(|s| s.rmas.iter().filter(|((o, _), _)| o == order).map(|(_, r)| r.clone()).collect())
    }

    async fn get_return_label(&self, order: &OrderId, id: &ReturnId) -> Result<Option<ReturnLabelDoc>, StoreError> {
        self.read(|s| s.return_labels.get(&(order.clone(), id.clone())).cloned())
    }
}

#[async_trait::async_trait]
impl CaseRepository for MemoryStore {
    async fn get_case(&self, id: &CaseId) -> Result<Option<Case>, StoreError> {
        self.read(|s| s.cases.values().find(|c| &c.id == id).cloned())
    }

    async fn cases_of_order(&self, order: &OrderId) -> Result<Vec<Case>, StoreError> {
        self.read(|s| s.cases.iter().filter(|((o, _), _)| o == order).map(|(_, c)| c.clone()).collect())
    }

    async fn cases_by_status(&self, status: CaseStatus) -> Result<Vec<Case>, StoreError> {
        let mut v: Vec<Case> = self.lock()?.cases.values().filter(|c| c.status == status).cloned().collect();
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(v)
    }
}

#[async_trait::async_trait]
impl IdempotencyRepository for MemoryStore {
    async fn get_idempotency(&self, customer: &CustomerId, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let now = self.now().timestamp();
        let s = self.lock()?;
        Ok(s.idempotency.get(&(customer.clone(), key.to_owned())).filter(|(_, exp)| *exp > now).map(|(r, _)| r.clone()))
    }
}

#[async_trait::async_trait]
impl ProviderEventDedupe for MemoryStore {
    async fn webhook_seen(&self, provider: &str, event_id: &str) -> Result<bool, StoreError> {
        self.read(|s| s.webhooks.contains_key(&(provider.to_owned(), event_id.to_owned())))
    }

    async fn record_webhook_event(&self, provider: &str, event_id: &str, _ttl_days: i64) -> Result<bool, StoreError> {
        let now = self.now().timestamp();
        let mut s = self.lock()?;
        Ok(s.webhooks.insert((provider.to_owned(), event_id.to_owned()), now).is_none())
    }
}

#[async_trait::async_trait]
impl MailDedupe for MemoryStore {
    async fn claim_mail(&self, dedupe_key: &str, lease_secs: i64) -> Result<MailClaim, StoreError> {
        let now = self.now().timestamp();
        let mut s = self.lock()?;
        match s.mail.get(dedupe_key) {
            Some((state, _)) if state == "sent" => Ok(MailClaim::AlreadySent),
            Some((_, lease)) if *lease >= now => Ok(MailClaim::InFlight),
            _ => {
                s.mail.insert(dedupe_key.to_owned(), ("sending".into(), now + lease_secs));
                Ok(MailClaim::Claimed)
            }
        }
    }

    async fn mark_mail_sent(&self, dedupe_key: &str) -> Result<(), StoreError> {
        self.lock()?.mail.insert(dedupe_key.to_owned(), ("sent".into(), 0));
        Ok(())
    }
}

#[async_trait::async_trait]
impl crate::ports::AttemptCounter for MemoryStore {
    async fn failures(&self, subject: &str) -> Result<u32, StoreError> {
        let now = self.now().timestamp();
        self.read(|s| s.attempts.get(subject).filter(|(_, until)| *until > now).map(|(c, _)| *c).unwrap_or(0))
    }

    async fn record_failure(&self, subject: &str, window_secs: i64) -> Result<u32, StoreError> {
        let now = self.now().timestamp();
        let mut s = self.lock()?;
        let e = s.attempts.entry(subject.to_owned()).or_insert((0, now + window_secs));
        if e.1 <= now {
            *e = (0, now + window_secs);
        }
        e.0 += 1;
        Ok(e.0)
    }
}

#[async_trait::async_trait]
impl PreferenceRepository for MemoryStore {
    async fn get_preferences(&self, customer: &CustomerId) -> Result<Preferences, StoreError> {
        self.read(|s| s.preferences.get(customer).cloned().unwrap_or_default())
    }

    async fn put_preferences(&self, customer: &CustomerId, p: &Preferences) -> Result<(), StoreError> {
        self.lock()?.preferences.insert(customer.clone(), p.clone());
        Ok(())
    }
}

impl MemoryStore {
    fn deferred_in(&self, parked: bool, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let now = self.now();
        let s = self.lock()?;
        let mut v: Vec<OutboxEntry> =
            s.outbox.values().filter(|e| e.deferral.as_ref().is_some_and(|d| d.parked == parked)).cloned().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v.truncate(10 * limit);
        // As the table reads them: until `limit` are due (parked: all count).
        let mut due = 0;
        Ok(v.into_iter()
            .take_while(|e| {
                let more = due < limit;
                if parked || e.left().retry_at.is_none_or(|t| t <= now) {
                    due += 1;
                }
                more
            })
            .collect())
    }

    /// Writes an entry's deferral (`f` gets it, or a new one) and moves its revision.
    fn write_deferral(&self, order: &OrderId, id: &str, f: impl FnOnce(&mut Deferral)) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        let k = (order.clone(), id.to_owned());
        let rev = s.outbox_revs.get(&k).copied().unwrap_or(0) + 1;
        let e = s.outbox.get_mut(&k).ok_or(StoreError::NotFound)?;
        let d = e.deferral.get_or_insert_with(Default::default);
        f(d);
        d.rev = rev;
        s.outbox_revs.insert(k, rev);
        Ok(())
    }
}

#[async_trait::async_trait]
impl Outbox for MemoryStore {
    async fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.deferred_in(false, limit)
    }

    async fn parked_effects(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.deferred_in(true, limit)
    }

    async fn parked_count(&self) -> Result<usize, StoreError> {
        self.read(|s| s.outbox.values().filter(|e| e.deferral.as_ref().is_some_and(|d| d.parked)).count())
    }

    async fn get_outbox_entry(&self, order: &OrderId, id: &str) -> Result<Option<OutboxEntry>, StoreError> {
        self.read(|s| s.outbox.get(&(order.clone(), id.to_owned())).cloned())
    }

    async fn effects_of_order(&self, order: &OrderId) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut v: Vec<OutboxEntry> =
            self.read(|s| s.outbox.iter().filter(|((o, _), _)| o == order).map(|(_, e)| e.clone()).collect())?;
        v.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(v)
    }

    async fn defer_effects(&self, order: &OrderId, id: &str, from: usize) -> Result<(), StoreError> {
        let fresh = self.read(|s| s.outbox.get(&(order.clone(), id.to_owned())).map(|e| e.deferral.is_none()))?;
        self.write_deferral(order, id, |d| {
            // Nothing known to have run (0): what an earlier deferral recorded stands; further on
            // than what is recorded moves it there, never back.
            if fresh == Some(true) || from > d.effects_from {
                d.effects_from = from;
            }
            d.parked = false;
        })
    }

    async fn redrive_effects(&self, order: &OrderId, id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let parked = self.read(|s| {
            s.outbox.get(&(order.clone(), id.to_owned())).and_then(|e| e.deferral.as_ref()).is_some_and(|d| d.parked)
        })?;
        if !parked {
            return Err(StoreError::NotFound);
        }
        self.write_deferral(order, id, |d| {
            d.parked = false;
            d.attempts = 0;
            d.retry_at = None;
            d.redriven_at = Some(now);
        })
    }

    async fn defer_events(&self, order: &OrderId, id: &str, effects: usize) -> Result<(), StoreError> {
        let fresh = self.read(|s| s.outbox.get(&(order.clone(), id.to_owned())).map(|e| e.deferral.is_none()))?;
        self.write_deferral(order, id, |d| {
            if fresh == Some(true) {
                d.effects_from = effects;
            }
            d.events = true;
            d.parked = false;
        })
    }

    async fn settle_effects(&self, entry: &OutboxEntry, left: &Settlement) -> Result<bool, StoreError> {
        let mut s = self.lock()?;
        let k = (entry.order_id.clone(), entry.id.clone());
        let rev = entry.deferral.as_ref().map_or(0, |d| d.rev);
        let current = s.outbox_revs.get(&k).copied().unwrap_or(0);
        let Some(e) = s.outbox.get_mut(&k) else { return Ok(false) };
        if e.deferral.is_none() || current != rev {
            return Ok(false);
        }
        let done = !left.leaves_work(e);
        let redriven_at = e.deferral.as_ref().and_then(|d| d.redriven_at);
        e.deferral = (!done).then(|| Deferral {
            effects_from: left.effects_from,
            events: left.events,
            attempts: left.attempts,
            retry_at: left.retry_at,
            rev: rev + 1,
            parked: left.parked,
            redriven_at,
        });
        s.outbox_revs.insert(k, rev + 1);
        Ok(true)
    }
}

#[async_trait::async_trait]
impl InvoiceRepository for MemoryStore {
    async fn last_number(&self, series: &str) -> Result<u64, StoreError> {
        Ok(self.lock()?.series.get(series).copied().unwrap_or(0))
    }

    async fn get_invoice(&self, number: &str) -> Result<Option<crate::domain::invoice::Invoice>, StoreError> {
        Ok(self.lock()?.invoices.get(number).cloned())
    }

    async fn redact_buyer(&self, number: &str, buyer: &crate::domain::invoice::Party) -> Result<bool, StoreError> {
        Ok(self.lock()?.invoices.get_mut(number).map(|i| i.buyer = buyer.clone()).is_some())
    }

    async fn documents_of_order(
        &self,
        order: &OrderId,
    ) -> Result<Vec<crate::domain::invoice::DocumentRef>, StoreError> {
        let mut docs: Vec<_> =
            self.lock()?.document_refs.iter().filter(|((o, _, _), _)| o == order).map(|(_, d)| d.clone()).collect();
        docs.sort_by(|a, b| (a.issued_at, &a.number).cmp(&(b.issued_at, &b.number)));
        Ok(docs)
    }
}

#[async_trait::async_trait]
impl FeedbackRepository for MemoryStore {
    async fn get_feedback(&self, order: &OrderId) -> Result<Option<crate::domain::feedback::Feedback>, StoreError> {
        Ok(self.lock()?.feedback.get(order).cloned())
    }

    async fn due_feedback(&self, cutoff: DateTime<Utc>) -> Result<Vec<crate::domain::feedback::Feedback>, StoreError> {
        Ok(self.lock()?.feedback.values().filter(|f| f.is_due() && f.due_at < cutoff).cloned().collect())
    }

    async fn answered_feedback(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<crate::domain::feedback::Feedback>, StoreError> {
        Ok(self
            .lock()?
            .feedback
            .values()
            .filter(|f| f.answered_at.is_some_and(|a| a >= from && a < to))
            .cloned()
            .collect())
    }
}

#[async_trait::async_trait]
impl crate::ports::CompanyRepository for MemoryStore {
    async fn get_company(&self, id: &str) -> Result<Option<crate::domain::company::Company>, StoreError> {
        Ok(self.lock()?.companies.get(id).cloned())
    }

    async fn put_company(&self, company: &crate::domain::company::Company, expected: u64) -> Result<(), StoreError> {
        let mut s = self.lock()?;
        let current = s.companies.get(&company.id).map_or(0, |c| c.version);
        if current != expected {
            return Err(StoreError::StaleVersion);
        }
        s.companies.insert(company.id.clone(), company.clone());
        Ok(())
    }
}
