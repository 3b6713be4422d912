//! Order validation: deliverability, limits and a simple fraud score from signals. Pure.

use super::address::{Address, AddressInput};
use super::catalog::ProductKind;
use super::limits::{LIMITS, threshold_in};
use super::order::{Order, ServiceLevel};
use super::rules::RuleSet;

/// Facts gathered outside the order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Signals {
    /// Orders placed with the same e-mail in the last hour (this one included).
    pub orders_last_hour_by_email: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Pass { score: u32 },
    Hold { score: u32, reasons: Vec<String> },
    Reject { reasons: Vec<String> },
}

fn reparse(a: &Address) -> bool {
    Address::parse(&AddressInput::from(a)).is_ok()
}

/// Assesses an order by `rules` (the version the order recorded at placement).
pub fn assess(order: &Order, signals: Signals, rules: &RuleSet) -> Decision {
    let fraud = &rules.fraud;
    let mut reject = Vec::new();
    if !reparse(&order.shipping_address) {
        reject.push("shipping_address_invalid".to_owned());
    }
    if order.billing_address.as_ref().is_some_and(|b| !reparse(b)) {
        reject.push("billing_address_invalid".to_owned());
    }
    let services = order.lines.iter().any(|l| l.kind == ProductKind::Service);
    let fast = matches!(order.delivery.service_level, ServiceLevel::Express | ServiceLevel::Overnight);
    if order.shipping_address.is_po_box() && (fast || services) {
        reject.push("po_box_not_deliverable".to_owned());
    }
    if order.payment.token.trim().is_empty() && order.payment.method.is_token() {
        reject.push("payment_token_missing".to_owned());
    }
    if order.lines.is_empty() {
        reject.push("no_lines".to_owned());
    }
    let total = order.totals.total.amount();
    let currency = order.totals.total.currency();
    // Thresholds are stated in the reference currency; a currency the shop does not sell in
    // has none, and is refused.
    let at = |reference: i64| threshold_in(reference, currency);
    match at(LIMITS.max_order_total) {
        None => reject.push("currency_not_sold".to_owned()),
        Some(cap) if total > cap => reject.push("order_value_over_limit".to_owned()),
        Some(_) => {}
    }
    if !reject.is_empty() {
        return Decision::Reject { reasons: reject };
    }
    let mut score = 0;
    let mut reasons = Vec::new();
    if at(fraud.very_high_value).is_some_and(|t| total >= t) {
        score += 50;
        reasons.push("very_high_value".to_owned());
    } else if at(fraud.high_value).is_some_and(|t| total >= t) {
        score += 30;
        reasons.push("high_value".to_owned());
    }
    if let Some(b) = &order.billing_address {
        if b.country != order.shipping_address.country {
            score += 30;
            reasons.push("billing_shipping_country_mismatch".to_owned());
        } else if b.postal_code != order.shipping_address.postal_code {
            score += 10;
            reasons.push("billing_shipping_postal_mismatch".to_owned());
        }
    }
    let velocity = fraud.velocity_per_hour as usize;
    let n = signals.orders_last_hour_by_email;
    if n > velocity.saturating_mul(5) / 2 {
        score += 70;
        reasons.push("order_velocity_extreme".to_owned());
    } else if n >= velocity {
        score += 40;
        reasons.push("order_velocity".to_owned());
    }
    // Hold rules hold whatever the score (an agent's release clears them like a score's hold).
    if rules.hold.countries.contains(&order.shipping_address.country) {
        reasons.push("hold_country".to_owned());
    }
    if let Some(min) = rules.hold.min_total
        && min.currency() == currency
        && total >= min.amount()
    {
        reasons.push("hold_value".to_owned());
    }
    let held_by_rule = reasons.iter().any(|r| r.starts_with("hold_"));
    if score >= fraud.reject_score {
        Decision::Reject { reasons: [vec![format!("fraud_score_{score}")], reasons].concat() }
    } else if (score >= fraud.hold_score || held_by_rule) && !order.review_cleared {
        Decision::Hold { score, reasons }
    } else {
        Decision::Pass { score }
    }
}
