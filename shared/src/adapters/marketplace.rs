//! Payments of marketplace orders: the marketplace took the customer's money, so captures,
//! voids and refunds on their authorizations (`mkt_…`, see `PaymentMethod::Marketplace`) are
//! settled by recording them: the order's ledger and the bus carry them to the marketplace
//! connector. Every other call goes to the provider. Only the payment step makes such an
//! authorization id (from an imported order), never a token a customer sends.

use crate::domain::{MARKETPLACE_SETTLED, Money, TERMS_SETTLED};
use crate::ports::{Authorization, AuthorizeRequest, PaymentError, PaymentGateway};
use std::sync::Arc;

pub struct MarketplaceSettled {
    provider: Arc<dyn PaymentGateway>,
}

impl MarketplaceSettled {
    pub fn over(provider: Arc<dyn PaymentGateway>) -> Arc<dyn PaymentGateway> {
        Arc::new(MarketplaceSettled { provider })
    }
}

/// Paid outside the provider: on a marketplace, or on account (payment terms).
fn settled(authorization_id: &str) -> bool {
    authorization_id.starts_with(MARKETPLACE_SETTLED) || authorization_id.starts_with(TERMS_SETTLED)
}

#[async_trait::async_trait]
impl PaymentGateway for MarketplaceSettled {
    async fn authorize(&self, req: &AuthorizeRequest) -> Result<Authorization, PaymentError> {
        self.provider.authorize(req).await
    }

    async fn capture(
        &self,
        authorization_id: &str,
        amount: &Money,
        idempotency_key: &str,
        final_capture: bool,
    ) -> Result<(), PaymentError> {
        if settled(authorization_id) {
            return Ok(());
        }
        self.provider.capture(authorization_id, amount, idempotency_key, final_capture).await
    }

    async fn void(&self, authorization_id: &str, idempotency_key: &str) -> Result<(), PaymentError> {
        if settled(authorization_id) {
            return Ok(());
        }
        self.provider.void(authorization_id, idempotency_key).await
    }

    async fn refund(
        &self,
        authorization_id: &str,
        amount: &Money,
        idempotency_key: &str,
    ) -> Result<String, PaymentError> {
        if settled(authorization_id) {
            // The refund's reference is its key: the connector refunds on the marketplace.
            return Ok(format!("{MARKETPLACE_SETTLED}re_{idempotency_key}"));
        }
        self.provider.refund(authorization_id, amount, idempotency_key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::sandbox::SandboxPayments;
    use crate::domain::Currency;

    #[tokio::test]
    async fn marketplace_authorizations_settle_locally_and_others_reach_the_provider() {
        let provider = Arc::new(SandboxPayments::new());
        let gw = MarketplaceSettled::over(provider.clone());
        let m = Money::new(1000, Currency::USD).unwrap();
        gw.capture("mkt_amazon_P1", &m, "cap-1", true).await.unwrap();
        gw.void("mkt_amazon_P1", "void-1").await.unwrap();
        assert_eq!(gw.refund("mkt_amazon_P1", &m, "ref-1").await.unwrap(), "mkt_re_ref-1");
        // A provider authorization id goes to the provider (which knows none called so).
        assert!(gw.capture("pi_unknown", &m, "cap-2", true).await.is_err());
    }
}
