//! Stock counts, adjustments and shard counts from the WMS and staff: a count (with its
//! safety stock and shard count) applies whole or not at all; an older sequence changes
//! nothing.

use super::catalog::{StockAdjustmentInput, StockInput};
use super::{AppError, Oms};
use crate::app::views::StockDto;
use crate::domain::inventory::{CountReason, StockCount, Target};
use crate::domain::*;
use crate::ports::{Counted, StoreError};
use crate::retry::{Backoff, retry};
use std::time::Duration;

fn below_committed() -> AppError {
    AppError::UnprocessableField {
        kind: "stock-below-committed",
        detail: "onHand: on hand cannot go below units already held or allocated for orders".into(),
        field: "onHand",
    }
}

/// Stock items still busy after the retries: a 409 that says so (not a 503 blaming a provider).
fn busy(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict => AppError::Conflict {
            kind: "stock-busy",
            detail: "this SKU's stock at the location is changing under many orders at once; retry shortly".into(),
        },
        other => other.into(),
    }
}

impl Oms {
    pub async fn set_stock(&self, sku: Sku, location: LocationId, input: StockInput) -> Result<StockDto, AppError> {
        let shards_only = input.shards.is_some()
            && input.sequence.is_none()
            && input.safety_stock.is_none()
            && input.channel_safety_stock.is_none()
            && input.reorder_point.is_none()
            && input.reorder_quantity.is_none();
        let on_hand = match input.on_hand {
            Some(n) if !(0..=10_000_000).contains(&n) => {
                return Err(AppError::invalid_field("onHand", "must be between 0 and 10000000"));
            }
            Some(n) => Some(n),
            None if shards_only => None,
            None => return Err(AppError::invalid_field("onHand", "required unless the request changes shards alone")),
        };
        check_sequence(input.sequence)?;
        let max = crate::domain::stock::MAX_STOCK_SHARDS;
        if input.shards.is_some_and(|n| !(1..=max).contains(&n)) {
            return Err(AppError::invalid_field("shards", format!("must be between 1 and {max}")));
        }
        if self.store.get_product(&sku).await?.is_none() {
            return Err(AppError::UnprocessableField {
                kind: "unknown-sku",
                detail: format!("sku: no product {sku}"),
                field: "sku",
            });
        }
        if self.store.get_location(&location).await?.is_none() {
            return Err(AppError::UnprocessableField {
                kind: "unknown-location",
                detail: format!("locationId: no location {location}"),
                field: "locationId",
            });
        }
        for (field, v) in [
            ("safetyStock", input.safety_stock),
            ("reorderPoint", input.reorder_point),
            ("reorderQuantity", input.reorder_quantity),
        ] {
            if v.is_some_and(|s| !(0..=10_000_000).contains(&s)) {
                return Err(AppError::invalid_field(field, "must be between 0 and 10000000"));
            }
        }
        if input.channel_safety_stock.iter().flatten().any(|(_, v)| !(0..=10_000_000).contains(v)) {
            return Err(AppError::invalid_field("channelSafetyStock", "each must be between 0 and 10000000"));
        }
        let Some(on_hand) = on_hand else { return self.shards_alone(&sku, &location, input.shards).await };
        let count = StockCount {
            target: Target::Set(on_hand),
            sequence: input.sequence,
            reason: CountReason::Count,
            safety_stock: input.safety_stock,
            channel_safety_stock: input.channel_safety_stock.clone(),
            reorder_point: input.reorder_point,
            reorder_quantity: input.reorder_quantity,
            at: self.clock.now(),
        };
        // Everything that would refuse the request is checked before anything is written, so a
        // 422 or an ignored count changes nothing: a count older than the last applied (its
        // shards with it, unless it is the same count sent again: a retry finishes its shard
        // change), on hand below what orders hold, then the shard change (refused while a shard
        // that would go holds units). Only a race after these checks (an order holding the last
        // units between the check and the count) can leave a shard change without its count:
        // the shards are where units sit, never how many there are.
        let current = self.store.get_stock(&sku, &location).await?;
        let last = current.as_ref().and_then(|r| r.control.as_ref()).and_then(|c| c.sequence);
        let stale = input.sequence.zip(last).is_some_and(|(s, l)| s <= l);
        let retry = input.sequence.zip(last).is_some_and(|(s, l)| s == l);
        if let Some(r) = current.as_ref().filter(|_| !stale)
            && on_hand < r.level.held + r.level.allocated
        {
            return Err(below_committed());
        }
        let reshard = input.shards.zip(current.as_ref().map(|r| r.shards)).filter(|(n, was)| n != was);
        if let Some((n, _)) = reshard.filter(|_| !stale || retry) {
            self.reshard(&sku, &location, n).await?;
        }
        if stale {
            let now = self.store.get_stock(&sku, &location).await?.ok_or(AppError::NotFound)?;
            return Ok(StockDto::of(now, true));
        }
        let counted = self.counted(&sku, &location, &count).await.map_err(|e| match e {
            StoreError::StockPrecondition(_) => below_committed(),
            other => busy(other),
        })?;
        if !counted.applied {
            return Ok(StockDto::of(self.store.get_stock(&sku, &location).await?.unwrap_or(counted.record), true));
        }
        let mut r = counted.record;
        // A new record: split once it exists (a retry of the count finishes it, above).
        if let Some(n) = input.shards.filter(|n| current.is_none() && *n != r.shards) {
            r = self.reshard(&sku, &location, n).await?;
        }
        self.stock_came(&sku).await;
        Ok(StockDto::of(r, false))
    }

