//! Loyalty offers for an order, from the loyalty programme through its port
//! (`GET /v1/admin/orders/{orderId}/loyalty-offers`), and applying one
//! (`POST .../loyalty-offers/{offerId}`): the offer is read again from the programme (never
//! taken from the request), checked against the order as it is, and applied as a price
//! adjustment naming it, without a supervisor (the programme funds it), once per order.

use super::adjustments::{AdjustmentInput, AdjustmentOutcome};
use super::{AppError, Caller, Oms, Permission};
use crate::domain::OrderId;
use crate::domain::loyalty::{LoyaltyOffer, adjustment_reason};
use crate::ports::IntegrationError;
use serde::Serialize;

/// An offer as an agent sees it for one order: whether it fits, and why not.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferView {
    #[serde(flatten)]
    pub offer: LoyaltyOffer,
    pub applicable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OffersView {
    pub order_id: OrderId,
    /// The member's tier in the programme (absent: not a member).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    pub offers: Vec<OfferView>,
}

fn unavailable(e: IntegrationError) -> AppError {
    // The provider's words stay in the logs; the agent learns the programme did not answer.
    tracing::warn!(error = %e, "loyalty programme call failed");
    AppError::Unavailable("the loyalty programme did not answer; try again".into())
}

impl Oms {
    async fn member_offers(
        &self,
        caller: &Caller,
        id: &OrderId,
    ) -> Result<(crate::domain::Order, Vec<LoyaltyOffer>), AppError> {
        if !caller.may(Permission::Adjust) {
            return Err(AppError::Forbidden);
        }
        let order = self.store.get_order(id).await?.ok_or(AppError::NotFound)?;
        let offers = self.loyalty.offers(order.customer.as_str()).await.map_err(unavailable)?;
        Ok((order, offers))
    }

    /// The programme's offers to the order's customer, each checked against the order.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn loyalty_offers(&self, caller: &Caller, id: &OrderId) -> Result<OffersView, AppError> {
        let (order, offers) = self.member_offers(caller, id).await?;
        let tier = self.loyalty.tier(order.customer.as_str()).await.map_err(unavailable)?;
        let now = self.clock.now();
        let offers = offers
            .into_iter()
            .map(|o| {
                let reason = o.unfit(&order, now);
                OfferView { applicable: reason.is_none(), reason, offer: o }
            })
            .collect();
        Ok(OffersView { order_id: order.id, tier, offers })
    }

    /// Applies the programme's offer `offer_id` to the order (a preview with `preview`).
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn apply_loyalty_offer(
        &self,
        caller: &Caller,
        id: &OrderId,
        offer_id: &str,
        preview: bool,
    ) -> Result<AdjustmentOutcome, AppError> {
        let (_, offers) = self.member_offers(caller, id).await?;
        let offer = offers.into_iter().find(|o| o.offer_id == offer_id).ok_or(AppError::NotFound)?;
        let mut reason = adjustment_reason(&offer);
        if reason.chars().count() > 500 {
            reason = reason.chars().take(500).collect();
        }
        let input = AdjustmentInput { discount: offer.discount, line_id: None, reason, preview };
        let (_, outcome) = self.adjust_with(caller, id, input, Some(&offer)).await?;
        Ok(outcome)
    }
}
