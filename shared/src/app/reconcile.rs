//! Reconciliation: what the store says must agree with itself. Every stock counter (held,
//! allocated per SKU × location) equals the sum of the open holds and allocations of the orders
//! that name it, and every level is conserved; every order's payment ledger agrees with its
//! totals and its status (refunds never above captures; no authorization left open on a
//! cancelled or failed order; nothing captured for an order that never shipped). Run on demand
//! by agents (`GET /v1/admin/reconciliation`) and on a schedule that logs and alarms.

use super::{AppError, Oms};
use crate::domain::*;
use crate::ports::Listing;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StockDifference {
    pub sku: Sku,
    pub location_id: LocationId,
    pub level: StockLevel,
    /// (held, allocated) summed over the orders' open reservations.
    pub orders_held: i64,
    pub orders_allocated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDifference {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub problem: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reconciliation {
    /// Changes too large for one write that were interrupted between their parts, finished
    /// (stock taken ahead of a commit that never happened given back, or freed stock given back).
    pub interrupted_commits_finished: usize,
    pub orders_checked: usize,
    pub stock_items_checked: usize,
    pub stock: Vec<StockDifference>,
    pub payments: Vec<PaymentDifference>,
}

impl Reconciliation {
    pub fn differences(&self) -> usize {
        self.stock.len() + self.payments.len()
    }
}

/// What is wrong with an order's payment, if anything.
pub fn payment_problems(o: &Order) -> Vec<String> {
    let p = &o.payment;
    let mut out = Vec::new();
    let minor = |m: Option<Money>| m.map(|m| m.amount()).unwrap_or(0);
    let (_, captured, refunded, _) = p.ledger_totals();
    if minor(p.refunded) > minor(p.captured) {
        out.push(format!("refunded {} above captured {}", minor(p.refunded), minor(p.captured)));
    }
    if captured != minor(p.captured) || refunded != minor(p.refunded) {
        out.push(format!(
            "ledger ({captured} captured, {refunded} refunded) disagrees with totals ({}, {})",
            minor(p.captured),
            minor(p.refunded)
        ));
    }
    let voids = p.ledger.iter().filter(|e| e.kind == LedgerKind::Voided).count();
    match o.status {
        OrderStatus::Cancelled | OrderStatus::Failed => {
            if p.authorization_id.is_some() && voids == 0 {
                out.push("authorization left open".into());
            }
            if p.refundable() != 0 {
                out.push(format!("{} captured and not refunded", p.refundable()));
            }
        }
        s if s.is_before_handover() && minor(p.captured) != 0 => {
            out.push(format!("{} captured before any parcel left", minor(p.captured)));
        }
        _ => {}
    }
    out
}

impl Oms {
    /// Every order, every page.
    async fn all_orders(&self) -> Result<Vec<Order>, AppError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.store.all_orders(Listing::first(100).after(cursor.as_deref())).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(out)
    }

    #[tracing::instrument(skip_all)]
    pub async fn reconcile(&self) -> Result<Reconciliation, AppError> {
        // A commit in flight takes well under a minute; older parts were interrupted.
        let cutoff = self.clock.now() - chrono::Duration::minutes(5);
        let finished = self.store.finish_interrupted(cutoff).await?;
        let orders = self.all_orders().await?;
        let mut owned: BTreeMap<(Sku, LocationId), (i64, i64)> = BTreeMap::new();
        let mut report = Reconciliation {
            orders_checked: orders.len(),
            interrupted_commits_finished: finished,
            ..Default::default()
        };
        for o in &orders {
            for r in o.open_reservations() {
                let e = owned.entry((r.sku.clone(), r.location_id.clone())).or_default();
                match r.state {
                    ReservationState::Held => e.0 += i64::from(r.quantity),
                    _ => e.1 += i64::from(r.quantity),
                }
            }
            for problem in payment_problems(o) {
                report.payments.push(PaymentDifference { order_id: o.id.clone(), status: o.status, problem });
            }
        }
        for product in self.store.list_products().await? {
            // Shards of one location are summed: reservations name the location (and shard).
            let mut per_location: BTreeMap<LocationId, Vec<StockRecord>> = BTreeMap::new();
            for rec in self.store.stock_for_sku(&product.sku).await? {
                per_location.entry(rec.location_id.clone()).or_default().push(rec);
            }
            for (_, shards) in per_location {
                let conserved = shards.iter().all(|r| r.level.is_conserved());
                let Some(mut rec) = shards.first().cloned() else { continue };
                rec.level = crate::domain::stock::summed(&shards);
                report.stock_items_checked += 1;
                let (held, allocated) = owned.remove(&(rec.sku.clone(), rec.location_id.clone())).unwrap_or_default();
                if rec.level.held != held || rec.level.allocated != allocated || !conserved {
                    report.stock.push(StockDifference {
                        sku: rec.sku,
                        location_id: rec.location_id,
                        level: rec.level,
                        orders_held: held,
                        orders_allocated: allocated,
                    });
                }
            }
        }
        // Reservations on stock items that do not exist.
        for ((sku, location_id), (held, allocated)) in owned {
            report.stock.push(StockDifference {
                sku,
                location_id,
                level: StockLevel::default(),
                orders_held: held,
                orders_allocated: allocated,
            });
        }
        if report.differences() > 0 {
            tracing::error!(differences = report.differences(), "reconciliation found differences");
        } else {
            tracing::info!(orders = report.orders_checked, stock_items = report.stock_items_checked, "reconciled");
        }
        Ok(report)
    }
}
