//! Order analytics: what one order contributes to the figures (its *fact*), as pure code.
//!
//! The analytics consumer recomputes an order's fact from the order as it is after each event
//! that may change a figure, and commits the difference from the fact it had recorded (rows of
//! counters per placement day, shard, channel, location and currency; units per SKU) together
//! with the new fact, on condition the recorded fact is still the one it read. A duplicated or
//! late event finds the fact already at the order's version and writes nothing. Every figure
//! is a sum of counters, so any range is the sum of its days and shards; percentiles come from
//! fixed minute buckets (`BUCKETS`). `docs/analytics/README.md` defines each figure.

use super::ids::{CustomerId, OrderId};
use super::order::{Channel, Order, Shipment, TimelineEvent};
use super::returns::{ReturnReason, Rma};
use super::status::OrderStatus;
use super::support::{Case, CaseKind};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Upper bounds (minutes, inclusive) of the fulfillment-speed buckets; a value above the last
/// falls in the last.
pub const BUCKETS: [u32; 16] = [1, 5, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080, 20160, 43200];
/// Partitions a day's counters are spread over (by order id), so a busy day is not one hot key.
pub const SHARDS: u8 = 4;
/// SKU counters of a day, shard and channel are kept in this many rows (by SKU), so an order of
/// 150 lines touches at most this many SKU rows.
pub const SKU_ROWS: u8 = 8;

/// What one order contributes to the figures, at one version of the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFact {
    pub order_id: OrderId,
    /// The order's version this fact was computed from.
    pub version: u64,
    pub customer_id: CustomerId,
    /// The placement day (UTC): every figure of the order counts on this day.
    pub day: NaiveDate,
    pub placed_at: DateTime<Utc>,
    pub shard: u8,
    pub channel: Channel,
    /// Where the order ships from: its pickup location, or the location of its first line's
    /// reservation (`none` without one).
    pub location_id: String,
    pub currency: String,
    pub cancelled: bool,
    /// What the order charges (total less exchange credit) less refunds, in minor units (0 when
    /// cancelled).
    pub net: i64,
    /// Goods units (0 when cancelled).
    pub units: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skus: BTreeMap<String, i64>,
    pub returned: bool,
    /// Not cancelled, no return for a wrong or damaged item, no complaint.
    pub accurate: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rts_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_time: Option<bool>,
    /// The carrier of the order's parcels (the first labelled one's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
}

fn minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_minutes().max(0)
}

/// A small stable hash (FNV-1a) for shards and SKU rows: the same on every process.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn is_cancelled(order: &Order) -> bool {
    matches!(order.status, OrderStatus::Cancelled | OrderStatus::Failed)
}

/// What an order charges (total less exchange credit) less refunds, in minor units; 0 when
/// cancelled.
pub fn net_of(order: &Order) -> i64 {
    if is_cancelled(order) {
        return 0;
    }
    let refunded = order.payment.refunded.map(|m| m.amount()).unwrap_or(0);
    (order.payable().amount() - refunded).max(0)
}

/// The fact of an order as it stands, with its returns and cases, and its timeline (the first
/// entry at `ready_to_ship` and the delivery entry time the speed figures).
pub fn fact_of(
    order: &Order,
    shipments: &[Shipment],
    timeline: &[TimelineEvent],
    returns: &[Rma],
    cases: &[Case],
) -> OrderFact {
    let cancelled = is_cancelled(order);
    let mut skus = BTreeMap::new();
    if !cancelled {
        for l in order.goods_lines() {
            *skus.entry(l.sku.to_string()).or_insert(0) += i64::from(l.quantity);
        }
    }
    let at_status = |s: OrderStatus| timeline.iter().filter(|e| e.status == Some(s)).map(|e| e.at).min();
    // Ready: labels bought, or a pickup order's goods at the store; delivered: by the carrier,
    // or collected by the customer.
    let rts = [at_status(OrderStatus::ReadyToShip), at_status(OrderStatus::ReadyForPickup)].into_iter().flatten().min();
    let delivered = timeline
        .iter()
        .filter(|e| matches!(e.kind.as_str(), "order.delivered" | "order.collected"))
        .map(|e| e.at)
        .min();
    let wrong = returns
        .iter()
        .flat_map(|r| &r.lines)
        .any(|l| matches!(l.reason, ReturnReason::WrongItem | ReturnReason::Damaged));
    let complaint = cases.iter().any(|c| c.kind == CaseKind::Complaint);
    let location_id = order
        .delivery
        .pickup_location
        .as_ref()
        .map(|l| l.to_string())
        .or_else(|| {
            order
                .lines
                .first()
                .and_then(|first| order.reservations.iter().find(|r| r.sku == first.sku))
                .map(|r| r.location_id.to_string())
        })
        .or_else(|| order.reservations.first().map(|r| r.location_id.to_string()))
        .unwrap_or_else(|| "none".to_owned());
    OrderFact {
        order_id: order.id.clone(),
        version: order.version,
        customer_id: order.customer.clone(),
        day: order.created_at.date_naive(),
        placed_at: order.created_at,
        shard: (fnv(order.id.as_str()) % u64::from(SHARDS)) as u8,
        channel: order.channel,
        location_id,
        currency: order.totals.total.currency().to_string(),
        cancelled,
        net: net_of(order),
        units: skus.values().sum(),
        skus,
        returned: !returns.is_empty(),
        accurate: !cancelled && !wrong && !complaint,
        rts_minutes: rts.map(|t| minutes(order.created_at, t)),
        delivered_minutes: delivered.map(|t| minutes(order.created_at, t)),
        on_time: delivered.map(|t| t.date_naive() <= order.delivery.promised_by),
        carrier: shipments.iter().find_map(|s| s.carrier.clone()),
    }
}

