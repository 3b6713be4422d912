//! Returns, exchanges and refunds. An RMA is issued only for delivered, returnable units within
//! the return window; it carries a return label bought through the carrier port. Receiving
//! restocks resellable units at the location they came from, writes off damaged ones, and
//! refunds each line's share of price and tax exactly once per receipt, even when retried. An
//! exchange places a replacement order through the normal workflow, credited with the returned
//! goods' value; any excess credit is refunded.

use super::{AppError, Caller, Oms};
use crate::domain::pricing::LineRequest;
use crate::domain::returns::*;
use crate::domain::*;
use crate::ports::{Carrier, PaymentGateway};

mod credit_back;
mod exchange;
mod open;
mod receipt_key;
mod receive;
pub use credit_back::{credit_key, give_credit_back};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenReturnRequest {
    pub lines: Vec<ReturnRequestLine>,
    pub resolution: Resolution,
    #[serde(default)]
    pub exchange_lines: Vec<LineRequest>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReceiveLine {
    pub line_id: String,
    pub quantity: u32,
    pub condition: Condition,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReceiveRequest {
    pub lines: Vec<ReceiveLine>,
}

#[derive(Clone)]
pub struct Returns {
    pub oms: Oms,
    pub carrier: Arc<dyn Carrier>,
    pub payments: Arc<dyn PaymentGateway>,
    /// Checks the signed label links mailed to customers.
    pub links: crate::app::links::Links,
}

pub(super) fn ineligible(e: ReturnError) -> AppError {
    let kind = match &e {
        ReturnError::UnknownLine(_) => "unknown-line",
        ReturnError::NotDelivered(_) => "not-delivered",
        ReturnError::WindowClosed(_) => "return-window-closed",
        ReturnError::TooMany { .. } => "return-quantity-exceeded",
        ReturnError::NotReturnable(_) => "not-returnable",
        ReturnError::Empty => "invalid-return",
        ReturnError::ExchangeLines => "invalid-return",
    };
    let field = if matches!(e, ReturnError::ExchangeLines) { "exchangeLines" } else { "lines" };
    AppError::UnprocessableField { kind, detail: format!("{field}: {e}"), field }
}

impl Returns {
    pub async fn list(&self, caller: &Caller, order_id: &OrderId) -> Result<Vec<Rma>, AppError> {
        match self.oms.store.get_order(order_id).await? {
            Some(o) if caller.reads(&o.customer) => Ok(self.oms.store.returns_of_order(order_id).await?),
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn label(&self, caller: &Caller, order_id: &OrderId, rma: &ReturnId) -> Result<Vec<u8>, AppError> {
        // The label prints the customer's address: its customer, and staff who handle labels.
        let order = match self.oms.store.get_order(order_id).await? {
            Some(o) if o.customer == caller.customer || caller.may(crate::app::Permission::ReadLabels) => o,
            _ => return Err(AppError::NotFound),
        };
        self.label_of(order, rma).await
    }

    /// The label behind a signed link from the return mail (no sign-in): the signature and
    /// expiry are checked before anything is read; a bad or expired link is a 404 or 410.
    pub async fn signed_label(
        &self,
        order_id: &OrderId,
        rma: &ReturnId,
        expires: i64,
        signature: &str,
    ) -> Result<Vec<u8>, AppError> {
        self.check(&crate::app::notify::return_label_path(order_id, rma.as_str()), expires, signature)?;
        let order = self.oms.store.get_order(order_id).await?.ok_or(AppError::NotFound)?;
        self.label_of(order, rma).await
    }

    /// One-click unsubscribe from marketing mail (a signed link from a reminder; RFC 8058):
    /// the customer's `marketingEmails` preference turns off. Idempotent.
    pub async fn unsubscribe(&self, customer: &CustomerId, expires: i64, signature: &str) -> Result<(), AppError> {
        self.check(&crate::app::notify::unsubscribe_path(customer), expires, signature)?;
        let store = &self.oms.store;
        let mut prefs = store.get_preferences(customer).await?;
        if prefs.marketing_emails {
            prefs.marketing_emails = false;
            store.put_preferences(customer, &prefs).await?;
            tracing::info!("unsubscribed from marketing mail by link");
        }
        Ok(())
    }

    /// Checks a signed link: 404 when it is not one of ours, 410 when it has expired.
    pub fn check(&self, path: &str, expires: i64, signature: &str) -> Result<(), AppError> {
        self.links.verify(path, expires, signature, self.oms.clock.now()).map_err(|e| match e {
            crate::app::links::LinkError::Expired => AppError::Gone,
            crate::app::links::LinkError::Invalid => AppError::NotFound,
        })
    }

    async fn label_of(&self, order: Order, rma: &ReturnId) -> Result<Vec<u8>, AppError> {
        use crate::app::fulfillment::{carrier_pdf, stored_pdf};
        let store = &self.oms.store;
        let order_id = &order.id;
        let r = store.get_rma(rma).await?.filter(|r| &r.order_id == order_id).ok_or(AppError::NotFound)?;
        let label = r.label.clone().ok_or(AppError::NotFound)?;
        let Some(service) = label.service.clone() else {
            // A document stored by an earlier version.
            let doc = store.get_return_label(order_id, rma).await?.ok_or(AppError::NotFound)?;
            return stored_pdf(&doc.pdf_base64);
        };
        let location =
            store.get_location(&r.location_id).await?.ok_or(AppError::Internal("return location missing".into()))?;
        let source = crate::ports::LabelSource {
            carrier: label.carrier.clone(),
            parcel: open::return_parcel(&order, rma, &location, 1),
            tracking_number: label.tracking_number,
            service,
            document_url: label.document_url,
        };
        carrier_pdf(self.carrier.as_ref(), &source).await
    }
}
