//! Returns (RMAs): eligibility and refund amounts. Pure.

use super::ids::{CustomerId, LocationId, OrderId, ReturnId, Sku};
use super::money::{Money, MoneyError};
use super::order::{Order, Shipment, ShipmentStatus};
use super::pricing::LineRequest;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    Damaged,
    WrongItem,
    NotAsDescribed,
    DoesNotFit,
    NoLongerNeeded,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Refund,
    Exchange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    /// Label issued, waiting for the parcel.
    Issued,
    InTransit,
    /// The carrier delivered it to the location; waiting for inspection.
    Arrived,
    PartiallyReceived,
    /// Every unit inspected; refunds (or the exchange) done.
    Completed,
}

impl ReturnStatus {
    fn rank(self) -> u8 {
        match self {
            ReturnStatus::Issued => 0,
            ReturnStatus::InTransit => 1,
            ReturnStatus::Arrived => 2,
            ReturnStatus::PartiallyReceived => 3,
            ReturnStatus::Completed => 4,
        }
    }

    /// The return's machine: it only moves forward (carrier scans and receipts arrive late,
    /// twice, out of order); `None` when `to` is not ahead.
    pub fn advance(self, to: ReturnStatus) -> Option<ReturnStatus> {
        (to.rank() > self.rank()).then_some(to)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    Resellable,
    Damaged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnLine {
    pub line_id: String,
    pub sku: Sku,
    pub quantity: u32,
    pub reason: ReturnReason,
    #[serde(default)]
    pub received_resellable: u32,
    #[serde(default)]
    pub received_damaged: u32,
    /// Refunded so far for this line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded: Option<Money>,
    /// An exchange's line: what its units received are worth, fixed at each receipt (the
    /// next units' share of the order line, after other returns' units), credited to the
    /// replacement once all are in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credited: Option<Money>,
    /// Receipts processed for this line (part of each refund's idempotency key).
    #[serde(default)]
    pub receipts: u32,
    /// Where this line's units go back on the shelf, unit by unit in order: the locations they
    /// shipped from (empty on returns recorded before lines carried it: the return's location).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<ReturnOrigin>,
}

/// Units of a return line that shipped from one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnOrigin {
    pub location_id: LocationId,
    pub quantity: u32,
}

impl ReturnLine {
    pub fn received(&self) -> u32 {
        self.received_resellable + self.received_damaged
    }

