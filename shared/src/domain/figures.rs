//! The analytics figures of a range of days, summed from the rows `analytics::contribution`
//! writes: the one definition of each figure (`docs/analytics/README.md` says them in words,
//! `docs/analytics/queries/` in SQL).

use super::analytics::{BUCKETS, Counters, RowKey};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// One figure row parsed from its key.
enum Row<'a> {
    Dims { channel: &'a str, location: &'a str, currency: &'a str },
    Skus { channel: &'a str },
}

fn parse(row: &str) -> Option<Row<'_>> {
    if let Some(rest) = row.strip_prefix("C#") {
        let (channel, rest) = rest.split_once("#L#")?;
        let (location, currency) = rest.rsplit_once('#')?;
        return Some(Row::Dims { channel, location, currency });
    }
    let rest = row.strip_prefix("S#")?;
    let (channel, _) = rest.rsplit_once('#')?;
    Some(Row::Skus { channel })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Amount {
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Speed {
    pub count: i64,
    pub p50_minutes: Option<u32>,
    pub p90_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fulfillment {
    pub ready_to_ship: Speed,
    pub delivered: Speed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkuUnits {
    pub sku: String,
    pub units: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelFigures {
    pub channel: String,
    pub orders: i64,
    pub net_sales: Vec<Amount>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationFigures {
    pub location_id: String,
    pub orders: i64,
    pub units: i64,
}

/// A carrier's delivered orders and how many arrived by the promised date.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CarrierFigures {
    pub carrier: String,
    pub delivered: i64,
    pub on_time: i64,
    pub on_time_rate: Option<f64>,
}

/// The figures of a range.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub channel: Option<String>,
    pub orders: i64,
    pub cancelled: i64,
    pub units: i64,
    pub net_sales: Vec<Amount>,
    pub aov: Vec<Amount>,
    pub returns: i64,
    pub return_rate: Option<f64>,
    pub accurate: i64,
    pub accuracy: Option<f64>,
    pub delivered: i64,
    pub on_time: i64,
    pub on_time_rate: Option<f64>,
    pub fulfillment: Fulfillment,
    pub top_skus: Vec<SkuUnits>,
    pub by_channel: Vec<ChannelFigures>,
    pub by_location: Vec<LocationFigures>,
    /// On-time delivery per carrier (1.11.0).
    pub by_carrier: Vec<CarrierFigures>,
}

/// Counters summed over rows, with the per-currency and per-dimension splits kept.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    pub all: Counters,
    /// Per currency: orders, cancelled, net.
    pub currency: BTreeMap<String, Counters>,
    pub channel: BTreeMap<String, (i64, BTreeMap<String, i64>)>,
    pub location: BTreeMap<String, (i64, i64)>,
    pub skus: BTreeMap<String, i64>,
}

impl Totals {
    fn get(&self, k: &str) -> i64 {
        self.all.get(k).copied().unwrap_or(0)
    }
}

/// Sums the rows of `[from, to]` (optionally one channel).
pub fn totals<'a>(
    rows: impl IntoIterator<Item = (&'a RowKey, &'a Counters)>,
    from: NaiveDate,
    to: NaiveDate,
    channel: Option<&str>,
) -> Totals {
    let mut t = Totals::default();
    for (k, counters) in rows {
        if k.day < from || k.day > to {
            continue;
        }
        match parse(&k.row) {
            Some(Row::Dims { channel: c, location, currency }) if channel.is_none_or(|x| x == c) => {
                for (name, v) in counters {
                    *t.all.entry(name.clone()).or_insert(0) += v;
                }
                let get = |n: &str| counters.get(n).copied().unwrap_or(0);
                let cur = t.currency.entry(currency.to_owned()).or_default();
                for n in ["orders", "cancelled", "net"] {
                    *cur.entry(n.to_owned()).or_insert(0) += get(n);
                }
                let ch = t.channel.entry(c.to_owned()).or_default();
                ch.0 += get("orders");
                *ch.1.entry(currency.to_owned()).or_insert(0) += get("net");
                let loc = t.location.entry(location.to_owned()).or_default();
                loc.0 += get("orders");
                loc.1 += get("units");
            }
            Some(Row::Skus { channel: c }) if channel.is_none_or(|x| x == c) => {
                for (name, v) in counters {
                    if let Some(sku) = name.strip_prefix("u:") {
                        *t.skus.entry(sku.to_owned()).or_insert(0) += v;
                    }
                }
            }
            _ => {}
        }
    }
    t
}

fn rate(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Integer division rounding half away from zero (net sales are never negative).
fn average(sum: i64, n: i64) -> Option<i64> {
    (n > 0).then(|| (2 * sum + n).div_euclid(2 * n))
}

/// The upper bound of the bucket holding the `pct`th percentile of a bucket histogram.
fn percentile(t: &Totals, prefix: &str, pct: i64) -> Option<u32> {
    let hist: Vec<i64> = (0..BUCKETS.len()).map(|i| t.get(&format!("{prefix}{i}"))).collect();
    let count: i64 = hist.iter().sum();
    if count <= 0 {
        return None;
    }
    let k = ((pct * count + 99) / 100).max(1);
    let mut seen = 0;
    for (i, n) in hist.iter().enumerate() {
        seen += n;
        if seen >= k {
            return Some(BUCKETS[i]);
        }
    }
    BUCKETS.last().copied()
}

fn amounts(m: &BTreeMap<String, i64>) -> Vec<Amount> {
    m.iter().filter(|(_, v)| **v != 0).map(|(c, v)| Amount { amount: *v, currency: c.clone() }).collect()
}

impl Totals {
    pub fn live(&self) -> i64 {
        self.get("orders") - self.get("cancelled")
    }

    pub fn net_sales(&self) -> BTreeMap<String, i64> {
        self.currency.iter().map(|(c, m)| (c.clone(), m.get("net").copied().unwrap_or(0))).collect()
    }

    /// Average order value per currency: net sales over the orders not cancelled.
    pub fn aov(&self) -> BTreeMap<String, i64> {
        self.currency
            .iter()
            .filter_map(|(c, m)| {
                let g = |n: &str| m.get(n).copied().unwrap_or(0);
                average(g("net"), g("orders") - g("cancelled")).map(|a| (c.clone(), a))
            })
            .collect()
    }

    pub fn speed(&self, prefix: &str) -> Speed {
        let count = (0..BUCKETS.len()).map(|i| self.get(&format!("{prefix}{i}"))).sum();
        Speed { count, p50_minutes: percentile(self, prefix, 50), p90_minutes: percentile(self, prefix, 90) }
    }

    pub fn summary(&self, from: NaiveDate, to: NaiveDate, channel: Option<&str>) -> Summary {
        let live = self.live();
        let mut top: Vec<SkuUnits> =
            self.skus.iter().filter(|(_, u)| **u != 0).map(|(s, u)| SkuUnits { sku: s.clone(), units: *u }).collect();
        top.sort_by(|a, b| b.units.cmp(&a.units).then_with(|| a.sku.cmp(&b.sku)));
        top.truncate(10);
        Summary {
            from,
            to,
            channel: channel.map(str::to_owned),
            orders: self.get("orders"),
            cancelled: self.get("cancelled"),
            units: self.get("units"),
            net_sales: amounts(&self.net_sales()),
            aov: self.aov().into_iter().map(|(currency, amount)| Amount { amount, currency }).collect(),
            returns: self.get("returned"),
            return_rate: rate(self.get("returned"), live),
            accurate: self.get("accurate"),
            accuracy: rate(self.get("accurate"), live),
            delivered: self.get("delivered"),
            on_time: self.get("onTime"),
            on_time_rate: rate(self.get("onTime"), self.get("delivered")),
            fulfillment: Fulfillment { ready_to_ship: self.speed("rts"), delivered: self.speed("dlv") },
            top_skus: top,
            by_channel: self
                .channel
                .iter()
                .filter(|(_, (o, _))| *o != 0)
                .map(|(c, (o, net))| ChannelFigures { channel: c.clone(), orders: *o, net_sales: amounts(net) })
                .collect(),
            by_location: self
                .location
                .iter()
                .filter(|(_, (o, _))| *o != 0)
                .map(|(l, (o, u))| LocationFigures { location_id: l.clone(), orders: *o, units: *u })
                .collect(),
            by_carrier: self
                .all
                .iter()
                .filter_map(|(k, v)| k.strip_prefix("dv:").map(|c| (c, *v)))
                .filter(|(_, delivered)| *delivered != 0)
                .map(|(c, delivered)| {
                    let on_time = self.get(&format!("ot:{c}"));
                    CarrierFigures { carrier: c.to_owned(), delivered, on_time, on_time_rate: rate(on_time, delivered) }
                })
                .collect(),
        }
    }
}

/// The metrics a time series may show.
pub const METRICS: [&str; 12] = [
    "orders",
    "cancelled",
    "units",
    "netSales",
    "aov",
    "returnRate",
    "accuracy",
    "onTimeRate",
    "readyToShipP50Minutes",
    "readyToShipP90Minutes",
    "deliveredP50Minutes",
    "deliveredP90Minutes",
];

/// Whether a metric is money (needs a currency).
pub fn is_money(metric: &str) -> bool {
    matches!(metric, "netSales" | "aov")
}

/// One metric of a day's (or week's) totals; `None` when there is nothing to divide by.
/// One value of a metric: counts, money (minor units) and minutes are whole numbers; only
/// rates are fractions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MetricValue {
    Whole(i64),
    Rate(f64),
}

impl MetricValue {
    pub fn as_f64(self) -> f64 {
        match self {
            MetricValue::Whole(n) => n as f64,
            MetricValue::Rate(r) => r,
        }
    }
}

pub fn metric(t: &Totals, metric: &str, currency: Option<&str>) -> Option<MetricValue> {
    use MetricValue::{Rate, Whole};
    let cur = |m: BTreeMap<String, i64>| currency.and_then(|c| m.get(c).copied());
    Some(match metric {
        "orders" => Whole(t.get("orders")),
        "cancelled" => Whole(t.get("cancelled")),
        "units" => Whole(t.get("units")),
        "netSales" => Whole(cur(t.net_sales()).unwrap_or(0)),
        "aov" => Whole(cur(t.aov())?),
        "returnRate" => Rate(rate(t.get("returned"), t.live())?),
        "accuracy" => Rate(rate(t.get("accurate"), t.live())?),
        "onTimeRate" => Rate(rate(t.get("onTime"), t.get("delivered"))?),
        "readyToShipP50Minutes" => Whole(i64::from(percentile(t, "rts", 50)?)),
        "readyToShipP90Minutes" => Whole(i64::from(percentile(t, "rts", 90)?)),
        "deliveredP50Minutes" => Whole(i64::from(percentile(t, "dlv", 50)?)),
        "deliveredP90Minutes" => Whole(i64::from(percentile(t, "dlv", 90)?)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(day: u32, row: &str, c: &[(&str, i64)]) -> (RowKey, Counters) {
        (
            RowKey { day: NaiveDate::from_ymd_opt(2026, 12, day).unwrap(), shard: 0, row: row.into() },
            c.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        )
    }

    #[test]
    fn a_summary_sums_days_channels_and_shards() {
        let rows = [
            row(
                1,
                "C#web#L#WH-1#EUR",
                &[("orders", 3), ("cancelled", 1), ("net", 1001), ("units", 4), ("rts0", 1), ("rts5", 1)],
            ),
            row(2, "C#app#L#WH-2#EUR", &[("orders", 1), ("net", 500), ("returned", 1), ("accurate", 1)]),
            row(2, "S#web#3", &[("u:A", 3), ("u:B", 1)]),
            row(9, "C#web#L#WH-1#EUR", &[("orders", 100)]),
        ];
        let from = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let t = totals(rows.iter().map(|(k, c)| (k, c)), from, to, None);
        let s = t.summary(from, to, None);
        assert_eq!((s.orders, s.cancelled, s.units), (4, 1, 4));
        assert_eq!(s.net_sales, vec![Amount { amount: 1501, currency: "EUR".into() }]);
        assert_eq!(s.aov, vec![Amount { amount: 500, currency: "EUR".into() }], "1501 / 3 = 500.33");
        assert_eq!(s.return_rate, Some(1.0 / 3.0));
        assert_eq!(s.fulfillment.ready_to_ship, Speed { count: 2, p50_minutes: Some(1), p90_minutes: Some(120) });
        assert_eq!(s.top_skus[0], SkuUnits { sku: "A".into(), units: 3 });
        let web = totals(rows.iter().map(|(k, c)| (k, c)), from, to, Some("web")).summary(from, to, Some("web"));
        assert_eq!((web.orders, web.returns), (3, 0));
        assert_eq!(metric(&t, "aov", Some("EUR")), Some(MetricValue::Whole(500)));
        assert_eq!(metric(&t, "onTimeRate", None), None);
    }
}
