//! Order analytics: the consumer that keeps each order's fact and the counter rows up to date
//! (run for every integration event that may move a figure, from its own queue behind the
//! bus), the figures of a range, time series, customers' lifetime figures, and rebuilds.

use super::{AppError, Caller, Permission};
use crate::domain::analytics::{Counters, OrderFact, RowKey, contribution, delta, fact_of, merge_rows};
use crate::domain::figures::{self, METRICS, Summary, Totals};
use crate::domain::{CustomerId, OrderId};
use crate::ports::{Clock, FactCommit, Listing, MAX_FACT_COMMIT_ITEMS, Store, StoreError};
use chrono::{Datelike, Duration, NaiveDate};
use futures::StreamExt;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The longest range a summary, a time series or a rebuild covers.
pub const MAX_DAYS: i64 = 366;

#[derive(Clone)]
pub struct Analytics {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

/// What recording one order's fact writes.
struct Prepared {
    previous: Option<OrderFact>,
    next: OrderFact,
    rows: BTreeMap<RowKey, Counters>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub date: NaiveDate,
    pub value: Option<figures::MetricValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub metric: String,
    pub interval: String,
    pub currency: Option<String>,
    pub points: Vec<Point>,
}

/// The query of a summary or series: a range of placement days and an optional channel.
#[derive(Debug, Clone, Default)]
pub struct RangeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub channel: Option<String>,
}

const MIN_YEAR: i32 = 2000;
const MAX_YEAR: i32 = 2999;
const DAY_FORMAT: &str = "expected a date as YYYY-MM-DD between 2000-01-01 and 2999-12-31";

/// A day written exactly `YYYY-MM-DD` (no sign, no short fields, no spaces) within the years
/// an order can have.
fn parse_day(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().filter(|_| shape)?;
    (MIN_YEAR..=MAX_YEAR).contains(&d.year()).then_some(d)
}

const CHANNELS: [&str; 5] = ["web", "app", "call_center", "store", "marketplace"];

fn allowed(c: &Caller) -> Result<(), AppError> {
    if c.may(Permission::Analytics) { Ok(()) } else { Err(AppError::Forbidden) }
}

impl Analytics {
    fn range(&self, q: &RangeQuery) -> Result<(NaiveDate, NaiveDate, Option<String>), AppError> {
        let day = |field: &str, v: &Option<String>| -> Result<Option<NaiveDate>, AppError> {
            v.as_deref().map(|s| parse_day(s).ok_or_else(|| AppError::invalid_field(field, DAY_FORMAT))).transpose()
        };
        let to = day("to", &q.to)?.unwrap_or_else(|| self.clock.now().date_naive());
        let from = match day("from", &q.from)? {
            Some(from) => from,
            None => to.checked_sub_signed(Duration::days(29)).filter(|d| d.year() >= MIN_YEAR).unwrap_or(to),
        };
        if from > to {
            return Err(AppError::invalid_field("from", "must not be after `to`"));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(AppError::invalid_field("from", format!("a range covers at most {MAX_DAYS} days")));
        }
        if let Some(c) = &q.channel
            && !CHANNELS.contains(&c.as_str())
        {
            return Err(AppError::invalid_field("channel", format!("expected one of {}", CHANNELS.join(", "))));
        }
        Ok((from, to, q.channel.clone()))
    }

    /// Customer satisfaction of the surveys answered in the range (its days inclusive).
    pub async fn csat(&self, c: &Caller, q: &RangeQuery) -> Result<crate::domain::feedback::Csat, AppError> {
        allowed(c)?;
        let (from, to, _) = self.range(q)?;
        let start = from.and_time(chrono::NaiveTime::MIN).and_utc();
        let end = (to + Duration::days(1)).and_time(chrono::NaiveTime::MIN).and_utc();
        Ok(crate::domain::feedback::csat(&self.store.answered_feedback(start, end).await?))
    }

