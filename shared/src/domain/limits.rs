//! Limits as data: every bound the API enforces, in one table, and the currencies the shop sells
//! in with what a threshold stated in the reference currency is worth in each. A request past a
//! limit is refused with a problem naming the field; nothing is truncated.

use super::money::{Currency, Money};

/// The bounds on what one request may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Lines per order (and distinct SKUs per cart).
    pub max_lines: usize,
    /// Units per line.
    pub max_quantity: u32,
    /// A product's unit price, in reference minor units.
    pub max_unit_price: i64,
    /// An order's total, in reference minor units: placement refuses more (422).
    pub max_order_total: i64,
    /// Goodwill refunds an agent may give without a supervisor, reference minor units.
    pub agent_refund_limit: i64,
    /// Request bodies, bytes (API Gateway's own cap is 10 MB and fixed; this is ours).
    pub max_body_bytes: usize,
    /// Free text: a cancel or hold reason, a note, a case subject, a case description.
    pub max_reason_chars: usize,
    pub max_note_chars: usize,
    pub max_subject_chars: usize,
    pub max_description_chars: usize,
    /// Contended placement attempts on one stock item (within `hot_stock_window_secs`, seen by
    /// one instance) after which its shard count doubles, up to `hot_stock_max_shards`.
    pub hot_stock_conflicts: u32,
    pub hot_stock_window_secs: u64,
    pub hot_stock_max_shards: u16,
    /// Available units per shard below which an item is not split further.
    pub hot_stock_min_units_per_shard: u32,
}

/// The limits in force.
pub const LIMITS: Limits = Limits {
    max_lines: 150,
    max_quantity: 99,
    max_unit_price: 10_000_000,
    max_order_total: 2_500_000,
    agent_refund_limit: 10_000,
    max_body_bytes: 64 * 1024,
    max_reason_chars: 500,
    max_note_chars: 2000,
    max_subject_chars: 200,
    max_description_chars: 4000,
    hot_stock_conflicts: 8,
    hot_stock_window_secs: 10,
    hot_stock_max_shards: 16,
    hot_stock_min_units_per_shard: 8,
};

/// The currency thresholds are stated in.
pub const REFERENCE: Currency = Currency::USD;

/// The currencies the shop sells in and what one reference unit (one US dollar) is worth in
/// each, in millionths of the currency's major unit. A price in any other currency is refused,
/// so no threshold ever applies in a currency it was not stated for. Operators change rates
/// here, not in code that compares amounts.
const SHOP_CURRENCIES: &[(&str, i64)] = &[
    ("USD", 1_000_000),
    ("CAD", 1_400_000),
    ("EUR", 900_000),
    ("GBP", 800_000),
    ("AUD", 1_500_000),
    ("CHF", 900_000),
    ("JPY", 150_000_000),
];

/// Whether the shop sells in `c`.
pub fn sold_in(c: Currency) -> bool {
    SHOP_CURRENCIES.iter().any(|(code, _)| *code == c.as_str())
}

/// The currencies the shop sells in, for error messages.
pub fn shop_currencies() -> String {
    SHOP_CURRENCIES.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
}

/// A threshold stated in reference minor units, in `c`'s minor units (rounded down; at least 1
/// for a positive threshold). `None` for a currency the shop does not sell in.
pub fn threshold_in(reference_minor: i64, c: Currency) -> Option<i64> {
    let (_, rate) = SHOP_CURRENCIES.iter().find(|(code, _)| *code == c.as_str())?;
    let exp_ref = i32::from(REFERENCE.minor_unit_exponent());
    let exp = i32::from(c.minor_unit_exponent());
    // reference minor -> reference major x rate -> target major -> target minor.
    let scaled = i128::from(reference_minor) * i128::from(*rate);
    let num = scaled * 10i128.pow(u32::try_from(exp).unwrap_or(0));
    let den = 1_000_000i128 * 10i128.pow(u32::try_from(exp_ref).unwrap_or(0));
    let v = i64::try_from(num / den).ok()?;
    Some(if reference_minor > 0 { v.max(1) } else { v })
}

/// The threshold as money in `c` (zero for a currency the shop does not sell in).
pub fn threshold_money(reference_minor: i64, c: Currency) -> Money {
    threshold_in(reference_minor, c).and_then(|a| Money::new(a, c).ok()).unwrap_or(Money::zero(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_follow_the_currency_and_its_exponent() {
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(threshold_in(100_000, Currency::USD), Some(100_000));
        assert_eq!(threshold_in(100_000, Currency::EUR), Some(90_000));
        // 1,000 dollars is 150,000 yen, and yen have no minor unit.
        assert_eq!(threshold_in(100_000, jpy), Some(150_000));
        assert_eq!(threshold_in(100_000, Currency::parse("BHD").unwrap()), None);
        assert!(!sold_in(Currency::parse("HUF").unwrap()));
    }
}
