//! Payment recovery: a declined payment leaves the order `payment_required` with its stock
//! held until a deadline, for the customer to give another payment method. Each method given
//! is a new authorization attempt with its own idempotency key.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How an order is paid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// A provider token given at placement (the customer's card, or a saved one staff used).
    #[default]
    Token,
    /// A call-centre order the customer pays from a signed link: the payment step asks for the
    /// payment instead of authorizing, and the order waits `payment_required` with its stock
    /// held until the deadline.
    Link,
    /// An order imported from a marketplace, which took the customer's money: nothing is
    /// authorized with our provider; captures, voids and refunds are recorded on the order
    /// (and announced on the bus) for the marketplace connector to settle.
    Marketplace(MarketplacePayment),
    /// A business account's order: a purchase order on payment terms (invoiced, due in
    /// `net_days`); recorded like a marketplace payment (no card), the company's credit drawn.
    Terms(super::company::TermsPayment),
}

/// What a marketplace order was paid with, as the marketplace reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketplacePayment {
    /// The marketplace (a lowercase slug, such as `amazon`).
    pub marketplace: String,
    /// The marketplace's order number (unique per marketplace: a re-import is the same order).
    pub order_reference: String,
    /// The marketplace's payment or settlement reference.
    pub payment_reference: String,
    /// What the marketplace keeps (agents and finance only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<super::Money>,
}

/// Authorization ids of marketplace-paid orders start with this: the payment port settles them
/// without calling the provider.
pub const MARKETPLACE_SETTLED: &str = "mkt_";
/// Authorization ids of orders on account (payment terms) start with this, and are settled
/// the same way (the invoice is paid by transfer).
pub const TERMS_SETTLED: &str = "trm_";

impl PaymentMethod {
    pub fn is_token(&self) -> bool {
        *self == PaymentMethod::Token
    }

    /// The authorization a marketplace order stands on (no provider call), if it is one.
    pub fn settled_authorization(&self) -> Option<String> {
        match self {
            PaymentMethod::Marketplace(m) => {
                Some(format!("{MARKETPLACE_SETTLED}{}_{}", m.marketplace, m.payment_reference))
            }
            PaymentMethod::Terms(t) => Some(format!("{TERMS_SETTLED}{}_{}", t.company_id, t.purchase_order)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRecovery {
    /// When the last authorization was declined.
    pub declined_at: DateTime<Utc>,
    /// Until when the stock is held; after it the order is cancelled.
    pub due_by: DateTime<Utc>,
    /// The provider's decline code (agents only; never shown to the customer).
    pub reason: String,
    /// Payment methods the customer gave after a decline (each authorization attempt after
    /// a decline has its own key). Kept after a later success, as the order's history.
    #[serde(default)]
    pub attempts: u32,
}

impl PaymentRecovery {
    /// A decline at `now`: the stock is held `hours` from now. A decline while an earlier
    /// deadline still runs keeps it (a customer cannot extend the hold by trying cards); the
    /// attempts always carry on (they keep the authorization keys apart).
    pub fn declined(previous: Option<&PaymentRecovery>, now: DateTime<Utc>, hours: i64, reason: &str) -> Self {
        let reason: String = reason.chars().take(100).collect();
        let attempts = previous.map_or(0, |p| p.attempts);
        let due_by = match previous {
            Some(p) if p.due_by > now => p.due_by,
            _ => now + chrono::Duration::hours(hours),
        };
        PaymentRecovery { declined_at: now, due_by, reason, attempts }
    }

    /// The idempotency key of an authorization: `base` for the first try, then one per payment
    /// method given after a decline.
    pub fn key(recovery: Option<&PaymentRecovery>, base: String) -> String {
        match recovery.map_or(0, |r| r.attempts) {
            0 => base,
            n => format!("{base}-retry{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_decline_keeps_the_first_deadline_and_keys_differ_per_attempt() {
        let t0: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let first = PaymentRecovery::declined(None, t0, 24, "card_declined");
        assert_eq!(first.due_by, t0 + chrono::Duration::hours(24));
        let mut tried = first.clone();
        tried.attempts = 1;
        let again = PaymentRecovery::declined(Some(&tried), t0 + chrono::Duration::hours(3), 24, "insufficient_funds");
        assert_eq!((again.due_by, again.attempts, again.reason.as_str()), (first.due_by, 1, "insufficient_funds"));
        assert_eq!(PaymentRecovery::key(None, "auth-o".into()), "auth-o");
        assert_eq!(PaymentRecovery::key(Some(&first), "auth-o".into()), "auth-o");
        assert_eq!(PaymentRecovery::key(Some(&again), "auth-o".into()), "auth-o-retry1");
        // After the deadline (an edit restarted the order, say): a new one, the attempts kept.
        let later = PaymentRecovery::declined(Some(&again), t0 + chrono::Duration::hours(30), 24, "card_declined");
        assert_eq!((later.due_by, later.attempts), (t0 + chrono::Duration::hours(54), 1));
    }
}