    /// Brings an order's fact up to date with the order as it is; `true` when anything was
    /// written. A duplicated or late event finds the fact as it should be and writes nothing.
    #[tracing::instrument(skip_all, fields(order_id = %order))]
    pub async fn record(&self, order: &OrderId) -> Result<bool, StoreError> {
        self.apply(order, false).await
    }

    /// Brings several orders' facts up to date (a batch of events, one entry per order): the
    /// facts commit together with the rows they share, written once per batch rather than per
    /// order. A batch refused because one fact moved meanwhile is recorded order by order.
    /// Returns, per order in the order given, whether anything was written.
    #[tracing::instrument(skip_all, fields(orders = orders.len()))]
    pub async fn record_many(&self, orders: &[OrderId]) -> Vec<Result<bool, StoreError>> {
        // An order named twice is recorded once (one transaction cannot write an item twice).
        let mut unique: Vec<OrderId> = Vec::new();
        let slots: Vec<usize> = orders
            .iter()
            .map(|o| match unique.iter().position(|u| u == o) {
                Some(i) => i,
                None => {
                    unique.push(o.clone());
                    unique.len() - 1
                }
            })
            .collect();
        let results = self.record_unique(&unique).await;
        slots.into_iter().map(|i| results[i].clone()).collect()
    }

    async fn record_unique(&self, orders: &[OrderId]) -> Vec<Result<bool, StoreError>> {
        let prepared: Vec<Result<Option<Prepared>, StoreError>> = futures::stream::iter(orders.iter().cloned())
            .map(|o| async move { self.prepare(&o, false).await })
            .buffered(8)
            .collect()
            .await;
        let mut out: Vec<Option<Result<bool, StoreError>>> = vec![None; orders.len()];
        let mut chunk: Vec<(usize, Prepared)> = Vec::new();
        let mut chunk_rows: BTreeMap<RowKey, Counters> = BTreeMap::new();
        for (i, p) in prepared.into_iter().enumerate() {
            match p {
                Err(e) => out[i] = Some(Err(e)),
                Ok(None) => out[i] = Some(Ok(false)),
                Ok(Some(p)) => {
                    let rows = merge_rows([&chunk_rows, &p.rows]);
                    if !chunk.is_empty() && chunk.len() + 1 + rows.len() > MAX_FACT_COMMIT_ITEMS {
                        self.commit_chunk(orders, std::mem::take(&mut chunk), &mut out).await;
                        chunk_rows = p.rows.clone();
                    } else {
                        chunk_rows = rows;
                    }
                    chunk.push((i, p));
                }
            }
        }
        self.commit_chunk(orders, chunk, &mut out).await;
        out.into_iter().map(|r| r.unwrap_or(Ok(false))).collect()
    }

    async fn commit_chunk(
        &self,
        orders: &[OrderId],
        chunk: Vec<(usize, Prepared)>,
        out: &mut [Option<Result<bool, StoreError>>],
    ) {
        if chunk.is_empty() {
            return;
        }
        let rows = merge_rows(chunk.iter().map(|(_, p)| &p.rows));
        let facts: Vec<FactCommit<'_>> =
            chunk.iter().map(|(_, p)| FactCommit { previous: p.previous.as_ref(), next: &p.next }).collect();
        match self.store.commit_facts(&facts, &rows).await {
            Ok(()) => {
                tracing::info!(orders = chunk.len(), rows = rows.len(), "analytics recorded");
                for (i, _) in &chunk {
                    out[*i] = Some(Ok(true));
                }
            }
            // One fact moved since it was read (another consumer, a rebuild): each order again
            // on its own, from a fresh read.
            Err(StoreError::StaleVersion | StoreError::Conflict | StoreError::TooLarge(_)) => {
                for (i, _) in &chunk {
                    out[*i] = Some(self.apply(&orders[*i], false).await);
                }
            }
            Err(e) => {
                for (i, _) in &chunk {
                    out[*i] = Some(Err(e.clone()));
                }
            }
        }
    }

