//! The customer profile agents work from: who the customer is (names, e-mails, phones,
//! addresses), kept up to date from their orders, and the keys it is found by. Pure code: the
//! merge of an order into a profile, the search keys, what a query text means, the loyalty
//! tier, and conversation tips from order history.

use super::address::Address;
use super::ids::{CustomerId, Sku};
use super::money::Money;
use super::order::Order;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How many of each kind of value a profile keeps (the newest win).
pub const MAX_VALUES: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerProfile {
    pub customer_id: CustomerId,
    /// The name on the newest order.
    pub name: String,
    /// Every name seen, newest first.
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    /// Normalised (`+` and digits), newest first.
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub addresses: Vec<Address>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn push_front<T: PartialEq>(v: &mut Vec<T>, x: T) -> bool {
    if v.first() == Some(&x) {
        return false;
    }
    v.retain(|y| y != &x);
    v.insert(0, x);
    v.truncate(MAX_VALUES);
    true
}

/// A phone number as searched and stored: a leading `+` kept, digits only; `None` when fewer
/// than 6 digits remain.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 || digits.len() > 17 {
        return None;
    }
    Some(if raw.trim_start().starts_with('+') { format!("+{digits}") } else { digits })
}

/// The words a name is found by: lower case, letters and digits only, at least two characters.
pub fn name_tokens(name: &str) -> Vec<String> {
    let mut out: Vec<String> =
        name.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).filter(|t| t.chars().count() >= 2).collect();
    out.sort();
    out.dedup();
    out.truncate(6);
    out
}

/// A key a profile is found by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SearchKey {
    Email(String),
    /// The last 9 digits (so `+1 212…` and `212…` meet).
    Phone(String),
    NameToken(String),
}

impl SearchKey {
    /// The key as one string (`E#`, `P#`, `N#` and the value): how stores file lookups.
    pub fn as_lookup(&self) -> String {
        match self {
            SearchKey::Email(e) => format!("E#{e}"),
            SearchKey::Phone(p) => format!("P#{p}"),
            SearchKey::NameToken(t) => format!("N#{t}"),
        }
    }
}

fn phone_key(p: &str) -> String {
    let d: String = p.chars().filter(char::is_ascii_digit).collect();
    d[d.len().saturating_sub(9)..].to_owned()
}

impl CustomerProfile {
    pub fn new(customer_id: CustomerId, now: DateTime<Utc>) -> Self {
        CustomerProfile {
            customer_id,
            name: String::new(),
            names: vec![],
            emails: vec![],
            phones: vec![],
            addresses: vec![],
            version: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// Adds what an order says about its customer; `true` when the profile changed (merging
    /// the same order again changes nothing, so nothing is written).
    pub fn merge_order(&mut self, o: &Order, now: DateTime<Utc>) -> bool {
        if o.customer != self.customer_id {
            return false;
        }
        let a = &o.shipping_address;
        let mut changed = false;
        if !a.name.trim().is_empty() {
            changed |= self.name != a.name.trim();
            self.name = a.name.trim().to_owned();
            changed |= push_front(&mut self.names, self.name.clone());
        }
        changed |= push_front(&mut self.emails, o.email.as_str().to_lowercase());
        for addr in std::iter::once(a).chain(o.billing_address.as_ref()) {
            if let Some(p) = addr.phone.as_deref().and_then(normalize_phone) {
                changed |= push_front(&mut self.phones, p);
            }
        }
        let mut addr = a.clone();
        addr.phone = None;
        changed |= push_front(&mut self.addresses, addr);
        if changed {
            self.updated_at = now;
        }
        changed
    }

    /// Every key this profile is found by.
    pub fn search_keys(&self) -> BTreeSet<SearchKey> {
        let mut k = BTreeSet::new();
        k.extend(self.emails.iter().map(|e| SearchKey::Email(e.clone())));
        k.extend(self.phones.iter().map(|p| SearchKey::Phone(phone_key(p))));
        for n in &self.names {
            k.extend(name_tokens(n).into_iter().map(SearchKey::NameToken));
        }
        k
    }

    /// Whether this profile matches a query (search results are checked against the profile,
    /// so a stale lookup never shows a customer who no longer matches).
    pub fn matches(&self, q: &Query) -> bool {
        match q {
            Query::Email(e) => self.emails.iter().any(|x| x == e),
            Query::Phone(p) => self.phones.iter().any(|x| phone_key(x) == phone_key(p)),
            Query::Name(tokens) => {
                let mine: Vec<String> = self.names.iter().flat_map(|n| name_tokens(n)).collect();
                tokens.iter().all(|t| mine.iter().any(|m| m.starts_with(t.as_str())))
            }
            Query::Id(_) => true,
        }
    }
}

/// What a search text is taken for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Email(String),
    Phone(String),
    /// Name word prefixes, all of which must match.
    Name(Vec<String>),
    /// A customer id, order id or tracking number (looked up as each).
    Id(String),
}

impl Query {
    /// `None` for an empty or unusable text.
    pub fn parse(raw: &str) -> Option<Query> {
        let q = raw.trim();
        if q.is_empty() || q.chars().count() > 200 || q.chars().any(char::is_control) {
            return None;
        }
        if q.contains('@') {
            return Some(Query::Email(q.to_lowercase()));
        }
        let phone_like = q.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if phone_like && let Some(p) = normalize_phone(q) {
            return Some(Query::Phone(p));
        }
        if q.chars().any(|c| c.is_ascii_digit()) {
            return Some(Query::Id(q.to_owned()));
        }
        let tokens = name_tokens(q);
        (!tokens.is_empty()).then_some(Query::Name(tokens))
    }

