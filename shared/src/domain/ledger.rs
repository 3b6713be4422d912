//! An order's payment ledger: what was authorized, captured, refunded and voided, each with the
//! provider reference (the idempotency key the provider call carries). Refunds never exceed
//! captures: `Payment::refund` refuses, and the order's versioned write makes that check hold
//! against every other writer, whichever path refunds (goodwill, return, cancel, exchange).

use super::money::{Money, MoneyError};
use super::order::Payment;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    Authorized,
    Captured,
    Refunded,
    Voided,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    pub kind: LedgerKind,
    pub amount: Money,
    /// The provider call's idempotency key (or the authorization id for an authorization).
    pub reference: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("at most {refundable} minor units can be refunded")]
    ExceedsCaptured { refundable: i64 },
    #[error("the refund is in another currency than the payment")]
    Currency,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl Payment {
    fn minor(m: Option<Money>) -> i64 {
        m.map(|m| m.amount()).unwrap_or(0)
    }

    /// Captured and not yet refunded, in minor units.
    pub fn refundable(&self) -> i64 {
        Self::minor(self.captured) - Self::minor(self.refunded)
    }

    pub fn record(&mut self, kind: LedgerKind, amount: Money, reference: &str, at: DateTime<Utc>) {
        self.ledger.push(LedgerEntry { kind, amount, reference: reference.to_owned(), at });
    }

    /// Records a capture.
    pub fn capture(&mut self, amount: Money, reference: &str, at: DateTime<Utc>) -> Result<(), MoneyError> {
        let total = Money::new(Self::minor(self.captured) + amount.amount(), amount.currency())?;
        self.captured = Some(total);
        self.record(LedgerKind::Captured, amount, reference, at);
        Ok(())
    }

    /// Records a refund of `amount`, refused beyond what is captured and not yet refunded.
    pub fn refund(&mut self, amount: Money, reference: &str, at: DateTime<Utc>) -> Result<(), RefundError> {
        if let Some(c) = self.captured
            && c.currency() != amount.currency()
        {
            return Err(RefundError::Currency);
        }
        if amount.amount() > self.refundable() {
            return Err(RefundError::ExceedsCaptured { refundable: self.refundable() });
        }
        self.refunded = Some(Money::new(Self::minor(self.refunded) + amount.amount(), amount.currency())?);
        self.record(LedgerKind::Refunded, amount, reference, at);
        Ok(())
    }

    /// Goodwill refunded so far (minor units): refunds whose reference is a goodwill key. The
    /// agent limit is per order, so what was given already counts.
    pub fn goodwill_given(&self) -> i64 {
        self.ledger
            .iter()
            .filter(|e| e.kind == LedgerKind::Refunded && e.reference.starts_with("goodwill-"))
            .map(|e| e.amount.amount())
            .sum()
    }

    /// What the standing authorization holds (minor units): the authorizations recorded since
    /// the last void. A void releases the whole authorization (an edit re-authorizes, a cancel
    /// or failure ends it), so an earlier, voided one no longer counts.
    pub fn standing_authorized(&self) -> i64 {
        let since = self.ledger.iter().rposition(|e| e.kind == LedgerKind::Voided).map_or(0, |i| i + 1);
        self.ledger[since..].iter().filter(|e| e.kind == LedgerKind::Authorized).map(|e| e.amount.amount()).sum()
    }

    /// Sums of the ledger by kind, in minor units: (authorized, captured, refunded, voided).
    pub fn ledger_totals(&self) -> (i64, i64, i64, i64) {
        let sum = |k: LedgerKind| self.ledger.iter().filter(|e| e.kind == k).map(|e| e.amount.amount()).sum();
        (sum(LedgerKind::Authorized), sum(LedgerKind::Captured), sum(LedgerKind::Refunded), sum(LedgerKind::Voided))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    fn usd(a: i64) -> Money {
        Money::new(a, Currency::USD).unwrap()
    }

    #[test]
    fn refunds_never_exceed_captures_whatever_the_path() {
        let now = Utc::now();
        let mut p = Payment {
            token: "t".into(),
            authorization_id: None,
            captured: None,
            refunded: None,
            ledger: vec![],
            recovery: None,
            method: Default::default(),
            credit_refunded: None,
        };
        assert_eq!(p.refund(usd(1), "r0", now), Err(RefundError::ExceedsCaptured { refundable: 0 }));
        p.capture(usd(5998), "c1", now).unwrap();
        p.refund(usd(5998), "goodwill", now).unwrap();
        assert_eq!(p.refund(usd(5399), "return", now), Err(RefundError::ExceedsCaptured { refundable: 0 }));
        assert_eq!(p.ledger_totals(), (0, 5998, 5998, 0));
    }

    #[test]
    fn a_voided_authorization_no_longer_stands() {
        let now = Utc::now();
        let mut p = Payment {
            token: "t".into(),
            authorization_id: Some("a1".into()),
            captured: None,
            refunded: None,
            ledger: vec![],
            recovery: None,
            method: Default::default(),
            credit_refunded: None,
        };
        p.record(LedgerKind::Authorized, usd(5998), "a1", now);
        assert_eq!(p.standing_authorized(), 5998);
        // An edit voids it and authorizes the new total.
        p.record(LedgerKind::Voided, usd(0), "void-o-v3", now);
        assert_eq!(p.standing_authorized(), 0);
        p.record(LedgerKind::Authorized, usd(3999), "a2", now);
        assert_eq!(p.standing_authorized(), 3999);
        assert_eq!(p.ledger_totals().0, 9997, "the ledger keeps both");
    }
}
