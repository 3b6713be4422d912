//! Order queries: one order (the caller's own, or any for an agent), a customer's orders, and
//! the agents' listings by status, e-mail or tracking number (always through an index).

use super::super::Audience;
use super::super::projections::{OrderProjection, customer_status};
use super::super::views::{OrderList, OrderSummary};
use super::super::{AppError, Caller, Oms};
use super::AdminOrderQuery;
use crate::domain::*;
use crate::ports::Listing;
use chrono::{DateTime, Utc};

impl Oms {
    /// The caller's order (admins may read any); another customer's order is "not found".
    pub(crate) async fn owned_order(&self, caller: &Caller, id: &OrderId) -> Result<Order, AppError> {
        match self.store.get_order(id).await? {
            Some(o) if caller.acts_for(&o.customer) => Ok(o),
            _ => Err(AppError::NotFound),
        }
    }

    /// The order as the caller's audience sees it (`projections`).
    pub async fn get_order(&self, caller: &Caller, id: &OrderId) -> Result<OrderProjection, AppError> {
        match self.store.get_order_view(id).await? {
            Some(v) if caller.reads(&v.order.customer) => {
                let audience = if v.order.customer == caller.customer { Audience::Customer } else { caller.audience() };
                Ok(OrderProjection::of(audience, v))
            }
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn list_orders(
        &self,
        caller: &Caller,
        limit: Option<i32>,
        cursor: Option<&str>,
    ) -> Result<OrderList, AppError> {
        let limit = check_limit(limit)?;
        let page = self.store.orders_of_customer(&caller.customer, Listing::first(limit).after(cursor)).await?;
        let orders = page
            .items
            .iter()
            .map(|o| OrderSummary { status: customer_status(o.status, o.held_from), ..OrderSummary::from(o) })
            .collect();
        Ok(OrderList { orders, next_cursor: page.next_cursor })
    }

    pub async fn admin_list_orders(&self, q: AdminOrderQuery) -> Result<OrderList, AppError> {
        let limit = check_limit(q.limit)?;
        // Every parameter is checked before any is used.
        let from = q.from.as_deref().map(|s| parse_time("from", s)).transpose()?;
        let to = q.to.as_deref().map(|s| parse_time("to", s)).transpose()?;
        let status = q
            .status
            .as_deref()
            .map(|s| {
                OrderStatus::parse(s).ok_or_else(|| AppError::invalid_field("status", format!("unknown status {s:?}")))
            })
            .transpose()?;
        let email = q
            .email
            .as_deref()
            .map(|e| Email::parse(e).map_err(|err| AppError::invalid_field("email", err)))
            .transpose()?;
        if let Some(t) = q.tracking.as_deref() {
            let t = t.trim();
            if t.is_empty() || t.len() > 64 || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(AppError::invalid_field("tracking", "a tracking number: 1-64 letters, digits or dashes"));
            }
            return self.find_by_tracking(t).await;
        }
        let mut page = match (status, email) {
            (Some(status), None) => {
                self.store
                    .orders_by_status(status, Listing::first(limit).after(q.cursor.as_deref()).since(from))
                    .await?
            }
            (status, Some(email)) => {
                let mut page = self
                    .store
                    .orders_by_email(&email, Listing::first(limit).after(q.cursor.as_deref()).since(from))
                    .await?;
                if let Some(st) = status {
                    page.items.retain(|o| o.status == st);
                }
                page
            }
            (None, None) => {
                return Err(AppError::invalid(
                    "give status, email or tracking (orders are found through an index, never a scan)",
                ));
            }
        };
        if let Some(to) = to {
            page.items.retain(|o| o.created_at <= to);
        }
        Ok(OrderList { orders: page.items.iter().map(OrderSummary::from).collect(), next_cursor: page.next_cursor })
    }
}

fn check_limit(limit: Option<i32>) -> Result<i32, AppError> {
    let l = limit.unwrap_or(20);
    if !(1..=100).contains(&l) {
        return Err(AppError::invalid_field("limit", "must be between 1 and 100"));
    }
    Ok(l)
}

fn parse_time(field: &str, s: &str) -> Result<DateTime<Utc>, AppError> {
    use chrono::Datelike;
    let t = match DateTime::parse_from_rfc3339(s) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc()),
    };
    let t = t.ok_or_else(|| AppError::invalid_field(field, "use an RFC 3339 timestamp or a YYYY-MM-DD date"))?;
    // Orders are listed by their creation instant in the key: a year past what a key can hold
    // is refused here rather than failing the query (a 503 a client would retry for ever).
    if !(1970..=2999).contains(&t.year()) {
        return Err(AppError::invalid_field(field, "a date in the years 1970 to 2999"));
    }
    Ok(t)
}
