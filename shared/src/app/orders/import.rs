//! Marketplace imports: an order the marketplace already took payment for, sent by its
//! connector (an integration client). The marketplace and its order number are the idempotency
//! key of the write that creates the order (a condition of that write), so a re-import (a
//! retried call, a connector that polls twice) answers the same order. There is no
//! authorization: the payment step records the marketplace's payment, and captures, voids and
//! refunds are recorded on the order (and announced on the bus) for the connector to settle.
//! Prices come from the catalog, as for every other channel.

use super::super::{AppError, Caller, Oms, Permission};
use super::{AddressInput, Extras, PlaceOrderRequest};
use crate::domain::pricing::LineRequest;
use crate::domain::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportOrderRequest {
    /// The marketplace, as a lowercase slug (`amazon`, `ebay`, `zalando-de`).
    pub marketplace: String,
    /// The marketplace's order number.
    pub marketplace_order_id: String,
    /// The buyer's customer id in the OMS (the connector maps marketplace buyers to ids).
    pub customer_id: String,
    pub email: String,
    pub shipping_address: AddressInput,
    #[serde(default)]
    pub billing_address: Option<AddressInput>,
    pub lines: Vec<LineRequest>,
    #[serde(default)]
    pub service_level: Option<ServiceLevel>,
    /// The marketplace's payment or settlement reference.
    pub payment_reference: String,
    /// What the marketplace keeps, in minor units of the order's currency.
    #[serde(default)]
    pub marketplace_fee: Option<Money>,
}

/// The largest fee an import may state (the contract's money maximum).
const MAX_FEE: i64 = 1_000_000_000_000;

fn visible(field: &'static str, value: &str, max: usize) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() || v.len() > max || !v.bytes().all(|b| b.is_ascii_graphic() && b != b'#') {
        return Err(AppError::invalid_field(
            field,
            format!("1-{max} visible ASCII characters (no spaces, no '#') are required"),
        ));
    }
    Ok(v.to_owned())
}

impl Oms {
    /// Imports a marketplace order (201 with the order; a re-import answers the same order).
    #[tracing::instrument(skip_all, fields(marketplace = %req.marketplace))]
    pub async fn import_order(&self, caller: &Caller, req: ImportOrderRequest) -> Result<(u16, String), AppError> {
        if !caller.may(Permission::ImportOrders) {
            return Err(AppError::Forbidden);
        }
        let marketplace = req.marketplace.trim();
        if marketplace.is_empty()
            || marketplace.len() > 32
            || !marketplace.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(AppError::invalid_field("marketplace", "a lowercase slug of 1-32 letters, digits and '-'"));
        }
        let reference = visible("marketplaceOrderId", &req.marketplace_order_id, 64)?;
        let payment_reference = visible("paymentReference", &req.payment_reference, 128)?;
        let customer = CustomerId::parse(&visible("customerId", &req.customer_id, 128)?)
            .map_err(|e| AppError::invalid_field("customerId", e))?;
        if let Some(f) = req.marketplace_fee {
            if f.amount() < 0 || f.amount() > MAX_FEE {
                return Err(AppError::invalid_field("marketplaceFee.amount", format!("0 to {MAX_FEE} minor units")));
            }
            if !crate::domain::limits::sold_in(f.currency()) {
                return Err(AppError::invalid_field("marketplaceFee.currency", "a currency the shop sells in"));
            }
        }
        let scope =
            CustomerId::parse(&format!("marketplace:{marketplace}")).map_err(|e| AppError::Internal(e.to_string()))?;
        let extras = Extras {
            marketplace: Some(MarketplacePayment {
                marketplace: marketplace.to_owned(),
                order_reference: reference.clone(),
                payment_reference,
                fee: req.marketplace_fee,
            }),
            idempotency_scope: Some(scope),
            ..Extras::default()
        };
        let place = PlaceOrderRequest {
            promotion_codes: None,
            cart_id: None,
            lines: Some(req.lines),
            shipping_address: req.shipping_address,
            billing_address: req.billing_address,
            email: req.email,
            service_level: req.service_level,
            delivery_option_id: None,
            payment_token: None,
            payment_link: None,
            take_away: None,
            purchase_order: None,
            channel: Channel::Marketplace,
        };
        // One hash for every import of this marketplace order: whatever the connector sends
        // again (it may have refreshed a field), the order it made is the answer.
        let caller = Caller::customer(customer);
        self.place_order_with(&caller, &reference, "marketplace-import", place, extras).await
    }
}