    /// The lookup key to read for this query (the name query reads its longest word's prefix).
    pub fn lookup(&self) -> Option<SearchKey> {
        match self {
            Query::Email(e) => Some(SearchKey::Email(e.clone())),
            Query::Phone(p) => Some(SearchKey::Phone(phone_key(p))),
            Query::Name(t) => t.iter().max_by_key(|x| x.len()).map(|x| SearchKey::NameToken(x.clone())),
            Query::Id(_) => None,
        }
    }
}

/// A loyalty tier from lifetime value (minor units: 500.00 silver, 2,000.00 gold): the OMS keeps no
/// points; a loyalty provider's tier replaces this when one is connected (integration issue).
pub fn loyalty_tier(lifetime_value: &Money) -> &'static str {
    match lifetime_value.amount() {
        v if v >= 200_000 => "gold",
        v if v >= 50_000 => "silver",
        _ => "standard",
    }
}

/// A conversation tip: a SKU often bought with one the customer bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tip {
    pub kind: &'static str,
    pub sku: Sku,
    pub name: String,
    /// The customer's SKU it goes with.
    pub because: Sku,
}

/// Frequently bought together: over `history` (orders of many customers), the SKUs that
/// appear most often in an order with a SKU this customer bought, excluding what they already
/// have; at most `limit`, most frequent first.
pub fn frequently_bought_together(mine: &[&Order], history: &[Order], limit: usize) -> Vec<Tip> {
    let bought: BTreeSet<&Sku> = mine.iter().flat_map(|o| o.lines.iter().map(|l| &l.sku)).collect();
    let mut counts: BTreeMap<(&Sku, &Sku), usize> = BTreeMap::new();
    let mut names: BTreeMap<&Sku, &str> = BTreeMap::new();
    for o in history {
        for a in o.lines.iter().filter(|l| bought.contains(&l.sku)) {
            for b in o.lines.iter().filter(|l| !bought.contains(&l.sku)) {
                *counts.entry((&b.sku, &a.sku)).or_default() += 1;
                names.insert(&b.sku, &b.name);
            }
        }
    }
    let mut ranked: Vec<((&Sku, &Sku), usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut seen = BTreeSet::new();
    ranked
        .into_iter()
        .filter(|((sku, _), _)| seen.insert(*sku))
        .take(limit)
        .map(|((sku, because), _)| Tip {
            kind: "frequently_bought_together",
            sku: sku.clone(),
            name: names.get(sku).map(|s| s.to_string()).unwrap_or_default(),
            because: because.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_classified() {
        assert_eq!(Query::parse(" Ann@Example.com "), Some(Query::Email("ann@example.com".into())));
        assert_eq!(Query::parse("+1 (212) 555-0100"), Some(Query::Phone("+12125550100".into())));
        assert_eq!(Query::parse("ann lee"), Some(Query::Name(vec!["ann".into(), "lee".into()])));
        assert_eq!(Query::parse("01JABCDEF0123456789ABCDEFG"), Some(Query::Id("01JABCDEF0123456789ABCDEFG".into())));
        assert_eq!(Query::parse("cust-42"), Some(Query::Id("cust-42".into())));
        assert_eq!(Query::parse("Ann-Marie"), Some(Query::Name(vec!["ann".into(), "marie".into()])));
        assert_eq!(Query::parse("   "), None);
        assert_eq!(Query::parse("a"), None);
    }

    #[test]
    fn phones_meet_with_and_without_country_code() {
        let p = Query::parse("+1 212 555 0100").unwrap();
        let q = Query::parse("212-555-0100").unwrap();
        assert_eq!(p.lookup(), q.lookup());
        assert_eq!(normalize_phone("12"), None);
    }

    #[test]
    fn tiers_follow_lifetime_value() {
        let usd = |a| Money::new(a, super::super::money::Currency::USD).unwrap();
        assert_eq!(loyalty_tier(&usd(100)), "standard");
        assert_eq!(loyalty_tier(&usd(60_000)), "silver");
        assert_eq!(loyalty_tier(&usd(250_000)), "gold");
    }
}
