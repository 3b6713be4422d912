//! Money: integer minor units plus an ISO 4217 currency. No floats anywhere.

use serde::{Deserialize, Serialize};
use std::fmt;

/// ISO 4217 codes we accept, with their minor-unit exponent.
const CURRENCIES: &[(&str, u8)] = &[
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("INR", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("PLN", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("USD", 2),
    ("ZAR", 2),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    #[error("amount must not be negative")]
    Negative,
    #[error("currencies differ: {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount overflows")]
    Overflow,
}

/// An ISO 4217 currency code from the supported list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const GBP: Currency = Currency(*b"GBP");
    pub const CAD: Currency = Currency(*b"CAD");

    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, _)| {
                let b = c.as_bytes();
                Currency([b[0], b[1], b[2]])
            })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.chars().take(8).collect()))
    }

    pub fn as_str(&self) -> &str {
        // Constructed only from the ASCII table above.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    pub fn minor_unit_exponent(&self) -> u8 {
        CURRENCIES.iter().find(|(c, _)| c.as_bytes() == self.0).map(|(_, e)| *e).unwrap_or(2)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A non-negative amount of money. Signed differences use [`SignedMoney`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawMoney", into = "RawMoney")]
pub struct Money {
    amount: i64,
    currency: Currency,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMoney {
    amount: i64,
    currency: Currency,
}

impl TryFrom<RawMoney> for Money {
    type Error = MoneyError;
    fn try_from(r: RawMoney) -> Result<Self, Self::Error> {
        Money::new(r.amount, r.currency)
    }
}

impl From<Money> for RawMoney {
    fn from(m: Money) -> Self {
        RawMoney { amount: m.amount, currency: m.currency }
    }
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Result<Self, MoneyError> {
        if amount < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(Money { amount, currency })
    }

    pub fn zero(currency: Currency) -> Self {
        Money { amount: 0, currency }
    }

    pub fn amount(&self) -> i64 {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    fn same(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        Ok(())
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        let amount = self.amount.checked_add(other.amount).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }

    /// Subtraction that refuses to go below zero.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        let amount = self.amount.checked_sub(other.amount).ok_or(MoneyError::Overflow)?;
        Money::new(amount, self.currency)
    }

    pub fn checked_mul(self, qty: u32) -> Result<Money, MoneyError> {
        let amount = self.amount.checked_mul(i64::from(qty)).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }

    /// `self * bp / 10_000`, rounded half up. Used for tax rates in basis points.
    pub fn apply_basis_points(self, bp: u32) -> Result<Money, MoneyError> {
        let scaled = i128::from(self.amount) * i128::from(bp);
        let rounded = (scaled + 5_000) / 10_000;
        let amount = i64::try_from(rounded).map_err(|_| MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }

    /// `self * num / den`, rounded half up; a proportional share (for example one unit of a
    /// line's tax). `den` must be positive.
    pub fn share(self, num: u32, den: u32) -> Result<Money, MoneyError> {
        if den == 0 {
            return Err(MoneyError::Overflow);
        }
        let scaled = i128::from(self.amount) * i128::from(num);
        let d = i128::from(den);
        let amount = i64::try_from((scaled * 2 + d) / (2 * d)).map_err(|_| MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }

    pub fn sum<I: IntoIterator<Item = Money>>(currency: Currency, items: I) -> Result<Money, MoneyError> {
        items.into_iter().try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = u32::from(self.currency.minor_unit_exponent());
        if exp == 0 {
            return write!(f, "{} {}", self.amount, self.currency);
        }
        let div = 10i64.pow(exp);
        write!(f, "{}.{:0width$} {}", self.amount / div, self.amount % div, self.currency, width = exp as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd(a: i64) -> Money {
        Money::new(a, Currency::USD).unwrap()
    }

    #[test]
    fn negative_amount_is_a_typed_error() {
        assert_eq!(Money::new(-1, Currency::USD), Err(MoneyError::Negative));
    }

    #[test]
    fn unknown_currency_is_a_typed_error() {
        assert!(matches!(Currency::parse("XYZ"), Err(MoneyError::UnknownCurrency(_))));
        assert!(matches!(Currency::parse("usd"), Err(MoneyError::UnknownCurrency(_))));
    }

    #[test]
    fn mixed_currency_arithmetic_is_a_typed_error() {
        let eur = Money::new(5, Currency::EUR).unwrap();
        assert!(matches!(usd(5).checked_add(eur), Err(MoneyError::CurrencyMismatch(..))));
    }

    #[test]
    fn subtraction_below_zero_is_refused() {
        assert_eq!(usd(5).checked_sub(usd(6)), Err(MoneyError::Negative));
    }

    #[test]
    fn overflow_is_a_typed_error() {
        assert_eq!(usd(i64::MAX).checked_add(usd(1)), Err(MoneyError::Overflow));
    }

    #[test]
    fn json_shape_is_amount_and_currency() {
        let json = serde_json::to_string(&usd(1999)).unwrap();
        assert_eq!(json, r#"{"amount":1999,"currency":"USD"}"#);
        let bad: Result<Money, _> = serde_json::from_str(r#"{"amount":-5,"currency":"USD"}"#);
        assert!(bad.is_err());
        let float: Result<Money, _> = serde_json::from_str(r#"{"amount":19.99,"currency":"USD"}"#);
        assert!(float.is_err());
    }

    #[test]
    fn displays_with_minor_units() {
        assert_eq!(usd(1999).to_string(), "19.99 USD");
        assert_eq!(Money::new(500, Currency::parse("JPY").unwrap()).unwrap().to_string(), "500 JPY");
    }

    proptest! {
        #[test]
        fn shares_of_a_whole_add_back_within_rounding(total in 0i64..10_000_000, n in 1u32..50) {
            let m = usd(total);
            let parts: i64 = (0..n).map(|_| m.share(1, n).unwrap().amount()).sum();
            prop_assert!((parts - total).abs() <= i64::from(n));
        }

        #[test]
        fn add_then_sub_is_identity(a in 0i64..i64::MAX / 2, b in 0i64..i64::MAX / 2) {
            prop_assert_eq!(usd(a).checked_add(usd(b)).unwrap().checked_sub(usd(b)).unwrap(), usd(a));
        }
    }
}