    async fn fact_now(&self, order: &OrderId) -> Result<Option<OrderFact>, StoreError> {
        let Some(f) = self.store.get_order_file(order).await? else { return Ok(None) };
        Ok(Some(fact_of(&f.view.order, &f.view.shipments, &f.view.timeline, &f.returns, &f.cases)))
    }

    /// What recording an order's fact would write (`None`: nothing, the fact is as it should
    /// be). `reset`: the rows were cleared, so the whole contribution is added again.
    async fn prepare(&self, order: &OrderId, reset: bool) -> Result<Option<Prepared>, StoreError> {
        let Some(next) = self.fact_now(order).await? else {
            tracing::warn!(order_id = %order, "analytics for an order that is not there: skipped");
            return Ok(None);
        };
        let previous = self.store.order_fact(order).await?;
        // Nothing to write when the stored fact is newer, or says the same as the order does now
        // but for the version (an event that moves no figure: the fact is not rewritten, at 2
        // units in the batch's transaction, only to carry the new version).
        let same_figures = |p: &OrderFact| OrderFact { version: next.version, ..p.clone() } == next;
        if !reset && previous.as_ref().is_some_and(|p| p.version > next.version || same_figures(p)) {
            return Ok(None);
        }
        let rows = if reset { contribution(&next) } else { delta(previous.as_ref(), &next) };
        Ok(Some(Prepared { previous, next, rows }))
    }

