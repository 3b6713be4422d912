use super::StoreError;
use crate::domain::OrderId;
use crate::domain::invoice::{DocumentRef, Invoice};

/// Issued invoices and credit notes, and the last number of each series. A document is
/// written by the change that issues it (`OrderChange::documents`), with its reference under
/// the order (one per ledger entry: a second issue is refused) and its series moved on, on
/// condition nobody else did: numbers are gapless and never reused.
#[async_trait::async_trait]
pub trait InvoiceRepository: Send + Sync {
    /// The last number issued in `series` (0: none yet), read consistently.
    async fn last_number(&self, series: &str) -> Result<u64, StoreError>;
    async fn get_invoice(&self, number: &str) -> Result<Option<Invoice>, StoreError>;
    /// Erasure: the document's buyer replaced (its number, lines and amounts are the books and
    /// stay); whether there was such a document.
    async fn redact_buyer(&self, number: &str, buyer: &crate::domain::invoice::Party) -> Result<bool, StoreError>;
    /// The documents issued for an order, oldest first.
    async fn documents_of_order(&self, order: &OrderId) -> Result<Vec<DocumentRef>, StoreError>;
}
