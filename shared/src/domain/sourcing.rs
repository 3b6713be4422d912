//! Sourcing: which locations supply which units, and the delivery options that follow.
//! Strategies sit behind one trait so that a retailer can plug in their own.

use super::address::CountryCode;
use super::catalog::{GeoPoint, Location, LocationKind};
use super::ids::{LocationId, Sku};
use super::money::{Currency, Money};
use super::order::ServiceLevel;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A location that could supply some of the demand, with what it has available.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub location: Location,
    pub available: BTreeMap<Sku, i64>,
    /// Distance to the destination; `None` when the destination has no known centroid.
    pub distance_km: Option<u32>,
    /// The rules' preference for the location: lower is tried first, before distance.
    pub priority: u8,
}

impl Candidate {
    pub fn new(location: Location, available: BTreeMap<Sku, i64>, destination: Option<GeoPoint>) -> Self {
        let distance_km = destination.map(|d| location.coordinates.distance_km(&d));
        Candidate {
            location,
            available,
            distance_km,
            priority: crate::domain::rules::SourcingPreference::DEFAULT_PRIORITY,
        }
    }

    /// The candidate under the rules' preference for its location.
    pub fn preferring(mut self, p: crate::domain::rules::SourcingPreference) -> Self {
        self.priority = p.priority;
        self.location.ships &= p.ships;
        self
    }
    pub(super) fn rank_distance(&self) -> u32 {
        self.distance_km.unwrap_or(u32::MAX)
    }
    pub(super) fn has(&self, sku: &Sku) -> i64 {
        self.available.get(sku).copied().unwrap_or(0).max(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub location_id: LocationId,
    pub sku: Sku,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub assignments: Vec<Assignment>,
    /// Locations used, nearest first.
    pub locations: Vec<LocationId>,
    pub max_distance_km: Option<u32>,
    pub cross_border: bool,
}

impl Plan {
    pub fn is_split(&self) -> bool {
        self.locations.len() > 1
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shortage {
    pub sku: Sku,
    pub requested: u32,
    pub available: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourcingError {
    #[error("not enough stock for {0:?}")]
    Short(Vec<Shortage>),
    #[error("location {0} cannot offer pickup of these items")]
    PickupUnavailable(LocationId),
}

pub trait SourcingStrategy: Send + Sync {
    fn name(&self) -> &'static str;
    fn plan(
        &self,
        demand: &[(Sku, u32)],
        candidates: &[Candidate],
        destination: CountryCode,
    ) -> Result<Plan, SourcingError>;
}

fn shortages(demand: &[(Sku, u32)], candidates: &[&Candidate]) -> Vec<Shortage> {
    demand
        .iter()
        .filter_map(|(sku, q)| {
            let total: i64 = candidates.iter().map(|c| c.has(sku)).sum();
            (total < i64::from(*q)).then(|| Shortage { sku: sku.clone(), requested: *q, available: total })
        })
        .collect()
}

fn build_plan(assignments: Vec<Assignment>, used: &[&Candidate], destination: CountryCode) -> Plan {
    let mut used: Vec<&Candidate> = used.to_vec();
    used.sort_by_key(|c| c.rank_distance());
    Plan {
        locations: used.iter().map(|c| c.location.id.clone()).collect(),
        max_distance_km: used
            .iter()
            .map(|c| c.distance_km)
            .collect::<Option<Vec<_>>>()
            .and_then(|d| d.into_iter().max()),
        cross_border: used.iter().any(|c| c.location.country != destination),
        assignments,
    }
}

/// The default: the nearest single location that can ship everything; otherwise the fewest
/// locations (greedy by units covered), nearer first on ties; domestic before cross-border.
pub struct NearestThenFewestSplits;

impl SourcingStrategy for NearestThenFewestSplits {
    fn name(&self) -> &'static str {
        "nearest-then-fewest-splits"
    }

    fn plan(
        &self,
        demand: &[(Sku, u32)],
        candidates: &[Candidate],
        destination: CountryCode,
    ) -> Result<Plan, SourcingError> {
        let mut shippers: Vec<&Candidate> =
            candidates.iter().filter(|c| c.location.active && c.location.ships).collect();
        // Domestic first, then the rules' priority, then nearest, then warehouses before stores (stores are pricier to pick).
        shippers.sort_by_key(|c| {
            (c.location.country != destination, c.priority, c.rank_distance(), c.location.kind == LocationKind::Store)
        });
        let short = shortages(demand, &shippers);
        if !short.is_empty() {
            return Err(SourcingError::Short(short));
        }
        if let Some(single) = shippers.iter().find(|c| demand.iter().all(|(s, q)| c.has(s) >= i64::from(*q))) {
            let assignments = demand
                .iter()
                .map(|(s, q)| Assignment { location_id: single.location.id.clone(), sku: s.clone(), quantity: *q })
                .collect();
            return Ok(build_plan(assignments, &[single], destination));
        }
        let mut remaining: BTreeMap<Sku, u32> = demand.iter().cloned().collect();
        let mut assignments = Vec::new();
        let mut used: Vec<&Candidate> = Vec::new();
        while remaining.values().any(|q| *q > 0) {
            let covers = |c: &Candidate| -> i64 { remaining.iter().map(|(s, q)| c.has(s).min(i64::from(*q))).sum() };
            let best = shippers
                .iter()
                .filter(|c| !used.iter().any(|u| u.location.id == c.location.id))
                .max_by_key(|c| (covers(c), std::cmp::Reverse((c.priority, c.rank_distance()))))
                .copied();
            let Some(best) = best.filter(|c| covers(c) > 0) else {
                return Err(SourcingError::Short(shortages(demand, &shippers)));
            };
            for (sku, q) in remaining.iter_mut() {
                let take = u32::try_from(best.has(sku).min(i64::from(*q))).unwrap_or(0);
                if take > 0 {
                    assignments.push(Assignment {
                        location_id: best.location.id.clone(),
                        sku: sku.clone(),
                        quantity: take,
                    });
                    *q -= take;
                }
            }
            used.push(best);
        }
        Ok(build_plan(assignments, &used, destination))
    }
}

/// Store pickup: everything from the one chosen store.
pub struct PickupAt(pub LocationId);

impl SourcingStrategy for PickupAt {
    fn name(&self) -> &'static str {
        "pickup"
    }

    fn plan(
        &self,
        demand: &[(Sku, u32)],
        candidates: &[Candidate],
        destination: CountryCode,
    ) -> Result<Plan, SourcingError> {
        let store = candidates
            .iter()
            .find(|c| c.location.id == self.0 && c.location.active && c.location.pickup)
            .ok_or_else(|| SourcingError::PickupUnavailable(self.0.clone()))?;
        let short = shortages(demand, &[store]);
        if !short.is_empty() {
            return Err(SourcingError::Short(short));
        }
        let assignments = demand
            .iter()
            .map(|(s, q)| Assignment { location_id: store.location.id.clone(), sku: s.clone(), quantity: *q })
            .collect();
        Ok(build_plan(assignments, &[store], destination))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fulfillment {
    Ship,
    Pickup,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryOption {
    pub id: String,
    pub service_level: ServiceLevel,
    pub fulfillment: Fulfillment,
    pub cost: Money,
    pub promised_by: NaiveDate,
    pub locations: Vec<LocationId>,
    pub split: bool,
    /// Pickup at a store with opening hours: when the order is ready to collect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_by: Option<chrono::DateTime<chrono::Utc>>,
}

/// Adds business days (Monday to Friday).
pub fn add_business_days(mut d: NaiveDate, days: u32) -> NaiveDate {
    let mut left = days;
    while left > 0 {
        d += Duration::days(1);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    d
}

/// Orders of at least this much (minor units) ship standard for free.
pub const FREE_STANDARD_SHIPPING_FROM: i64 = 10_000;
/// Stores within this distance of the destination are offered for pickup.
pub const PICKUP_RADIUS_KM: u32 = 80;

fn per_kg(base: i64, per_started_kg: i64, parcels: i64, weight_g: u64) -> i64 {
    let kg_over_first = i64::try_from(weight_g.div_ceil(1000)).unwrap_or(i64::MAX / 4).saturating_sub(parcels).max(0);
    base * parcels + per_started_kg * kg_over_first
}

/// The shipping options a plan allows, with cost and promised date.
pub fn shipping_options(plan: &Plan, weight_g: u64, goods_subtotal: Money, today: NaiveDate) -> Vec<DeliveryOption> {
    let currency: Currency = goods_subtotal.currency();
    let parcels = i64::try_from(plan.locations.len().max(1)).unwrap_or(1);
    // Fees are stated in the reference currency and charged in the order's.
    let money = |a: i64| super::limits::threshold_money(a.max(0), currency);
    let option = |level: ServiceLevel, cost: i64, days: u32| DeliveryOption {
        id: format!("ship-{}", level.as_str()),
        service_level: level,
        fulfillment: Fulfillment::Ship,
        cost: money(cost),
        promised_by: add_business_days(today, days),
        locations: plan.locations.clone(),
        split: plan.is_split(),
        ready_by: None,
    };
    if plan.cross_border {
        return vec![option(ServiceLevel::Standard, per_kg(2499, 400, parcels, weight_g), 8)];
    }
    let distance = plan.max_distance_km.unwrap_or(2000);
    let standard_days = match distance {
        0..=300 => 2,
        301..=1000 => 3,
        _ => 5,
    };
    let standard_cost =
        if goods_subtotal.amount() >= super::limits::threshold_money(FREE_STANDARD_SHIPPING_FROM, currency).amount() {
            0
        } else {
            per_kg(599, 100, parcels, weight_g)
        };
    let mut out = vec![
        option(ServiceLevel::Standard, standard_cost, standard_days),
        option(ServiceLevel::Express, per_kg(1499, 150, parcels, weight_g), 2.min(standard_days)),
    ];
    if distance <= 1500 {
        out.push(option(ServiceLevel::Overnight, per_kg(2999, 200, parcels, weight_g), 1));
    }
    out
}

pub use super::pickup::pickup_options;

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(id: &str, kind: LocationKind, lat: i32, lon: i32, ships: bool, pickup: bool) -> Location {
        Location {
            id: LocationId::parse(id).unwrap(),
            name: id.into(),
            kind,
            coordinates: GeoPoint::new(lat, lon).unwrap(),
            country: CountryCode::parse("US").unwrap(),
            postal_code: "10001".into(),
            ships,
            pickup,
            active: true,
            address: None,
            packing: false,
            opening_hours: None,
            pickup_lead_minutes: 0,
        }
    }

    fn cand(l: Location, stock: &[(&str, i64)], dest: GeoPoint) -> Candidate {
        Candidate::new(l, stock.iter().map(|(s, q)| (Sku::parse(s).unwrap(), *q)).collect(), Some(dest))
    }

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    const NYC: GeoPoint = GeoPoint { lat_e6: 40_750_000, lon_e6: -73_997_000 };
    fn us() -> CountryCode {
        CountryCode::parse("US").unwrap()
    }

    #[test]
    fn nearest_single_location_that_has_everything_wins() {
        let near =
            cand(loc("NJ", LocationKind::Warehouse, 40_700_000, -74_200_000, true, false), &[("A", 5), ("B", 5)], NYC);
        let far =
            cand(loc("LA", LocationKind::Warehouse, 34_000_000, -118_000_000, true, false), &[("A", 5), ("B", 5)], NYC);
        let p = NearestThenFewestSplits.plan(&[(sku("A"), 1), (sku("B"), 2)], &[far, near], us()).unwrap();
        assert_eq!(p.locations, vec![LocationId::parse("NJ").unwrap()]);
        assert!(!p.is_split());
    }

    #[test]
    fn the_rules_priority_comes_before_distance_and_a_location_may_be_kept_from_shipping() {
        let near = cand(loc("NEAR", LocationKind::Warehouse, 40_700_000, -74_200_000, true, false), &[("A", 5)], NYC);
        let far = cand(loc("FAR", LocationKind::Warehouse, 34_000_000, -118_000_000, true, false), &[("A", 5)], NYC);
        let pref = |priority, ships| crate::domain::rules::SourcingPreference { priority, ships };
        let p = NearestThenFewestSplits.plan(
            &[(sku("A"), 1)],
            &[near.clone(), far.clone().preferring(pref(1, true))],
            us(),
        );
        assert_eq!(p.unwrap().locations[0].as_str(), "FAR");
        let p = NearestThenFewestSplits.plan(&[(sku("A"), 1)], &[near.preferring(pref(1, false)), far], us());
        assert_eq!(p.unwrap().locations[0].as_str(), "FAR");
    }

    #[test]
    fn splits_across_the_fewest_locations_when_no_single_one_can() {
        let a = cand(loc("W1", LocationKind::Warehouse, 40_700_000, -74_200_000, true, false), &[("A", 5)], NYC);
        let b = cand(loc("W2", LocationKind::Warehouse, 41_000_000, -74_000_000, true, false), &[("B", 5)], NYC);
        let c = cand(loc("W3", LocationKind::Warehouse, 42_000_000, -74_000_000, true, false), &[("B", 1)], NYC);
        let p = NearestThenFewestSplits.plan(&[(sku("A"), 1), (sku("B"), 2)], &[a, b, c], us()).unwrap();
        assert_eq!(p.locations.len(), 2);
        assert!(p.assignments.iter().all(|x| x.location_id.as_str() != "W3"));
    }

    #[test]
    fn stores_that_do_not_ship_are_skipped_and_shortages_named() {
        let s = cand(loc("S1", LocationKind::Store, 40_750_000, -73_990_000, false, true), &[("A", 5)], NYC);
        let err = NearestThenFewestSplits.plan(&[(sku("A"), 1)], &[s], us()).unwrap_err();
        assert_eq!(err, SourcingError::Short(vec![Shortage { sku: sku("A"), requested: 1, available: 0 }]));
    }

    #[test]
    fn free_standard_shipping_over_threshold_and_overnight_only_when_near() {
        let near = cand(loc("NJ", LocationKind::Warehouse, 40_700_000, -74_200_000, true, false), &[("A", 5)], NYC);
        let p = NearestThenFewestSplits.plan(&[(sku("A"), 1)], &[near], us()).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
        let opts = shipping_options(&p, 500, Money::new(12_000, Currency::USD).unwrap(), today);
        assert_eq!(opts.len(), 3);
        assert_eq!(opts[0].cost.amount(), 0);
        assert_eq!(opts[2].service_level, ServiceLevel::Overnight);
    }

    #[test]
    fn pickup_is_offered_at_nearby_stores_holding_everything() {
        let s = cand(loc("S1", LocationKind::Store, 40_750_000, -73_990_000, false, true), &[("A", 5)], NYC);
        let now = "2026-11-20T15:00:00Z".parse().unwrap(); // a Friday
        let opts = pickup_options(&[(sku("A"), 2)], &[s], Currency::USD, now);
        assert_eq!(opts.len(), 1);
        assert_eq!(opts[0].id, "pickup-S1");
        assert_eq!(opts[0].promised_by, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
    }
}
