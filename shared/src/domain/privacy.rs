//! Erasure of a customer's personal data, as pure rules: which orders may be erased, what an
//! anonymized order keeps (amounts, SKUs, dates, country and region for tax), and how free text
//! that quotes personal data is scrubbed.

use super::address::Address;
use super::email::Email;
use super::order::Order;
use super::status::OrderStatus;

/// What replaces personal data in free text and in address fields.
pub const ERASED: &str = "[erased]";
/// The domain of the placeholder addresses erased orders carry (reserved: it never delivers).
pub const ERASED_DOMAIN: &str = "erased.invalid";
/// Needles shorter than this are not searched for in free text (they would match too much).
pub const MIN_NEEDLE: usize = 3;

/// An order may be erased once nothing more can happen to it that needs the buyer: delivered,
/// completed, cancelled, failed or returned (a return in flight still needs the address).
pub fn settled(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::Delivered
            | OrderStatus::Completed
            | OrderStatus::Cancelled
            | OrderStatus::Failed
            | OrderStatus::Returned
            | OrderStatus::PartiallyReturned
    )
}

/// Whether an order was already anonymized.
pub fn erased(order: &Order) -> bool {
    order.email.as_str().ends_with(&format!("@{ERASED_DOMAIN}"))
}

/// The personal strings an order carries, to find them quoted in free text: the e-mail and
/// its local part, each name and each word of it, address lines, city, postal code, phone (as
/// written and as digits).
pub fn needles(order: &Order) -> Vec<String> {
    let email = order.email.as_str();
    let mut out = vec![email.to_owned(), email.split('@').next().unwrap_or_default().to_owned()];
    for a in std::iter::once(&order.shipping_address).chain(order.billing_address.as_ref()) {
        out.push(a.name.clone());
        out.extend(a.name.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-').map(str::to_owned));
        out.push(a.line1.clone());
        out.extend(a.line2.clone());
        out.push(a.city.clone());
        out.push(a.postal_code.clone());
        if let Some(p) = &a.phone {
            out.push(p.clone());
            out.push(p.chars().filter(char::is_ascii_digit).collect());
            let digits: String = p.chars().filter(char::is_ascii_digit).collect();
            out.push(format!("+{digits}"));
        }
    }
    out.retain(|n| n.trim().chars().count() >= MIN_NEEDLE && !n.contains(ERASED) && !n.ends_with(ERASED_DOMAIN));
    // Longest first, so a full name goes before its words.
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    out.dedup();
    out
}

fn boundary(text: &[u8], at: usize) -> bool {
    // Byte-wise: a neighbour that is an ASCII letter or digit joins the word; anything else
    // (space, punctuation, the start or end, a multi-byte character) separates it.
    text.get(at).is_none_or(|b| !b.is_ascii_alphanumeric())
}

/// `text` with every whole-word occurrence of a needle (ASCII case ignored) replaced by
/// `[erased]`, or `None` when it holds none. Whole words only, so a postal code inside a
/// tracking number or a name inside another word is left alone.
pub fn scrub(text: &str, needles: &[String]) -> Option<String> {
    let mut out = text.to_owned();
    for n in needles {
        let needle = n.trim().to_ascii_lowercase();
        if needle.is_empty() {
            continue;
        }
        let mut from = 0;
        loop {
            let hay = out.to_ascii_lowercase();
            let Some(pos) = hay[from..].find(&needle).map(|p| p + from) else { break };
            let end = pos + needle.len();
            let bytes = hay.as_bytes();
            let before_ok = pos == 0 || boundary(bytes, pos - 1);
            if before_ok && boundary(bytes, end) && out.is_char_boundary(pos) && out.is_char_boundary(end) {
                out.replace_range(pos..end, ERASED);
                from = pos + ERASED.len();
            } else {
                from = pos + 1;
                while from < out.len() && !out.is_char_boundary(from) {
                    from += 1;
                }
            }
            if from >= out.len() {
                break;
            }
        }
    }
    (out != text).then_some(out)
}

/// Scrubs every string in a JSON value; whether anything changed.
pub fn scrub_json(v: &mut serde_json::Value, needles: &[String]) -> bool {
    match v {
        serde_json::Value::String(s) => match scrub(s, needles) {
            Some(clean) => {
                *s = clean;
                true
            }
            None => false,
        },
        serde_json::Value::Array(a) => a.iter_mut().fold(false, |c, x| scrub_json(x, needles) | c),
        serde_json::Value::Object(o) => o.values_mut().fold(false, |c, x| scrub_json(x, needles) | c),
        _ => false,
    }
}

fn anonymous(a: &Address) -> Address {
    Address {
        name: ERASED.into(),
        line1: ERASED.into(),
        line2: None,
        city: ERASED.into(),
        region: a.region.clone(),
        postal_code: ERASED.into(),
        country: a.country,
        phone: None,
    }
}

/// The order with its personal fields replaced and its status reason scrubbed of `needles`;
/// amounts, lines, payment ledger, statuses, country and region (tax) and dates kept.
pub fn anonymize(order: &Order, needles: &[String]) -> Order {
    let mut next = order.clone();
    if let Some(r) = order.status_reason.as_deref().and_then(|r| scrub(r, needles)) {
        next.status_reason = Some(r);
    }
    let placeholder = format!("erased-{}@{ERASED_DOMAIN}", order.id.as_str().to_ascii_lowercase());
    if let Ok(e) = Email::parse(&placeholder) {
        next.email = e;
    }
    next.shipping_address = anonymous(&order.shipping_address);
    next.billing_address = order.billing_address.as_ref().map(anonymous);
    next
}

/// A stored order response (JSON, as the placement answered) with the same fields anonymized
/// as `anonymize` does and its free text scrubbed; `None` when nothing changed.
pub fn anonymize_response(response: &str, order: &Order, needles: &[String]) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(response).ok()?;
    let before = v.clone();
    let anon = anonymize(order, needles);
    if let Some(o) = v.as_object_mut() {
        o.insert("email".into(), serde_json::Value::String(anon.email.as_str().to_owned()));
        for (field, a) in
            [("shippingAddress", Some(&anon.shipping_address)), ("billingAddress", anon.billing_address.as_ref())]
        {
            if let (Some(slot), Some(a)) = (o.get_mut(field), a) {
                *slot = serde_json::to_value(a).ok()?;
            }
        }
    }
    scrub_json(&mut v, needles);
    (v != before).then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_loses_only_what_quotes_the_buyer() {
        let needles = vec!["Jane Doe".to_owned(), "jane@example.com".to_owned()];
        assert_eq!(scrub("Jane Doe called from jane@example.com", &needles).unwrap(), "[erased] called from [erased]");
        assert_eq!(scrub("parcel late", &needles), None);
        assert_eq!(scrub("JANE DOE rang; not jane doex", &needles).unwrap(), "[erased] rang; not jane doex");
        let codes = vec!["05301".to_owned()];
        assert_eq!(
            scrub("Brattleboro VT 05301, tracking SBX053010", &codes).unwrap(),
            "Brattleboro VT [erased], tracking SBX053010"
        );
        let mut v = serde_json::json!({"note": "ask Jane Doe", "n": 3, "list": ["jane@example.com"]});
        assert!(scrub_json(&mut v, &needles));
        assert_eq!(v, serde_json::json!({"note": "ask [erased]", "n": 3, "list": ["[erased]"]}));
    }
}
