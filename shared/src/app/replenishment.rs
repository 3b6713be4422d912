//! Replenishment from sales velocity: each active SKU's days of cover (what every location can
//! promise, at the forecast of `domain::forecast` from the analytics' units per day) against
//! the rules' `coverDays`, with what to order; and the scheduled alert, `inventory.cover_low`
//! once per crossing. The alert is published before the mark is set (its id is the crossing's
//! number), and the mark is set on condition it is still the one read, so a retried or
//! concurrent run publishes the same event again and never a second crossing.

use super::effects::{EffectError, Effects};
use super::{AppError, Oms};
use crate::domain::forecast::{Cover, CoverCrossing, CoverMark, Forecast, cover, cover_crossing};
use crate::domain::{ProductKind, Sku, StockRecord};
use crate::ports::{Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::BTreeMap;

/// A SKU's cover with its stock summed over locations, and its mark.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverLine {
    #[serde(flatten)]
    pub cover: Cover,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_since: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub totals: Option<StockRecord>,
    #[serde(skip)]
    pub mark: Option<CoverMark>,
}

/// Units sold per SKU per day over `[from, to]`, from the analytics' SKU rows.
fn sales(
    rows: &BTreeMap<crate::domain::analytics::RowKey, crate::domain::analytics::Counters>,
) -> BTreeMap<String, BTreeMap<NaiveDate, i64>> {
    let mut out: BTreeMap<String, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    for (k, counters) in rows.iter().filter(|(k, _)| k.row.starts_with("S#")) {
        for (name, units) in counters {
            if let Some(sku) = name.strip_prefix("u:") {
                *out.entry(sku.to_owned()).or_default().entry(k.day).or_insert(0) += units;
            }
        }
    }
    out
}

/// Every active goods SKU's cover as of `now`.
pub(crate) async fn covers(store: &dyn Store, now: DateTime<Utc>) -> Result<Vec<CoverLine>, StoreError> {
    let rules = store.current_rules().await?.set.replenishment;
    let today = now.date_naive();
    let last = today - Duration::days(1);
    let from = today - Duration::days(i64::from(rules.history_weeks) * 7);
    let sold = sales(&store.rows(from, last).await?);
    let products: Vec<_> =
        store.list_products().await?.into_iter().filter(|p| p.active && p.kind == ProductKind::Goods).collect();
    // The whole catalog's stock and marks in bulk (by key, 100 a request): a catalog of
    // hundreds of SKUs is a few requests, not hundreds.
    let skus: Vec<Sku> = products.iter().map(|p| p.sku.clone()).collect();
    // (The location list is cached per process for 30 s: a location opened since then counts
    // from the next report.)
    let locations: Vec<_> = store.list_locations().await?.into_iter().map(|l| l.id).collect();
    let mut marks = store.cover_marks(&skus).await?;
    let mut stock_of: BTreeMap<Sku, Vec<StockRecord>> = BTreeMap::new();
    for r in store.stock_for_skus(&skus, &locations).await? {
        stock_of.entry(r.sku.clone()).or_default().push(r);
    }
    let mut out = Vec::with_capacity(products.len());
    for p in products {
        let stock = stock_of.remove(&p.sku).unwrap_or_default();
        let mark = marks.remove(&p.sku);
        let totals = crate::domain::stock::per_location(stock);
        let promisable = totals.iter().map(crate::domain::inventory::promisable).sum();
        let history = sold.get(p.sku.as_str());
        let daily: Vec<i64> = (0..(last - from).num_days() + 1)
            .map(|i| history.and_then(|h| h.get(&(from + Duration::days(i)))).copied().unwrap_or(0))
            .collect();
        let c = cover(p.sku.as_str(), promisable, &Forecast::from_history(&daily, last), today, &rules);
        let sum = totals.first().map(|t| StockRecord { level: crate::domain::stock::summed(&totals), ..t.clone() });
        // The mark of a SKU back above its cover is cleared by the next hourly run.
        let low_since = mark.as_ref().and_then(|m| m.low_since).filter(|_| c.low);
        out.push(CoverLine { cover: c, low_since, totals: sum, mark });
    }
    Ok(out)
}

impl Oms {
    /// Every active goods SKU's days of cover, lowest first (none forecast to sell last).
    pub async fn replenishment(&self) -> Result<Vec<CoverLine>, AppError> {
        let mut lines = covers(self.store.as_ref(), self.clock.now()).await?;
        lines.sort_by_key(|l| (l.cover.days_of_cover.is_none(), l.cover.days_of_cover, l.cover.sku.clone()));
        Ok(lines)
    }
}

impl Effects {
    /// The scheduled cover alert: `inventory.cover_low` for each SKU that went below its
    /// cover since the last run, the mark cleared for those back above. Returns how many
    /// alerts were published.
    #[tracing::instrument(skip_all)]
    pub async fn cover_alerts(&self, now: DateTime<Utc>) -> Result<usize, EffectError> {
        use crate::domain::events::{INVENTORY_COVER_LOW, InventoryEvent, InventoryLevel};
        let mut alerts = 0;
        for line in covers(self.store.as_ref(), now).await? {
            let expected = line.mark.as_ref().map_or(0, |m| m.crossings);
            let sku = Sku::parse(&line.cover.sku).map_err(|e| EffectError::Permanent(e.to_string()))?;
            match cover_crossing(line.cover.low, line.mark.as_ref()) {
                Some(CoverCrossing::Below { n }) => {
                    let t = line.totals.as_ref().map(|t| t.level).unwrap_or_default();
                    let level = InventoryLevel {
                        available: line.cover.promisable,
                        on_hand: t.on_hand,
                        held: t.held,
                        allocated: t.allocated,
                        reorder_point: None,
                        suggested_quantity: Some(line.cover.suggested_quantity),
                        days_of_cover: line.cover.days_of_cover,
                        cover_days: Some(line.cover.cover_days),
                    };
                    let all =
                        crate::domain::LocationId::parse("ALL").map_err(|e| EffectError::Permanent(e.to_string()))?;
                    let mut e = InventoryEvent::new(sku.clone(), all, n, level, now);
                    e.kind = INVENTORY_COVER_LOW.to_owned();
                    e.id = format!("inventory.cover_low.{sku}.{n}");
                    self.bus.publish_inventory(std::slice::from_ref(&e)).await.map_err(EffectError::Transient)?;
                    let marked = self
                        .store
                        .put_cover_mark(&sku, expected, &CoverMark { crossings: n, low_since: Some(now) })
                        .await?;
                    tracing::info!(sku = %sku, crossing = n, marked, "cover low alerted");
                    alerts += 1;
                }
                Some(CoverCrossing::Recovered) => {
                    self.store
                        .put_cover_mark(&sku, expected, &CoverMark { crossings: expected, low_since: None })
                        .await?;
                }
                None => {}
            }
        }
        Ok(alerts)
    }
}
