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

mod open;
mod receive;
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
    /// Link to the printable label, `{order}` and `{rma}` replaced.
    pub label_url: String,
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
    AppError::Unprocessable { kind, detail: e.to_string() }
}

impl Returns {
    pub async fn list(&self, caller: &Caller, order_id: &OrderId) -> Result<Vec<Rma>, AppError> {
        match self.oms.store.get_order(order_id).await? {
            Some(o) if caller.reads(&o.customer) => Ok(self.oms.store.returns_of_order(order_id).await?),
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn label(&self, caller: &Caller, order_id: &OrderId, rma: &ReturnId) -> Result<Vec<u8>, AppError> {
        use crate::app::fulfillment::{carrier_pdf, stored_pdf};
        let store = &self.oms.store;
        // The label prints the customer's address: its customer, and staff who handle labels.
        let order = match store.get_order(order_id).await? {
            Some(o) if o.customer == caller.customer || caller.may(crate::app::Permission::ReadLabels) => o,
            _ => return Err(AppError::NotFound),
        };
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
            parcel: open::return_parcel(&order, rma, &location, 1),
            tracking_number: label.tracking_number,
            service,
            document_url: label.document_url,
        };
        carrier_pdf(self.carrier.as_ref(), &source).await
    }
}
