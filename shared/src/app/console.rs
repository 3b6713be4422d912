//! What the agent console needs beyond orders and customers: work queues, stock per location
//! and a refund preview. Confirmation calls are in `confirmations`, the customer conversation
//! on cases in `conversations`.

use super::{AppError, Caller, Oms, Permission};
use crate::domain::limits::{LIMITS, threshold_money};
use crate::domain::returns::{ReturnStatus, Rma};
use crate::domain::support::{Case, CaseKind, CaseStatus};
use crate::domain::*;
use crate::ports::Listing;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueOrder {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub status: OrderStatus,
    pub total: Money,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm_by: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueCase {
    #[serde(flatten)]
    pub case: Case,
    pub age_hours: i64,
    pub message_count: usize,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum QueueItems {
    Orders(Vec<QueueOrder>),
    Returns(Vec<Rma>),
    Cases(Vec<QueueCase>),
}

#[derive(Debug, Serialize)]
pub struct Queue {
    pub queue: &'static str,
    pub items: QueueItems,
}

/// A queue shows its oldest `QUEUE_MAX` items, out of at most `QUEUE_SCAN` read.
pub const QUEUE_MAX: usize = 100;
pub const QUEUE_SCAN: usize = 2_000;

pub const QUEUES: [&str; 5] = ["confirmation-calls", "on-hold", "returns-awaiting-receipt", "cases", "disputes"];

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StockRow {
    pub location_id: LocationId,
    pub name: String,
    pub kind: LocationKind,
    pub on_hand: i64,
    pub available: i64,
    pub held: i64,
    pub allocated: i64,
    pub shards: u16,
    pub safety_stock: i64,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub channel_safety_stock: std::collections::BTreeMap<crate::domain::order::Channel, i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_count: Option<crate::domain::inventory::LastCount>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StockTotals {
    pub on_hand: i64,
    pub available: i64,
    pub held: i64,
    pub allocated: i64,
}

#[derive(Debug, Serialize)]
pub struct StockView {
    pub sku: Sku,
    pub locations: Vec<StockRow>,
    pub total: StockTotals,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundPreview {
    pub amount: Money,
    pub captured: Money,
    pub refunded: Money,
    pub refundable_before: Money,
    pub refundable_after: Money,
    pub within_agent_limit: bool,
    /// Whether the caller may issue it (limit and captured amount both allow).
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

fn money(amount: i64, c: Currency) -> Money {
    Money::new(amount, c).unwrap_or(Money::zero(c))
}

impl Oms {
    /// One work queue, oldest first.
    #[tracing::instrument(skip_all, fields(queue = name))]
    pub async fn queue(&self, c: &Caller, name: &str) -> Result<Queue, AppError> {
        let now = self.clock.now();
        let orders = |mut v: Vec<Order>| {
            v.sort_by_key(|o| o.created_at);
            v.truncate(QUEUE_MAX);
            QueueItems::Orders(
                v.into_iter()
                    .map(|o| QueueOrder {
                        confirm_by: o.confirmation.as_ref().map(|c| c.confirm_by),
                        order_id: o.id,
                        customer_id: o.customer,
                        status: o.status,
                        total: o.totals.total,
                        created_at: o.created_at,
                        reason: o.status_reason,
                    })
                    .collect(),
            )
        };
        // Cases without their conversations (open the case for those): a queue stays small.
        let cases = |v: Vec<Case>| {
            let mut v: Vec<QueueCase> = v
                .into_iter()
                .map(|mut c| {
                    let message_count = c.messages.len();
                    c.messages.clear();
                    QueueCase { age_hours: (now - c.created_at).num_hours(), message_count, case: c }
                })
                .collect();
            v.sort_by_key(|c| (c.case.due_by.is_none(), c.case.due_by, c.case.created_at));
            v.truncate(QUEUE_MAX);
            QueueItems::Cases(v)
        };
        let open_cases = async |kind_is_dispute: bool| -> Result<Vec<Case>, AppError> {
            let mut all = self.store.cases_by_status(CaseStatus::Open).await?;
            all.extend(self.store.cases_by_status(CaseStatus::Escalated).await?);
            Ok(all.into_iter().filter(|c| (c.kind == CaseKind::Dispute) == kind_is_dispute).collect())
        };
        let (queue, items) = match name {
            "confirmation-calls" => ("confirmation-calls", orders(self.awaiting_calls(QUEUE_SCAN).await?)),
            "on-hold" => ("on-hold", orders(self.all_in_status(OrderStatus::OnHold).await?)),
            "returns-awaiting-receipt" => {
                let mut v = Vec::new();
                for o in self.all_in_status(OrderStatus::ReturnRequested).await? {
                    v.extend(self.store.returns_of_order(&o.id).await?.into_iter().filter(|r| {
                        matches!(r.status, ReturnStatus::Issued | ReturnStatus::InTransit | ReturnStatus::Arrived)
                    }));
                }
                v.sort_by_key(|r| r.created_at);
                v.truncate(QUEUE_MAX);
                ("returns-awaiting-receipt", QueueItems::Returns(v))
            }
            "cases" => ("cases", cases(open_cases(false).await?)),
            "disputes" => {
                if !c.may(Permission::Disputes) {
                    return Err(AppError::Forbidden);
                }
                ("disputes", cases(open_cases(true).await?))
            }
            other => {
                return Err(AppError::invalid_field("queue", format!("unknown queue {other:?}; one of {QUEUES:?}")));
            }
        };
        Ok(Queue { queue, items })
    }

    /// Orders in a status, every page up to `QUEUE_SCAN` (a queue shows the oldest).
    async fn all_in_status(&self, status: OrderStatus) -> Result<Vec<Order>, AppError> {
        let mut out: Vec<Order> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.store.orders_by_status(status, Listing::first(100).after(cursor.as_deref())).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) if out.len() < QUEUE_SCAN => cursor = Some(c),
                _ => return Ok(out),
            }
        }
    }

    /// Stock of one SKU per location (shards summed), with totals.
    pub async fn stock_view(&self, sku: Option<&str>) -> Result<StockView, AppError> {
        let sku = Sku::parse(sku.unwrap_or_default()).map_err(|_| AppError::invalid_field("sku", "a SKU"))?;
        let records = self.store.stock_for_sku(&sku).await?;
        let locations = self.store.list_locations().await?;
        let mut by_loc: std::collections::BTreeMap<LocationId, Vec<StockRecord>> = Default::default();
        for r in records {
            by_loc.entry(r.location_id.clone()).or_default().push(r);
        }
        let mut rows = Vec::new();
        let mut t = StockTotals { on_hand: 0, available: 0, held: 0, allocated: 0 };
        for (loc, shards) in by_loc {
            let Some(sum) = crate::domain::stock::total(&shards) else { continue };
            let l = locations.iter().find(|l| l.id == loc);
            let lv = sum.level;
            t.on_hand += lv.on_hand;
            t.available += lv.available;
            t.held += lv.held;
            t.allocated += lv.allocated;
            rows.push(StockRow {
                name: l.map(|l| l.name.clone()).unwrap_or_else(|| loc.to_string()),
                kind: l.map(|l| l.kind).unwrap_or(LocationKind::Warehouse),
                location_id: loc,
                on_hand: lv.on_hand,
                available: lv.available,
                held: lv.held,
                allocated: lv.allocated,
                shards: sum.shards,
                safety_stock: sum.control.as_ref().map_or(0, |c| c.safety_stock),
                channel_safety_stock: sum.control.as_ref().map(|c| c.channel_safety_stock.clone()).unwrap_or_default(),
                last_count: sum.control.as_ref().and_then(|c| c.last.clone()),
            });
        }
        if rows.is_empty() && self.store.get_product(&sku).await?.is_none() {
            return Err(AppError::NotFound);
        }
        Ok(StockView { sku, locations: rows, total: t })
    }

    /// What a goodwill refund would do, changing nothing.
    pub async fn refund_preview(
        &self,
        c: &Caller,
        id: &OrderId,
        req: super::support::GoodwillRequest,
    ) -> Result<RefundPreview, AppError> {
        // The same checks as the refund itself: a preview never says yes to what it refuses.
        super::support::text("reason", &req.reason, 500)?;
        let order = self.order_for_agent(id).await?;
        let cur = order.totals.total.currency();
        if req.amount.currency() != cur || req.amount.amount() <= 0 {
            return Err(AppError::invalid_field("amount", "a positive amount in the order's currency"));
        }
        let (_, captured, refunded, _) = order.payment.ledger_totals();
        let before = order.payment.refundable();
        let after = before - req.amount.amount();
        let given = order.payment.goodwill_given();
        let limit = threshold_money(LIMITS.agent_refund_limit, cur);
        let within = given.saturating_add(req.amount.amount()) <= limit.amount();
        let problem = if after < 0 {
            Some(format!("at most {} can be refunded", money(before, cur)))
        } else if !within && !c.may(Permission::RefundOverLimit) {
            Some(format!("goodwill over {limit} on one order needs a supervisor or finance"))
        } else {
            None
        };
        Ok(RefundPreview {
            amount: req.amount,
            captured: money(captured, cur),
            refunded: money(refunded, cur),
            refundable_before: money(before, cur),
            refundable_after: money(after.max(0), cur),
            within_agent_limit: within,
            allowed: problem.is_none(),
            problem,
        })
    }
}