/// The bucket a duration falls in.
pub fn bucket(minutes: i64) -> usize {
    BUCKETS.iter().position(|b| i64::from(*b) >= minutes).unwrap_or(BUCKETS.len() - 1)
}

fn channel_name(c: Channel) -> String {
    serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// One row of counters: a day and shard's partition, and the row within it (`C#<channel>#L#<location>#<currency>`
/// for an order's figures, `S#<channel>#<n>` for units per SKU, counters `u:<sku>`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowKey {
    pub day: NaiveDate,
    pub shard: u8,
    pub row: String,
}

pub type Counters = BTreeMap<String, i64>;

/// What a fact adds to the rows.
pub fn contribution(f: &OrderFact) -> BTreeMap<RowKey, Counters> {
    let mut out = BTreeMap::new();
    let channel = channel_name(f.channel);
    let key = |row: String| RowKey { day: f.day, shard: f.shard, row };
    let mut c = Counters::new();
    let mut one = |name: &str, yes: bool| {
        if yes {
            c.insert(name.to_owned(), 1);
        }
    };
    one("orders", true);
    one("cancelled", f.cancelled);
    one("returned", f.returned);
    one("accurate", f.accurate);
    one("delivered", f.delivered_minutes.is_some());
    one("onTime", f.on_time == Some(true));
    // Per carrier: delivered parcels and how many on time (`dv:<carrier>`, `ot:<carrier>`).
    if let (Some(carrier), Some(on_time)) = (&f.carrier, f.on_time) {
        one(&format!("dv:{carrier}"), true);
        one(&format!("ot:{carrier}"), on_time);
    }
    one("rts", f.rts_minutes.is_some());
    if let Some(m) = f.rts_minutes {
        c.insert(format!("rts{}", bucket(m)), 1);
    }
    if let Some(m) = f.delivered_minutes {
        c.insert(format!("dlv{}", bucket(m)), 1);
    }
    if f.net != 0 {
        c.insert("net".into(), f.net);
    }
    if f.units != 0 {
        c.insert("units".into(), f.units);
    }
    out.insert(key(format!("C#{channel}#L#{}#{}", f.location_id, f.currency)), c);
    for (sku, units) in &f.skus {
        let row = key(format!("S#{channel}#{}", fnv(sku) % u64::from(SKU_ROWS)));
        out.entry(row).or_insert_with(Counters::new).insert(format!("u:{sku}"), *units);
    }
    out
}

/// What the rows must add to go from `previous` to `next` (zero counters and rows left out).
pub fn delta(previous: Option<&OrderFact>, next: &OrderFact) -> BTreeMap<RowKey, Counters> {
    let mut out = contribution(next);
    for (k, counters) in previous.map(contribution).unwrap_or_default() {
        let row = out.entry(k).or_default();
        for (name, v) in counters {
            *row.entry(name).or_insert(0) -= v;
        }
    }
    for row in out.values_mut() {
        row.retain(|_, v| *v != 0);
    }
    out.retain(|_, r| !r.is_empty());
    out
}

/// A customer's lifetime figures, computed from their orders when asked (an agent's read):
/// nothing is written per order for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerFigures {
    pub customer_id: CustomerId,
    /// Orders not cancelled.
    pub orders: i64,
    /// Net sales per currency (minor units).
    pub revenue: BTreeMap<String, i64>,
    /// The first and last placement of any order (cancelled ones too).
    pub first_order_at: DateTime<Utc>,
    pub last_order_at: DateTime<Utc>,
    /// The sum of the orders' versions: it moves whenever any of them changes.
    pub version: u64,
}

