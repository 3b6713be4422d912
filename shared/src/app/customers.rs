//! Customers for the agent console: profiles kept up to date from orders (`record_order`, run
//! from the table's stream when an order's body is written), search by e-mail, phone, name,
//! customer id, order id or tracking number, and the customer window (everything about one
//! customer on one page).

use super::views::OrderSummary;
use super::{AppError, Caller, Oms, Permission};
use crate::domain::customer::{CustomerProfile, Query, Tip, frequently_bought_together, loyalty_tier};
use crate::domain::returns::Rma;
use crate::domain::support::{Case, CaseKind, Preferences};
use crate::domain::*;
use crate::ports::{Clock, Listing, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// At most this many customers per search, and orders per customer window.
const SEARCH_LIMIT: usize = 20;
const WINDOW_ORDERS: i32 = 50;
/// Orders counted for a customer's order count, lifetime value and tier.
const MAX_COUNTED_ORDERS: usize = 1_000;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerHit {
    pub customer_id: CustomerId,
    pub name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub order_count: usize,
    pub last_order_at: Option<DateTime<Utc>>,
    pub loyalty_tier: &'static str,
}

#[derive(Debug, Serialize)]
pub struct CustomerHits {
    pub customers: Vec<CustomerHit>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSummary {
    pub authorized: Money,
    pub captured: Money,
    pub refunded: Money,
    pub refundable: Money,
}

impl PaymentSummary {
    pub fn of(o: &Order) -> Self {
        let c = o.totals.total.currency();
        let m = |a: i64| Money::new(a, c).unwrap_or(Money::zero(c));
        let (authorized, captured, refunded, _) = o.payment.ledger_totals();
        PaymentSummary {
            authorized: m(authorized),
            captured: m(captured),
            refunded: m(refunded),
            refundable: m(o.payment.refundable()),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerOrderRow {
    #[serde(flatten)]
    pub summary: OrderSummary,
    pub payment: PaymentSummary,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartRow {
    pub cart_id: CartId,
    pub item_count: usize,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteRow {
    pub order_id: OrderId,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub note: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    #[serde(flatten)]
    pub profile: CustomerProfile,
    pub preferences: Preferences,
    pub loyalty_tier: &'static str,
}

/// The customer window.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerWindow {
    pub customer: ProfileView,
    pub orders: Vec<CustomerOrderRow>,
    pub carts: Vec<CartRow>,
    pub returns: Vec<Rma>,
    pub cases: Vec<Case>,
    pub disputes: Vec<Case>,
    pub notes: Vec<NoteRow>,
    pub lifetime_value: Money,
    pub tips: Vec<Tip>,
}

impl Oms {
    /// Merges what an order says about its customer into their profile (`record_order_customer`).
    pub async fn record_order_customer(&self, id: &OrderId) -> Result<(), AppError> {
        record_order_customer(self.store.as_ref(), self.clock.as_ref(), id).await
    }

    /// A customer's orders, newest first, every page up to `max`.
    async fn orders_of_up_to(&self, id: &CustomerId, max: usize) -> Result<Vec<Order>, AppError> {
        Ok(self.store.customer_orders_up_to(id, max).await?)
    }

    /// The profile, or one assembled from the customer's orders when none was recorded yet.
    async fn profile_of(&self, id: &CustomerId, orders: &[Order]) -> Result<Option<CustomerProfile>, AppError> {
        if let Some(p) = self.store.get_customer(id).await? {
            return Ok(Some(p));
        }
        let Some(first) = orders.last() else { return Ok(None) };
        let mut p = CustomerProfile::new(id.clone(), first.created_at);
        for o in orders.iter().rev() {
            p.merge_order(o, o.created_at);
        }
        Ok(Some(p))
    }

    async fn customers_matching(&self, q: &Query, raw: Option<&str>) -> Result<Vec<CustomerId>, AppError> {
        let mut ids: Vec<CustomerId> = Vec::new();
        if let Some(key) = q.lookup() {
            for id in self.store.find_customers(&key, SEARCH_LIMIT * 3).await? {
                if self.store.get_customer(&id).await?.is_some_and(|p| p.matches(q)) {
                    ids.push(id);
                }
            }
        }
        match q {
            // Orders carry the e-mail too (before a profile was recorded).
            Query::Email(e) => {
                if let Ok(email) = Email::parse(e) {
                    for o in self.store.orders_by_email(&email, Listing::first(SEARCH_LIMIT as i32)).await?.items {
                        ids.push(o.customer);
                    }
                }
            }
            Query::Id(s) => {
                if let Ok(c) = CustomerId::parse(s)
                    && (self.store.get_customer(&c).await?.is_some()
                        || !self.store.orders_of_customer(&c, Listing::first(1)).await?.items.is_empty())
                {
                    ids.push(c);
                }
                if let Ok(o) = OrderId::parse(s)
                    && let Some(o) = self.store.get_order(&o).await?
                {
                    ids.push(o.customer);
                }
                let tracking = s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
                if tracking {
                    for o in self.find_by_tracking(s).await?.orders {
                        if let Some(o) = self.store.get_order(&o.order_id).await? {
                            ids.push(o.customer);
                        }
                    }
                }
            }
            // One word without digits ("cust-ann", "Ann-Marie") may also be a customer id.
            Query::Name(_) => {
                if let Some(raw) = raw.filter(|r| !r.trim().contains(' '))
                    && let Ok(c) = CustomerId::parse(raw.trim())
                    && (self.store.get_customer(&c).await?.is_some()
                        || !self.store.orders_of_customer(&c, Listing::first(1)).await?.items.is_empty())
                {
                    ids.push(c);
                }
            }
            _ => {}
        }
        let mut seen = std::collections::HashSet::new();
        ids.retain(|i| seen.insert(i.clone()));
        ids.truncate(SEARCH_LIMIT);
        Ok(ids)
    }

    /// `GET /v1/admin/customers?q=`.
    #[tracing::instrument(skip_all)]
    pub async fn search_customers(&self, c: &Caller, q: Option<&str>) -> Result<CustomerHits, AppError> {
        require(c)?;
        let raw = q;
        let q = q.and_then(Query::parse).ok_or_else(|| {
            AppError::invalid_field(
                "q",
                "an e-mail, a phone number, a name (2+ letters), a customer id, an order id or a tracking number",
            )
        })?;
        let mut customers = Vec::new();
        for id in self.customers_matching(&q, raw).await? {
            let orders = self.orders_of_up_to(&id, MAX_COUNTED_ORDERS).await?;
            let Some(p) = self.profile_of(&id, &orders).await? else { continue };
            customers.push(CustomerHit {
                loyalty_tier: loyalty_tier(&lifetime_value(&orders)),
                order_count: orders.len(),
                last_order_at: orders.iter().map(|o| o.created_at).max(),
                customer_id: p.customer_id,
                name: p.name,
                emails: p.emails,
                phones: p.phones,
            });
        }
        Ok(CustomerHits { customers })
    }

    /// `GET /v1/admin/customers/{customerId}`: everything about one customer.
    #[tracing::instrument(skip_all)]
    pub async fn customer_window(&self, c: &Caller, id: &CustomerId) -> Result<CustomerWindow, AppError> {
        require(c)?;
        let all = self.orders_of_up_to(id, MAX_COUNTED_ORDERS).await?;
        let value = lifetime_value(&all);
        let orders: Vec<Order> = all.iter().take(WINDOW_ORDERS as usize).cloned().collect();
        let profile = self.profile_of(id, &orders).await?.ok_or(AppError::NotFound)?;
        let (mut returns, mut cases, mut notes) = (Vec::new(), Vec::new(), Vec::new());
        for o in &orders {
            returns.extend(self.store.returns_of_order(&o.id).await?);
            cases.extend(self.store.cases_of_order(&o.id).await?);
            for e in self.store.timeline(&o.id).await? {
                if e.kind == "note.added" {
                    notes.push(NoteRow {
                        order_id: o.id.clone(),
                        at: e.at,
                        actor: e.actor,
                        note: e.note.unwrap_or_default(),
                    });
                }
            }
        }
        returns.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        cases.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        notes.sort_by_key(|n| std::cmp::Reverse(n.at));
        let (disputes, cases): (Vec<Case>, Vec<Case>) = cases.into_iter().partition(|c| c.kind == CaseKind::Dispute);
        let carts = self
            .store
            .carts_of_customer(id)
            .await?
            .into_iter()
            .filter(|c| c.converted_order.is_none())
            .map(|c| CartRow {
                cart_id: c.id.clone(),
                item_count: c.items.iter().map(|i| i.quantity.get() as usize).sum(),
                updated_at: c.last_activity,
            })
            .collect();
        let history = self.store.all_orders(Listing::first(200)).await?.items;
        let mine: Vec<&Order> = orders.iter().collect();
        let tips = frequently_bought_together(&mine, &history, 3);
        let preferences = self.store.get_preferences(id).await?;
        Ok(CustomerWindow {
            customer: ProfileView { profile, preferences, loyalty_tier: loyalty_tier(&value) },
            orders: orders
                .iter()
                .map(|o| CustomerOrderRow { summary: OrderSummary::from(o), payment: PaymentSummary::of(o) })
                .collect(),
            carts,
            returns,
            cases,
            disputes,
            notes,
            lifetime_value: value,
            tips,
        })
    }
}

/// Merges what an order says about its customer into their profile: idempotent (an order
/// already merged changes nothing and writes nothing), and never for an erased order (a late
/// stream record after an erasure brings nothing back).
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn record_order_customer(store: &dyn Store, clock: &dyn Clock, id: &OrderId) -> Result<(), AppError> {
    let Some(o) = store.get_order(id).await? else { return Ok(()) };
    if crate::domain::privacy::erased(&o) {
        return Ok(());
    }
    for _ in 0..5 {
        let previous = store.get_customer(&o.customer).await?;
        let now = clock.now();
        let mut next = previous.clone().unwrap_or_else(|| CustomerProfile::new(o.customer.clone(), now));
        if !next.merge_order(&o, now) && previous.is_some() {
            return Ok(());
        }
        next.version = previous.as_ref().map(|p| p.version).unwrap_or(0) + 1;
        match store.save_customer(&next, previous.as_ref()).await {
            Err(StoreError::StaleVersion) => continue,
            r => r?,
        }
        // An erasure that ran while this was being written takes the profile with it.
        if store.get_order(id).await?.is_some_and(|o| crate::domain::privacy::erased(&o)) {
            store.delete_customer(&o.customer).await?;
        }
        return Ok(());
    }
    Err(AppError::Unavailable("the customer profile kept changing; retry".into()))
}

fn require(c: &Caller) -> Result<(), AppError> {
    if c.may(Permission::ReadCustomers) { Ok(()) } else { Err(AppError::Forbidden) }
}

/// Captured minus refunded over the orders in the first order's currency (others skipped).
pub fn lifetime_value(orders: &[Order]) -> Money {
    let currency = orders.first().map(|o| o.totals.total.currency()).unwrap_or(Currency::USD);
    let total: i64 = orders
        .iter()
        .filter(|o| o.totals.total.currency() == currency)
        .map(|o| o.payment.refundable())
        .fold(0i64, |a, b| a.saturating_add(b));
    Money::new(total, currency).unwrap_or(Money::zero(currency))
}
