//! Invoices and credit notes: issued after the commit that recorded a capture or a refund
//! (`Effect::IssueDocument`), each in one write (the document, its reference under the order,
//! the `invoice.issued` entry, the mail) that takes the next number of its series on condition
//! the series did not move and the ledger entry has no document yet: gapless, never reused,
//! once per ledger entry however often it runs. The order itself is not written.
//! Customers list theirs and open each PDF through a signed link; agents see them too.

pub mod pdf;

use super::{AppError, Caller, Oms};
use crate::domain::invoice::{
    self, DocumentIssue, DocumentKind, DocumentRef, Invoice, Party, credit_lines, invoice_lines,
};
use crate::domain::*;
use crate::ports::{Clock, Store, StoreError};
use serde::Serialize;
use std::sync::Arc;

/// How many times an issue re-reads and tries again when another issue took the number.
const ATTEMPTS: usize = 20;

/// Issues documents: the store, the clock and who sells (printed on every document).
#[derive(Clone)]
pub struct Invoicing {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub seller: Party,
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Mapping(e.to_string())
}

/// The buyer as billed: the billing address, else the shipping one.
fn buyer(o: &Order) -> Party {
    let a = o.billing_address.as_ref().unwrap_or(&o.shipping_address);
    let mut lines = vec![a.line1.clone()];
    lines.extend(a.line2.clone());
    lines.push(format!(
        "{} {}{}",
        a.postal_code,
        a.city,
        a.region.as_ref().map(|r| format!(", {r}")).unwrap_or_default()
    ));
    lines.push(a.country.to_string());
    lines.push(o.email.to_string());
    Party { name: a.name.clone(), lines, tax_id: None }
}

impl Invoicing {
    /// Issues the document for the ledger entry `reference` of `order` (nothing when it is
    /// issued already, or the entry is not there or is zero). Returns its number.
    #[tracing::instrument(skip_all, fields(order_id = %order, kind = ?kind))]
    pub async fn issue(
        &self,
        order: &OrderId,
        kind: DocumentKind,
        reference: &str,
    ) -> Result<Option<String>, StoreError> {
        let wanted = match kind {
            DocumentKind::Invoice => LedgerKind::Captured,
            DocumentKind::CreditNote => LedgerKind::Refunded,
        };
        for _ in 0..ATTEMPTS {
            let Some(o) = self.store.get_order(order).await? else { return Ok(None) };
            let issued = self.store.documents_of_order(order).await?;
            if let Some(d) = issued.iter().find(|d| d.kind == kind && d.reference == reference) {
                return Ok(Some(d.number.clone()));
            }
            let Some(entry) = o.payment.ledger.iter().find(|e| e.kind == wanted && e.reference == reference) else {
                tracing::warn!("no ledger entry to document");
                return Ok(None);
            };
            if entry.amount.amount() == 0 {
                return Ok(None);
            }
            let now = self.clock.now();
            let series = invoice::series(kind, now);
            let previous = self.store.last_number(&series).await?;
            let sequence = previous + 1;
            let lines = match kind {
                DocumentKind::Invoice => {
                    let shipments = self.store.shipments_of_order(order).await?;
                    let shipped = shipments.iter().find(|s| format!("capture-{}", s.id) == reference);
                    invoice_lines(&o, shipped.map(|s| s.lines.as_slice()), entry.amount).map_err(internal)?
                }
                DocumentKind::CreditNote => {
                    credit_lines(&o, entry.amount, &format!("Refund for order {}", o.id)).map_err(internal)?
                }
            };
            let (net, tax, total) = Invoice::totals(&lines, entry.amount.currency()).map_err(internal)?;
            let corrects = match kind {
                DocumentKind::CreditNote => {
                    issued.iter().filter(|d| d.kind == DocumentKind::Invoice).map(|d| d.number.clone()).collect()
                }
                DocumentKind::Invoice => Vec::new(),
            };
            let doc = Invoice {
                number: invoice::number(&series, sequence),
                series,
                sequence,
                kind,
                order_id: o.id.clone(),
                customer_id: o.customer.clone(),
                issued_at: now,
                // On account: the invoice is paid by transfer at the company's terms.
                due_on: match (&o.payment.method, kind) {
                    (PaymentMethod::Terms(t), DocumentKind::Invoice) => {
                        Some(now.date_naive() + chrono::Duration::days(i64::from(t.net_days)))
                    }
                    _ => None,
                },
                seller: self.seller.clone(),
                buyer: buyer(&o),
                lines,
                net,
                tax,
                total,
                reference: reference.to_owned(),
                corrects,
            };
            let number = doc.number.clone();
            let entry_kind = match kind {
                DocumentKind::Invoice => "invoice.issued",
                DocumentKind::CreditNote => "credit_note.issued",
            };
            // The order itself is not written: a document never races an agent or a customer.
            let mut change = OrderChange::for_order(&o.id)
                .with_event(
                    TimelineEvent::new(now, entry_kind, Actor::System("invoicing".into()))
                        .with_note(format!("{number}: {total}")),
                )
                .with_effect(Effect::notify(
                    Notification::new(entry_kind, &o.id, Some(number.clone()))
                        .with_dedupe_key(format!("{entry_kind}#{number}")),
                ));
            change.documents.push(DocumentIssue { invoice: doc, previous });
            match self.store.commit(&change).await {
                Ok(()) => {
                    tracing::info!(number = %number, "document issued");
                    return Ok(Some(number));
                }
                // The order or the series moved (another issue took the number): read again.
                Err(StoreError::StaleVersion | StoreError::Conflict | StoreError::AlreadyExists) => {
                    tokio::time::sleep(std::time::Duration::from_millis(5 + rand::random::<u64>() % 40)).await;
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }
}

/// A document as its customer lists it: the signed PDF link instead of the content.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentListing {
    #[serde(flatten)]
    pub document: DocumentRef,
    pub url: String,
}

/// The path of a document's signed PDF link.
pub fn document_path(order: &OrderId, number: &str) -> String {
    format!("/v1/signed/orders/{order}/invoices/{number}")
}

impl Oms {
    /// The order's invoices and credit notes, oldest first, each with a signed link to its PDF.
    pub async fn list_documents(
        &self,
        caller: &Caller,
        id: &OrderId,
        links: &super::links::Links,
    ) -> Result<Vec<DocumentListing>, AppError> {
        self.store.get_order(id).await?.filter(|o| caller.reads(&o.customer)).ok_or(AppError::NotFound)?;
        let now = self.clock.now();
        Ok(self
            .store
            .documents_of_order(id)
            .await?
            .iter()
            .map(|d| DocumentListing {
                document: d.clone(),
                url: links.signed(&document_path(id, &d.number), now, super::links::DOCUMENT_LINK_DAYS),
            })
            .collect())
    }

    /// A document of the order, to render (the signature was checked by the caller).
    pub async fn document(&self, id: &OrderId, number: &str) -> Result<Invoice, AppError> {
        match self.store.get_invoice(number).await? {
            Some(inv) if &inv.order_id == id => Ok(inv),
            _ => Err(AppError::NotFound),
        }
    }
}