    /// Where the next `qty` units received go back: the origins in order, after the units
    /// already received (`fallback` for units no origin covers).
    pub fn restock_at(&self, qty: u32, fallback: &LocationId) -> Vec<(LocationId, u32)> {
        let mut skip = self.received();
        let mut left = qty;
        let mut out: Vec<(LocationId, u32)> = Vec::new();
        for o in &self.origins {
            let here = o.quantity.saturating_sub(skip);
            skip = skip.saturating_sub(o.quantity);
            let take = here.min(left);
            if take > 0 {
                out.push((o.location_id.clone(), take));
                left -= take;
            }
        }
        if left > 0 {
            out.push((fallback.clone(), left));
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnLabel {
    pub carrier: String,
    pub tracking_number: String,
    pub label_id: String,
    /// The carrier service bought, and where the carrier keeps the document (the OMS does not
    /// store it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rma {
    pub id: ReturnId,
    pub order_id: OrderId,
    pub customer: CustomerId,
    pub lines: Vec<ReturnLine>,
    pub resolution: Resolution,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchange_lines: Vec<LineRequest>,
    pub status: ReturnStatus,
    /// Where the parcel goes back to (the location it shipped from).
    pub location_id: LocationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<ReturnLabel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_order_id: Option<OrderId>,
    /// When the credit the replacement used went back to the original payment, its
    /// replacement cancelled or failed before shipping (at most once: a condition of this
    /// write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_returned_at: Option<DateTime<Utc>>,
    /// Receipts applied under an `Idempotency-Key`: `<key digest>:<request digest>` each, so a
    /// receipt sent again (its answer lost) changes nothing, by a condition of this write.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub receipt_keys: Vec<String>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Rma {
    pub fn fully_received(&self) -> bool {
        self.lines.iter().all(|l| l.received() >= l.quantity)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("line {0} is not on this order")]
    UnknownLine(String),
    #[error("line {0} has not been delivered")]
    NotDelivered(String),
    #[error("the return window for line {0} has closed")]
    WindowClosed(String),
    #[error("line {line} allows at most {allowed} more unit(s) to be returned")]
    TooMany { line: String, allowed: u32 },
    #[error("line {0} cannot be returned")]
    NotReturnable(String),
    #[error("a return needs at least one line, each line at most once, quantities of at least 1")]
    Empty,
    #[error("an exchange needs exchangeLines; a refund must not have them")]
    ExchangeLines,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReturnRequestLine {
    pub line_id: String,
    pub quantity: u32,
    pub reason: ReturnReason,
}

/// Units of a line delivered, and when the last of them arrived.
pub fn delivered(line_id: &str, shipments: &[Shipment]) -> (u32, Option<DateTime<Utc>>) {
    shipments
        .iter()
        .filter(|s| s.status == ShipmentStatus::Delivered)
        .flat_map(|s| {
            s.lines
                .iter()
                .filter(|l| l.line_id == line_id)
                .map(move |l| (l.quantity, s.delivered_at.or(Some(s.updated_at))))
        })
        .fold((0, None), |(q, at), (n, d)| (q + n, at.max(d)))
}

/// Checks a return request against what was delivered, what is already being returned, the
/// products' return windows and returnability.
/// Where `qty` units of a line shipped from, after the `already` units other returns took:
/// the delivered shipments' locations, unit by unit in shipment order.
fn shipped_from(line_id: &str, shipments: &[Shipment], already: u32, qty: u32) -> Vec<ReturnOrigin> {
    let mut skip = already;
    let mut left = qty;
    let mut out: Vec<ReturnOrigin> = Vec::new();
    for s in shipments.iter().filter(|s| s.status == ShipmentStatus::Delivered) {
        for l in s.lines.iter().filter(|l| l.line_id == line_id) {
            let here = l.quantity.saturating_sub(skip);
            skip = skip.saturating_sub(l.quantity);
            let take = here.min(left);
            if take > 0 {
                match out.iter_mut().find(|o| o.location_id == s.location_id) {
                    Some(o) => o.quantity += take,
                    None => out.push(ReturnOrigin { location_id: s.location_id.clone(), quantity: take }),
                }
                left -= take;
            }
        }
    }
    out
}

pub fn check_eligibility(
    order: &Order,
    shipments: &[Shipment],
    existing: &[Rma],
    request: &[ReturnRequestLine],
    now: DateTime<Utc>,
) -> Result<Vec<ReturnLine>, ReturnError> {
    if request.is_empty() || request.iter().any(|l| l.quantity == 0) {
        return Err(ReturnError::Empty);
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for r in request {
        if !seen.insert(&r.line_id) {
            return Err(ReturnError::Empty);
        }
        let line = order
            .lines
            .iter()
            .find(|l| l.line_id == r.line_id)
            .ok_or_else(|| ReturnError::UnknownLine(r.line_id.clone()))?;
        if !line.returnable {
            return Err(ReturnError::NotReturnable(r.line_id.clone()));
        }
        let (qty, at) = delivered(&r.line_id, shipments);
        let Some(at) = at.filter(|_| qty > 0) else { return Err(ReturnError::NotDelivered(r.line_id.clone())) };
        if now > at + Duration::days(i64::from(line.return_window_days)) {
            return Err(ReturnError::WindowClosed(r.line_id.clone()));
        }
        let already: u32 =
            existing.iter().flat_map(|m| m.lines.iter()).filter(|l| l.line_id == r.line_id).map(|l| l.quantity).sum();
        let allowed = qty.saturating_sub(already);
        if r.quantity > allowed {
            return Err(ReturnError::TooMany { line: r.line_id.clone(), allowed });
        }
        out.push(ReturnLine {
            line_id: r.line_id.clone(),
            sku: line.sku.clone(),
            quantity: r.quantity,
            reason: r.reason,
            received_resellable: 0,
            received_damaged: 0,
            refunded: None,
            credited: None,
            receipts: 0,
            origins: shipped_from(&r.line_id, shipments, already, r.quantity),
        });
    }
    Ok(out)
}

/// What `units` more of an order line are worth when `before` of its units already came back
/// (shipping is not refunded: it paid for a delivery that happened):
/// the line's share up to them less its share up to before, so receipts of one unit at a time
/// add up to the line's price to the cent (each rounds against the same total).
pub fn refund_for_units(order: &Order, line_id: &str, before: u32, units: u32) -> Result<Money, MoneyError> {
    let currency = order.totals.total.currency();
    match order.lines.iter().find(|l| l.line_id == line_id) {
        Some(l) => {
            let total = l.net().checked_add(l.tax)?;
            let q = l.quantity.max(1);
            total.share(before.saturating_add(units).min(q), q)?.checked_sub(total.share(before.min(q), q)?)
        }
        None => Ok(Money::zero(currency)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_units_go_back_where_each_shipped_from() {
        let (tx, ca) = (LocationId::parse("WH-TX").unwrap(), LocationId::parse("WH-CA").unwrap());
        let line = ReturnLine {
            line_id: "L1".into(),
            sku: Sku::parse("A").unwrap(),
            quantity: 3,
            reason: ReturnReason::Other,
            received_resellable: 1,
            received_damaged: 0,
            refunded: None,
            credited: None,
            receipts: 1,
            origins: vec![
                ReturnOrigin { location_id: tx.clone(), quantity: 2 },
                ReturnOrigin { location_id: ca.clone(), quantity: 1 },
            ],
        };
        // One unit from WH-TX came back already: the next two are one from each.
        assert_eq!(line.restock_at(2, &tx), vec![(tx.clone(), 1), (ca.clone(), 1)]);
        assert_eq!(line.restock_at(5, &tx), vec![(tx.clone(), 1), (ca, 1), (tx, 3)], "beyond the origins: fallback");
    }
}