    async fn apply(&self, order: &OrderId, reset: bool) -> Result<bool, StoreError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let Some(p) = self.prepare(order, reset).await? else { return Ok(false) };
            let commit = FactCommit { previous: p.previous.as_ref(), next: &p.next };
            match self.store.commit_facts(&[commit], &p.rows).await {
                Ok(()) => {
                    tracing::info!(rows = p.rows.len(), version = p.next.version, "analytics recorded");
                    return Ok(true);
                }
                Err(StoreError::StaleVersion | StoreError::Conflict) if attempts < 8 => continue,
                Err(e) => return Err(e),
            }
        }
    }

    async fn totals(&self, from: NaiveDate, to: NaiveDate, channel: Option<&str>) -> Result<Totals, AppError> {
        let rows = self.store.rows(from, to).await?;
        Ok(figures::totals(rows.iter(), from, to, channel))
    }

    pub async fn summary(&self, c: &Caller, q: &RangeQuery) -> Result<Summary, AppError> {
        allowed(c)?;
        let (from, to, channel) = self.range(q)?;
        Ok(self.totals(from, to, channel.as_deref()).await?.summary(from, to, channel.as_deref()))
    }

    /// A metric per day, week (from Monday) or month, every period of the range present.
    pub async fn timeseries(
        &self,
        c: &Caller,
        q: &RangeQuery,
        metric: &str,
        interval: &str,
        currency: Option<&str>,
    ) -> Result<Series, AppError> {
        allowed(c)?;
        let (from, to, channel) = self.range(q)?;
        if !METRICS.contains(&metric) {
            return Err(AppError::invalid_field("metric", format!("expected one of {}", METRICS.join(", "))));
        }
        let start_of = |d: NaiveDate| -> NaiveDate {
            match interval {
                "week" => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
                "month" => d.with_day(1).unwrap_or(d),
                _ => d,
            }
        };
        if !matches!(interval, "day" | "week" | "month") {
            return Err(AppError::invalid_field("interval", "expected day, week or month"));
        }
        let rows = self.store.rows(from, to).await?;
        let all = figures::totals(rows.iter(), from, to, channel.as_deref());
        if let Some(c) = currency
            && (c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(AppError::invalid_field("currency", "expected a three-letter ISO 4217 code such as USD"));
        }
        let currency = match currency {
            // Only money is per currency: the other metrics count every order.
            _ if !figures::is_money(metric) => None,
            Some(c) => Some(c.to_owned()),
            None if figures::is_money(metric) => match all.currency.keys().collect::<Vec<_>>()[..] {
                [] => None,
                [only] => Some(only.clone()),
                _ => return Err(AppError::invalid_field("currency", "the range has several currencies: name one")),
            },
            None => None,
        };
        let mut points = Vec::new();
        let mut day = from;
        while day <= to {
            let start = start_of(day);
            let end = match interval {
                "week" => start + Duration::days(6),
                "month" => (start + Duration::days(32)).with_day(1).map(|d| d - Duration::days(1)).unwrap_or(start),
                _ => start,
            }
            .min(to);
            // Rows are ordered by day: each period reads only its own.
            let first = RowKey { day, shard: 0, row: String::new() };
            let period = rows.range(first..).take_while(|(k, _)| k.day <= end);
            let t = figures::totals(period, day, end, channel.as_deref());
            points.push(Point { date: start, value: figures::metric(&t, metric, currency.as_deref()) });
            day = end + Duration::days(1);
        }
        Ok(Series { metric: metric.to_owned(), interval: interval.to_owned(), currency, points })
    }

    pub async fn customer(
        &self,
        c: &Caller,
        id: &CustomerId,
    ) -> Result<crate::domain::analytics::CustomerFigures, AppError> {
        allowed(c)?;
        let orders = self.store.customer_orders_up_to(id, usize::MAX).await?;
        crate::domain::analytics::customer_figures(id, &orders).ok_or(AppError::NotFound)
    }

    /// Records the fact of every order placed in `[from, to]` again from the order itself:
    /// what a lost event left behind is caught up. With `reset` the days' rows are cleared
    /// first and rebuilt from the orders (the analytics queue paused meanwhile). Returns the
    /// orders seen.
    #[tracing::instrument(skip_all)]
    pub async fn rebuild(&self, c: &Caller, q: &RangeQuery, reset: bool) -> Result<usize, AppError> {
        allowed(c)?;
        let (from, to, _) = self.range(q)?;
        if !reset {
            return self.record_range(from, to, false).await;
        }
        // One reset at a time: two would each add every order's contribution again.
        let owner = ulid::Ulid::new().to_string();
        let until = (self.clock.now() + Duration::minutes(15)).timestamp();
        self.store.claim_rebuild(&owner, until).await.map_err(|e| match e {
            StoreError::AlreadyExists => AppError::Conflict {
                kind: "rebuild-running",
                detail: "a reset rebuild is running: retry when it is done".into(),
            },
            e => e.into(),
        })?;
        let done = async {
            let removed = self.store.clear_rows(from, to).await?;
            tracing::info!(removed, "analytics rows cleared");
            self.record_range(from, to, true).await
        }
        .await;
        self.store.release_rebuild(&owner).await?;
        done
    }

    /// Records every order placed in `[from, to]` again; returns how many.
    async fn record_range(&self, from: NaiveDate, to: NaiveDate, reset: bool) -> Result<usize, AppError> {
        let since = from.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        let mut cursor: Option<String> = None;
        let mut seen = 0;
        loop {
            let page = self.store.all_orders(Listing::first(100).since(since).after(cursor.as_deref())).await?;
            let ids: Vec<OrderId> = page
                .items
                .iter()
                .filter(|o| o.created_at.date_naive() >= from && o.created_at.date_naive() <= to)
                .map(|o| o.id.clone())
                .collect();
            if reset {
                for id in &ids {
                    self.apply(id, true).await?;
                }
            } else {
                for r in self.record_many(&ids).await {
                    r?;
                }
            }
            seen += ids.len();
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        tracing::info!(orders = seen, "analytics rebuilt");
        Ok(seen)
    }
}

/// The order an analytics queue message is about: the bus's envelope carries the integration
/// event as `detail`. `None` for a message that is not one (logged and dropped: a retry would
/// not make it one).
pub fn order_of_message(body: &str) -> Option<OrderId> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    OrderId::parse(v.get("detail")?.get("orderId")?.as_str()?).ok()
}
