//! A customer's personal data: export (`GET /v1/me/export`) and erasure (`DELETE /v1/me`).
//! Erasure anonymizes each settled order through the one write path (amounts, lines, SKUs,
//! payment ledger, dates, country and region stay for accounting), scrubs the free text and
//! stored responses that quote the buyer, deletes label documents, and forgets cart e-mails.

use super::projections::{CustomerOrder, CustomerReturn, customer_order, customer_return};
use super::views::CartDto;
use super::{AppError, Caller, Oms};
use crate::domain::privacy::{all_needles, anonymize, anonymize_response, erased, settled};
use crate::domain::support::Preferences;
use crate::domain::*;
use crate::ports::StoreError;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Everything the OMS holds about a customer, as they may read it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonalExport {
    pub customer_id: CustomerId,
    pub exported_at: DateTime<Utc>,
    pub preferences: Preferences,
    pub orders: Vec<CustomerOrder>,
    pub returns: Vec<CustomerReturn>,
    pub carts: Vec<CartDto>,
    /// The profile agents see (names, e-mails, phones, addresses gathered from the orders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<crate::domain::customer::CustomerProfile>,
    /// Inquiries and complaints, as the customer sees them (disputes are the payment provider's).
    pub cases: Vec<super::conversations::CustomerCase>,
}

/// What an erasure did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErasureReport {
    pub customer_id: CustomerId,
    pub erased_at: DateTime<Utc>,
    /// Orders anonymized by this request (already anonymized ones are not counted again).
    pub orders: usize,
    pub carts: usize,
    /// Timeline entries, cases, returns, stored responses and documents scrubbed or deleted.
    pub records: usize,
    /// What is kept, and why.
    pub retained: Vec<&'static str>,
}

const RETAINED: &[&str] = &[
    "order amounts, lines, SKUs, statuses, dates and payment ledgers (accounting and tax records)",
    "the country and region of each address (tax jurisdiction)",
    "invoice and credit note numbers, lines and amounts (the buyer's name, address and e-mail are erased from them)",
    "the customer id your sign-in provider issued, to link those records",
];

impl Oms {
    async fn orders_of(&self, customer: &CustomerId) -> Result<Vec<Order>, AppError> {
        Ok(self.store.customer_orders_up_to(customer, usize::MAX).await?)
    }

    #[tracing::instrument(skip_all)]
    pub async fn export_personal_data(&self, caller: &Caller) -> Result<PersonalExport, AppError> {
        let mut orders = Vec::new();
        let mut returns = Vec::new();
        let mut cases = Vec::new();
        for o in self.orders_of(&caller.customer).await? {
            let Some(v) = self.store.get_order_view(&o.id).await? else { continue };
            returns.extend(self.store.returns_of_order(&o.id).await?.iter().map(customer_return));
            cases.extend(
                self.store
                    .cases_of_order(&o.id)
                    .await?
                    .iter()
                    .filter(|c| c.kind != crate::domain::support::CaseKind::Dispute)
                    .map(super::conversations::CustomerCase::of),
            );
            orders.push(customer_order(&v.order, &v.shipments, &v.timeline));
        }
        let carts = self.store.carts_of_customer(&caller.customer).await?.iter().map(CartDto::from).collect();
        Ok(PersonalExport {
            customer_id: caller.customer.clone(),
            exported_at: self.clock.now(),
            preferences: self.store.get_preferences(&caller.customer).await?,
            orders,
            returns,
            carts,
            profile: self.store.get_customer(&caller.customer).await?,
            cases,
        })
    }

    /// Erases the caller's personal data; refused (409) while an order is still open. Running
    /// it again changes nothing more.
    #[tracing::instrument(skip_all)]
    pub async fn erase_personal_data(&self, caller: &Caller) -> Result<ErasureReport, AppError> {
        let orders = self.orders_of(&caller.customer).await?;
        let open: Vec<&str> = orders.iter().filter(|o| !settled(o.status)).map(|o| o.id.as_str()).collect();
        if !open.is_empty() {
            return Err(AppError::Conflict {
                kind: "orders-open",
                detail: format!(
                    "orders {} are still open; erasure is possible once each is delivered, cancelled or returned",
                    open.join(", ")
                ),
            });
        }
        let (mut done, mut records) = (0, 0);
        for o in &orders {
            // What the order holds now, and what it was placed with (an edit may have changed
            // the address since; the stored placement response still has the first one).
            let placed = match &o.placement_key {
                Some(key) => self.store.get_idempotency(&caller.customer, key).await?.map(|r| (key, r)),
                None => None,
            };
            let quoted = all_needles(o, placed.as_ref().map(|(_, r)| r.response.as_str()));
            if !erased(o) {
                self.anonymize_order(&o.id, &quoted).await?;
                done += 1;
            }
            records += self.store.scrub_order_records(&o.id, &quoted).await?;
            // Invoices and credit notes keep their numbers and amounts; the buyer goes.
            let erased_buyer = crate::domain::invoice::Party {
                name: "[erased]".into(),
                lines: vec![o.shipping_address.country.to_string()],
                tax_id: None,
            };
            for d in self.store.documents_of_order(&o.id).await? {
                records += usize::from(self.store.redact_buyer(&d.number, &erased_buyer).await?);
            }
            if let Some((key, rec)) = &placed
                && let Some(clean) = anonymize_response(&rec.response, o, &quoted)
            {
                records += usize::from(self.store.rewrite_idempotency(&caller.customer, key, &clean).await?);
            }
        }
        // The profile agents search by, and its lookups.
        self.store.delete_customer(&caller.customer).await?;
        let mut carts = 0;
        for mut c in self.store.carts_of_customer(&caller.customer).await? {
            if c.email.take().is_some() {
                self.store.save_cart(&mut c).await?;
                carts += 1;
            }
        }
        tracing::info!(orders = done, carts, records, "personal data erased");
        Ok(ErasureReport {
            customer_id: caller.customer.clone(),
            erased_at: self.clock.now(),
            orders: done,
            carts,
            records,
            retained: RETAINED.to_vec(),
        })
    }

    async fn anonymize_order(&self, id: &OrderId, quoted: &[String]) -> Result<(), AppError> {
        for _ in 0..5 {
            let order = self.store.get_order(id).await?.ok_or(AppError::NotFound)?;
            if erased(&order) {
                return Ok(());
            }
            let now = self.clock.now();
            let ev = TimelineEvent::new(now, "customer.erased", Actor::System("privacy".into()))
                .with_note("personal data erased at the customer's request");
            match self
                .store
                .commit(&OrderChange::update(anonymize(&order, quoted), order.version, now).with_event(ev))
                .await
            {
                Ok(()) => return Ok(()),
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }
}
