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

/// The personal strings an order carries, to find them quoted in free text.
pub fn needles(order: &Order) -> Vec<String> {
    let mut out = email_needles(order.email.as_str());
    let addresses =
        std::iter::once(&order.shipping_address).chain(order.billing_address.as_ref()).chain(&order.former_addresses);
    for a in addresses {
        out.extend(address_needles(&a.name, &a.line1, a.line2.as_deref(), &a.city, &a.postal_code, a.phone.as_deref()));
    }
    tidy(out)
}

/// The same from a stored order response (JSON as the placement answered): the address the
/// order was placed with, before any edit.
pub fn needles_from_response(response: &str) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(response) else { return Vec::new() };
    let mut out = v["email"].as_str().map(email_needles).unwrap_or_default();
    for field in ["shippingAddress", "billingAddress"] {
        let a = &v[field];
        let s = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
        out.extend(address_needles(
            &s("name"),
            &s("line1"),
            a["line2"].as_str(),
            &s("city"),
            &s("postalCode"),
            a["phone"].as_str(),
        ));
    }
    tidy(out)
}

/// What the order holds now and what it was placed with (`placed`: its stored placement
/// response; an edit may have changed the address since).
pub fn all_needles(order: &Order, placed: Option<&str>) -> Vec<String> {
    let mut out = needles(order);
    out.extend(placed.map(needles_from_response).unwrap_or_default());
    tidy(out)
}

/// An e-mail as written, percent-encoded (in a URL), its local part, and the local part
/// without a `+tag`.
fn email_needles(email: &str) -> Vec<String> {
    let local = email.split('@').next().unwrap_or_default();
    vec![
        email.to_owned(),
        email.replace('@', "%40").replace('+', "%2B"),
        local.to_owned(),
        local.split('+').next().unwrap_or_default().to_owned(),
    ]
}

/// Each name and each word of it, address lines, city, postal code, phone (as written, as
/// digits, and as +digits).
fn address_needles(
    name: &str,
    line1: &str,
    line2: Option<&str>,
    city: &str,
    postal: &str,
    phone: Option<&str>,
) -> Vec<String> {
    let mut out = vec![name.to_owned(), line1.to_owned(), city.to_owned(), postal.to_owned()];
    out.extend(name.split(|c: char| !c.is_alphanumeric()).map(str::to_owned));
    out.extend(line2.map(str::to_owned));
    if let Some(p) = phone {
        let digits: String = p.chars().filter(char::is_ascii_digit).collect();
        out.push(p.to_owned());
        out.push(format!("+{digits}"));
        out.push(digits);
    }
    out
}

fn tidy(mut out: Vec<String>) -> Vec<String> {
    out.retain(|n| n.trim().chars().count() >= MIN_NEEDLE && !n.contains(ERASED) && !n.ends_with(ERASED_DOMAIN));
    // Longest first, so a full name goes before its words.
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    out.dedup();
    out
}

/// A character as compared: lower case (first char of its lower case), typographic
/// apostrophes as `'`.
fn fold(c: char) -> char {
    match c {
        '\u{2019}' | '\u{2018}' | '\u{02BC}' => '\'',
        _ => c.to_lowercase().next().unwrap_or(c),
    }
}

/// `text` with every whole-word occurrence of a needle (letter case and apostrophe style
/// ignored) replaced by `[erased]`, or `None` when it holds none. Whole words only, so a postal
/// code inside a tracking number or a name inside another word is left alone.
pub fn scrub(text: &str, needles: &[String]) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars.iter().copied().map(fold).collect();
    let word = |i: Option<usize>| i.and_then(|i| folded.get(i)).is_some_and(|c| c.is_alphanumeric());
    let mut erase = vec![false; chars.len()];
    for n in needles {
        let needle: Vec<char> = n.trim().chars().map(fold).collect();
        if needle.is_empty() || needle.len() > folded.len() {
            continue;
        }
        let mut i = 0;
        while i + needle.len() <= folded.len() {
            let end = i + needle.len();
            if folded[i..end] == needle[..] && !word(i.checked_sub(1)) && !word(Some(end)) {
                erase[i..end].iter_mut().for_each(|e| *e = true);
                i = end;
            } else {
                i += 1;
            }
        }
    }
    if !erase.contains(&true) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for (i, c) in chars.iter().enumerate() {
        if !erase[i] {
            out.push(*c);
        } else if i == 0 || !erase[i - 1] {
            out.push_str(ERASED);
        }
    }
    Some(out)
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
    next.former_addresses = order.former_addresses.iter().map(anonymous).collect();
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
        let jose =
            vec!["José María O'Brien-Smith".to_owned(), "María".to_owned(), "Smith".to_owned(), "Brien".to_owned()];
        assert_eq!(
            scrub("JOSÉ MARÍA O’BRIEN-SMITH rang; MARÍA again; Smith-Jones? Brien.", &jose).unwrap(),
            "[erased] rang; [erased] again; [erased]-Jones? [erased]."
        );
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
