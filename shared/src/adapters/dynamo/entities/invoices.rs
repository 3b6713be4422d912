//! Invoices and credit notes (one item each, by number) and each series' last number, which
//! the change that issues a document moves on condition it is still the one read.

use super::super::item::Item;
use super::super::keys;
use super::super::table::DynamoStore;
use super::super::tx::TxOp;
use super::{ENTITY_DOCUMENT_REF, ENTITY_INVOICE, ENTITY_SERIES};
use crate::domain::OrderId;
use crate::domain::invoice::{DocumentIssue, DocumentKind, DocumentRef, Invoice};
use crate::ports::{InvoiceRepository, StoreError};
use serde::{Deserialize, Serialize};

/// A series' last number, as the item's version.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Series {
    pub version: u64,
}

pub fn invoice_item(inv: &Invoice) -> Item<&Invoice> {
    Item::new(keys::invoice(&inv.number), ENTITY_INVOICE, inv)
}

impl DynamoStore {
    /// The three writes of an issue: the series moved from `previous` to the document's
    /// number, the document, and its reference under the order (new: one per ledger entry).
    pub(in super::super) fn document_ops(&self, d: &DocumentIssue) -> Result<Vec<TxOp>, StoreError> {
        let series = Item::new(keys::series(&d.invoice.series), ENTITY_SERIES, Series { version: d.invoice.sequence });
        if d.invoice.sequence != d.previous + 1 {
            return Err(StoreError::Mapping(format!("{} does not follow {}", d.invoice.sequence, d.previous)));
        }
        let take = if d.previous == 0 { self.put_first(&series)? } else { self.put_versioned(&series, d.previous)? };
        let inv = &d.invoice;
        let r = inv.reference();
        let kind = match inv.kind {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
        };
        let claim = Item::new(keys::document_ref(&inv.order_id, kind, &inv.reference), ENTITY_DOCUMENT_REF, &r);
        Ok(vec![take, self.put_new(&invoice_item(inv))?, self.put_new(&claim)?])
    }
}

#[async_trait::async_trait]
impl InvoiceRepository for DynamoStore {
    async fn last_number(&self, series: &str) -> Result<u64, StoreError> {
        Ok(self.get::<Series>(&keys::series(series), true).await?.map(|i| i.data.version).unwrap_or(0))
    }

    async fn get_invoice(&self, number: &str) -> Result<Option<Invoice>, StoreError> {
        Ok(self.get::<Invoice>(&keys::invoice(number), false).await?.map(|i| i.data))
    }

    async fn redact_buyer(&self, number: &str, buyer: &crate::domain::invoice::Party) -> Result<bool, StoreError> {
        let Some(mut inv) = self.get_invoice(number).await? else { return Ok(false) };
        inv.buyer = buyer.clone();
        self.put_item(&invoice_item(&inv)).await?;
        Ok(true)
    }

    async fn documents_of_order(&self, order: &OrderId) -> Result<Vec<DocumentRef>, StoreError> {
        let pk = keys::order_pk(order);
        let mut docs: Vec<DocumentRef> =
            Self::all(self.query_all("", keys::PK, &pk, Some((keys::SK, keys::DOCUMENT_SK_PREFIX)), true).await?)?;
        docs.sort_by(|a, b| (a.issued_at, &a.number).cmp(&(b.issued_at, &b.number)));
        Ok(docs)
    }
}