/// A customer's figures from all their orders (`None` without any).
pub fn customer_figures(customer: &CustomerId, orders: &[Order]) -> Option<CustomerFigures> {
    let first = orders.iter().map(|o| o.created_at).min()?;
    let last = orders.iter().map(|o| o.created_at).max()?;
    let mut revenue = BTreeMap::new();
    for o in orders {
        *revenue.entry(o.totals.total.currency().to_string()).or_insert(0) += net_of(o);
    }
    revenue.retain(|_, v| *v != 0);
    Some(CustomerFigures {
        customer_id: customer.clone(),
        orders: orders.iter().filter(|o| !is_cancelled(o)).count() as i64,
        revenue,
        first_order_at: first,
        last_order_at: last,
        version: orders.iter().map(|o| o.version).sum(),
    })
}

/// The rows a set of deltas add together (zero counters and rows left out): what one
/// transaction of several orders' facts writes.
pub fn merge_rows<'a>(deltas: impl IntoIterator<Item = &'a BTreeMap<RowKey, Counters>>) -> BTreeMap<RowKey, Counters> {
    let mut out: BTreeMap<RowKey, Counters> = BTreeMap::new();
    for d in deltas {
        for (k, counters) in d {
            let row = out.entry(k.clone()).or_default();
            for (name, v) in counters {
                *row.entry(name.clone()).or_insert(0) += v;
            }
        }
    }
    for row in out.values_mut() {
        row.retain(|_, v| *v != 0);
    }
    out.retain(|_, r| !r.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact() -> OrderFact {
        OrderFact {
            order_id: OrderId::parse("01JDQ0000000000000000000AA").unwrap(),
            version: 1,
            customer_id: CustomerId::parse("cust-1").unwrap(),
            day: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            placed_at: "2026-12-01T10:00:00Z".parse().unwrap(),
            shard: 1,
            channel: Channel::Web,
            location_id: "WH-1".into(),
            currency: "EUR".into(),
            cancelled: false,
            net: 5000,
            units: 3,
            skus: [("A".to_owned(), 2), ("B".to_owned(), 1)].into(),
            returned: false,
            accurate: true,
            rts_minutes: None,
            delivered_minutes: None,
            on_time: None,
            carrier: None,
        }
    }

    #[test]
    fn a_delta_moves_only_what_changed_and_a_repeat_is_empty() {
        let placed = fact();
        let first = delta(None, &placed);
        let dims = first.iter().find(|(k, _)| k.row.starts_with("C#")).unwrap().1;
        assert_eq!(dims["orders"], 1);
        assert_eq!(dims["net"], 5000);
        assert!(delta(Some(&placed), &placed).is_empty(), "the same fact again adds nothing");
        let mut cancelled = placed.clone();
        cancelled.version = 2;
        cancelled.cancelled = true;
        cancelled.accurate = false;
        cancelled.net = 0;
        cancelled.units = 0;
        cancelled.skus.clear();
        let d = delta(Some(&placed), &cancelled);
        let dims = d.iter().find(|(k, _)| k.row.starts_with("C#")).unwrap().1;
        assert_eq!(dims.get("orders"), None);
        assert_eq!((dims["cancelled"], dims["net"], dims["units"], dims["accurate"]), (1, -5000, -3, -1));
        let skus: i64 = d.iter().filter(|(k, _)| k.row.starts_with("S#")).flat_map(|(_, c)| c.values()).sum();
        assert_eq!(skus, -3);
    }

    #[test]
    fn buckets_are_inclusive_upper_bounds_and_the_last_takes_the_rest() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(1), 0);
        assert_eq!(bucket(2), 1);
        assert_eq!(bucket(43200), 15);
        assert_eq!(bucket(1_000_000), 15);
    }

    #[test]
    fn merged_rows_add_up_and_drop_what_cancels_out() {
        let placed = fact();
        let mut cancelled = placed.clone();
        cancelled.version = 2;
        cancelled.cancelled = true;
        cancelled.net = 0;
        let a = delta(None, &placed);
        let b = delta(Some(&placed), &cancelled);
        let merged = merge_rows([&a, &b]);
        assert_eq!(merged, delta(None, &cancelled), "two steps merged are the one step");
        let mut other = placed.clone();
        other.order_id = OrderId::parse("01JDQ0000000000000000000BB").unwrap();
        let two = merge_rows([&a, &delta(None, &other)]);
        let dims = two.iter().find(|(k, _)| k.row.starts_with("C#")).unwrap().1;
        assert_eq!((dims["orders"], dims["net"]), (2, 10000));
    }
}