    /// `{"shards": n}` alone: the stock stays as counted, split over `n` items (a record must
    /// exist: the first count creates it).
    async fn shards_alone(&self, sku: &Sku, location: &LocationId, shards: Option<u16>) -> Result<StockDto, AppError> {
        let current = self.store.get_stock(sku, location).await?.ok_or_else(|| AppError::UnprocessableField {
            kind: "stock-not-counted",
            detail: "onHand: no stock counted here yet; the first count needs onHand".into(),
            field: "onHand",
        })?;
        match shards.filter(|n| *n != current.shards) {
            Some(n) => Ok(StockDto::of(self.reshard(sku, location, n).await?, false)),
            None => Ok(StockDto::of(current, false)),
        }
    }

    async fn reshard(&self, sku: &Sku, location: &LocationId, n: u16) -> Result<crate::domain::StockRecord, AppError> {
        self.store.set_shards(sku, location, n).await.map_err(|e| match e {
            StoreError::StockPrecondition(_) => AppError::UnprocessableField {
                kind: "stock-shard-committed",
                detail: "shards: a shard that would go still has units held or allocated for orders; retry later"
                    .into(),
                field: "shards",
            },
            other => busy(other),
        })
    }

    /// A count or adjustment, tried again a few times over a second while orders keep the
    /// SKU's stock items busy (the store's own retries are over milliseconds).
    async fn counted(&self, sku: &Sku, location: &LocationId, count: &StockCount) -> Result<Counted, StoreError> {
        let patient = Backoff { attempts: 4, base: Duration::from_millis(100), max: Duration::from_millis(800) };
        retry(patient, |e| matches!(e, StoreError::Conflict), || self.store.count_stock(sku, location, count)).await
    }

    /// Stock of a SKU changed: its backorders waiting get their chance, oldest first (best
    /// effort: a failure leaves them waiting for the next count or the allocate route).
    async fn stock_came(&self, sku: &Sku) {
        let has = self.store.get_products(std::slice::from_ref(sku)).await.ok().and_then(|mut m| m.remove(sku));
        if has.is_some_and(|p| p.backorder_limit.is_some())
            && let Err(e) = self.allocate_backorders(sku).await
        {
            tracing::warn!(sku = %sku, error = %e, "backorder allocation deferred");
        }
    }

    /// Units found, received, damaged or stolen at a location (never below what orders hold).
    pub async fn adjust_stock(
        &self,
        sku: Sku,
        location: LocationId,
        input: StockAdjustmentInput,
    ) -> Result<StockDto, AppError> {
        if input.delta == 0 || input.delta.abs() > 10_000_000 {
            return Err(AppError::invalid_field("delta", "between -10000000 and 10000000, not 0"));
        }
        check_sequence(input.sequence)?;
        if input.reason == CountReason::Count {
            return Err(AppError::invalid_field("reason", "a full count is PUT /v1/admin/stock/{sku}/{locationId}"));
        }
        let current = self.store.get_stock(&sku, &location).await?.ok_or(AppError::NotFound)?;
        let after = current.level.on_hand + input.delta;
        if after > crate::domain::inventory::MAX_ON_HAND {
            return Err(AppError::UnprocessableField {
                kind: "stock-above-maximum",
                detail: format!(
                    "delta: on hand would be {after}; it is at most {}",
                    crate::domain::inventory::MAX_ON_HAND
                ),
                field: "delta",
            });
        }
        if after < current.level.held + current.level.allocated {
            return Err(AppError::UnprocessableField {
                kind: "stock-below-committed",
                detail: format!(
                    "delta: on hand would be {after}; it cannot go below the {} units held or allocated for orders",
                    current.level.held + current.level.allocated
                ),
                field: "delta",
            });
        }
        let count = StockCount {
            target: Target::Delta(input.delta),
            sequence: input.sequence,
            reason: input.reason,
            safety_stock: None,
            channel_safety_stock: None,
            reorder_point: None,
            reorder_quantity: None,
            at: self.clock.now(),
        };
        let counted = self.counted(&sku, &location, &count).await.map_err(|e| match e {
            StoreError::StockPrecondition(_) => AppError::UnprocessableField {
                kind: "stock-below-committed",
                detail: "delta: on hand cannot go below units held or allocated for orders".into(),
                field: "delta",
            },
            other => busy(other),
        })?;
        tracing::info!(sku = %sku, location = %location, delta = input.delta, "stock adjusted");
        if input.delta > 0 {
            self.stock_came(&sku).await;
        }
        Ok(StockDto::of(counted.record, !counted.applied))
    }
}

fn check_sequence(sequence: Option<u64>) -> Result<(), AppError> {
    use crate::domain::inventory::MAX_SEQUENCE;
    if sequence.is_some_and(|q| q > MAX_SEQUENCE) {
        return Err(AppError::invalid_field("sequence", format!("between 0 and {MAX_SEQUENCE}")));
    }
    Ok(())
}
