//! Business (B2B) accounts: a company's buyers order on account with a purchase-order number
//! and payment terms instead of a card; the company's credit limit caps what its open orders
//! may owe. The credit drawn by an order is written in the same commit as the order, on
//! condition of the company's version: concurrent orders cannot together pass the limit.

use super::ids::CustomerId;
use super::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Company {
    /// A slug (`acme-gmbh`).
    pub id: String,
    pub name: String,
    pub credit_limit: Money,
    /// What its open orders on account owe, in minor units of the limit's currency.
    pub exposure: i64,
    /// The customers who may order on the company's account.
    pub buyers: Vec<CustomerId>,
    /// Days from the invoice to payment (net 30).
    pub payment_terms_days: u32,
    #[serde(default)]
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

/// How an order on account is paid: the purchase order, and the terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TermsPayment {
    pub company_id: String,
    pub purchase_order: String,
    pub net_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditError {
    #[error("the order's currency is not the account's ({0})")]
    Currency(String),
    #[error("over the credit limit: {available} available")]
    OverLimit { available: Money },
}

pub const MAX_BUYERS: usize = 100;
pub const MAX_TERMS_DAYS: u32 = 120;

impl Company {
    pub fn is_valid_id(id: &str) -> bool {
        (1..=40).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }

    /// What is left to draw.
    pub fn available(&self) -> Money {
        let c = self.credit_limit.currency();
        Money::new((self.credit_limit.amount() - self.exposure).max(0), c).unwrap_or(Money::zero(c))
    }

    /// The company with `amount` drawn for an order (the next version), or why not.
    pub fn draw(&self, amount: Money, now: DateTime<Utc>) -> Result<Company, CreditError> {
        if amount.currency() != self.credit_limit.currency() {
            return Err(CreditError::Currency(self.credit_limit.currency().to_string()));
        }
        let exposure = self.exposure.checked_add(amount.amount()).unwrap_or(i64::MAX);
        if exposure > self.credit_limit.amount() {
            return Err(CreditError::OverLimit { available: self.available() });
        }
        Ok(Company { exposure, version: self.version + 1, updated_at: now, ..self.clone() })
    }

    /// The company with `amount` given back (an order cancelled, an invoice paid).
    pub fn release(&self, amount: i64, now: DateTime<Utc>) -> Company {
        Company {
            exposure: (self.exposure - amount.max(0)).max(0),
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    #[test]
    fn draws_stop_at_the_limit_and_releases_never_go_negative() {
        let usd = |a| Money::new(a, Currency::USD).unwrap();
        let now = Utc::now();
        let c = Company {
            id: "acme".into(),
            name: "Acme".into(),
            credit_limit: usd(10_000),
            exposure: 0,
            buyers: vec![],
            payment_terms_days: 30,
            version: 1,
            updated_at: now,
        };
        let one = c.draw(usd(6_000), now).unwrap();
        assert_eq!((one.exposure, one.version), (6_000, 2));
        assert_eq!(one.draw(usd(4_001), now), Err(CreditError::OverLimit { available: usd(4_000) }));
        assert_eq!(one.draw(usd(4_000), now).map(|c| c.exposure), Ok(10_000));
        assert!(matches!(one.draw(Money::new(1, Currency::EUR).unwrap(), now), Err(CreditError::Currency(_))));
        assert_eq!(one.release(9_999, now).exposure, 0);
        assert!(Company::is_valid_id("acme-gmbh") && !Company::is_valid_id("Acme") && !Company::is_valid_id(""));
    }
}
