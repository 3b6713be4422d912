//! Delivery quotes, and the sourcing every placement and edit starts from: price the lines,
//! find candidate locations with their available units, offer delivery options, plan holds.

use super::super::views::QuoteDto;
use super::super::{AppError, Caller, Oms};
use super::{
    DeliveryChoice, Prepared, QuoteRequest, ShardAvailability, held_reservations, parse_address, pricing_error,
    shortage_error, within_order_cap,
};
use crate::domain::pricing::{LineRequest, goods_weight, price_lines, totals};
use crate::domain::sourcing::{
    Candidate, DeliveryOption, Fulfillment, NearestThenFewestSplits, PickupAt, SourcingError, SourcingStrategy,
    pickup_options, shipping_options,
};
use crate::domain::*;
use std::collections::{BTreeMap, HashMap};

/// Available units each SKU × location's base item keeps back from the order's channel.
pub(super) type KeepBack = BTreeMap<(Sku, LocationId), i64>;

impl Oms {
    pub(super) async fn resolve_lines(
        &self,
        caller: &Caller,
        cart_id: &Option<CartId>,
        lines: &Option<Vec<LineRequest>>,
    ) -> Result<(Vec<LineRequest>, Option<Cart>), AppError> {
        match (cart_id, lines) {
            (Some(_), Some(_)) => Err(AppError::invalid_field("lines", "give either cartId or lines, not both")),
            (None, None) => Err(AppError::invalid_field("lines", "give cartId or lines")),
            (None, Some(l)) => Ok((l.clone(), None)),
            (Some(id), None) => {
                let cart = self.owned_cart(caller, id).await?;
                if cart.converted_order.is_some() {
                    return Err(AppError::CartConverted);
                }
                if cart.items.is_empty() {
                    return Err(AppError::Unprocessable { kind: "empty-cart", detail: "the cart has no items".into() });
                }
                let l = cart.items.iter().map(|i| LineRequest { sku: i.sku.clone(), quantity: i.quantity }).collect();
                Ok((l, Some(cart)))
            }
        }
    }

    /// Candidates for sourcing: every location with its available units of the SKUs (summed
    /// over stock shards); units this order already holds or has allocated count as available
    /// to it (for edits). Also what each shard has, for placing the holds.
    async fn candidates(
        &self,
        skus: &[Sku],
        destination: Option<GeoPoint>,
        own: &[Reservation],
        channel: Option<Channel>,
        rules: &crate::domain::rules::RuleSet,
    ) -> Result<(Vec<Candidate>, ShardAvailability, KeepBack), AppError> {
        let locations = self.store.list_locations().await?;
        let stocks = futures::future::try_join_all(skus.iter().map(|s| self.store.stock_for_sku(s))).await?;
        let mut avail: HashMap<LocationId, BTreeMap<Sku, i64>> = HashMap::new();
        let mut shards: ShardAvailability = HashMap::new();
        let mut keep: KeepBack = BTreeMap::new();
        for rec in stocks.into_iter().flatten() {
            // The location's safety stock and the channel's (on its base item) are never
            // promised: the plan leaves them on the base item, and the hold's write keeps them.
            let safety = crate::domain::inventory::kept_back(rec.control.as_ref(), channel).max(0);
            if safety > 0 {
                keep.insert((rec.sku.clone(), rec.location_id.clone()), safety);
            }
            *avail.entry(rec.location_id.clone()).or_default().entry(rec.sku.clone()).or_insert(0) +=
                rec.level.available - safety;
            shards
                .entry((rec.sku.clone(), rec.location_id.clone()))
                .or_default()
                .push((rec.shard, rec.level.available - safety));
        }
        // What the order itself holds or has allocated is released by the same change.
        for r in own.iter().filter(|r| matches!(r.state, ReservationState::Held | ReservationState::Allocated)) {
            *avail.entry(r.location_id.clone()).or_default().entry(r.sku.clone()).or_insert(0) += i64::from(r.quantity);
            let per_shard = shards.entry((r.sku.clone(), r.location_id.clone())).or_default();
            match per_shard.iter_mut().find(|(k, _)| *k == r.shard) {
                Some((_, a)) => *a += i64::from(r.quantity),
                None => per_shard.push((r.shard, i64::from(r.quantity))),
            }
        }
        for v in shards.values_mut() {
            v.sort_unstable();
        }
        let candidates = locations
            .into_iter()
            .map(|l| {
                let a = avail.remove(&l.id).unwrap_or_default();
                let preference = rules.sourcing_of(&l.id);
                Candidate::new(l, a, destination).preferring(preference)
            })
            .collect();
        Ok((candidates, shards, keep))
    }

    async fn delivery_options(
        &self,
        lines: &[OrderLine],
        address: &Address,
        candidates: &[Candidate],
        subtotal: Money,
    ) -> Result<Vec<DeliveryOption>, AppError> {
        let demand: Vec<(Sku, u32)> =
            lines.iter().filter(|l| l.kind == ProductKind::Goods).map(|l| (l.sku.clone(), l.quantity)).collect();
        let today = self.clock.now().date_naive();
        if demand.is_empty() {
            return Ok(vec![DeliveryOption {
                id: "ship-standard".into(),
                service_level: ServiceLevel::Standard,
                fulfillment: Fulfillment::Ship,
                cost: Money::zero(subtotal.currency()),
                promised_by: sourcing::add_business_days(today, 5),
                locations: vec![],
                split: false,
                ready_by: None,
            }]);
        }
        let mut options = Vec::new();
        let ship = NearestThenFewestSplits.plan(&demand, candidates, address.country);
        let catalog = self.store.get_products(&demand.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>()).await?;
        let goods_subtotal =
            Money::sum(subtotal.currency(), lines.iter().filter(|l| l.kind == ProductKind::Goods).map(|l| l.subtotal))
                .map_err(|e| AppError::Internal(e.to_string()))?;
        match ship {
            Ok(plan) => options.extend(shipping_options(&plan, goods_weight(&catalog, lines), goods_subtotal, today)),
            Err(SourcingError::Short(s)) => {
                let pickup = pickup_options(&demand, candidates, subtotal.currency(), self.clock.now());
                if pickup.is_empty() {
                    return Err(AppError::OutOfStock(s));
                }
            }
            Err(e) => return Err(shortage_error(e)),
        }
        options.extend(pickup_options(&demand, candidates, subtotal.currency(), self.clock.now()));
        Ok(options)
    }

    pub(super) async fn prepare(
        &self,
        requests: &[LineRequest],
        address: &Address,
        choice: &DeliveryChoice,
        own: &[Reservation],
        channel: Channel,
        rules: &crate::domain::rules::RuleSet,
    ) -> Result<Prepared, AppError> {
        let skus: Vec<Sku> = requests.iter().map(|r| r.sku.clone()).collect();
        let catalog = self.store.get_products(&skus).await?;
        let lines = price_lines(&catalog, requests, address.country).map_err(pricing_error)?;
        let currency = lines[0].unit_price.currency();
        let subtotal = Money::sum(currency, lines.iter().map(|l| l.subtotal)).map_err(too_much)?;
        let goods: Vec<Sku> = lines.iter().filter(|l| l.kind == ProductKind::Goods).map(|l| l.sku.clone()).collect();
        let destination = geo::centroid(address.country, &address.postal_code);
        let (candidates, shards, keep) = self.candidates(&goods, destination, own, Some(channel), rules).await?;
        let options = self.delivery_options(&lines, address, &candidates, subtotal).await?;
        let chosen = match choice {
            DeliveryChoice::Level(level) => options.iter().find(|o| o.service_level == *level),
            DeliveryChoice::Option(id) => options.iter().find(|o| &o.id == id),
        }
        .cloned()
        .ok_or_else(|| AppError::UnprocessableField {
            kind: "delivery-unavailable",
            detail: format!(
                "{}: that delivery option is not available for these items and address; available: {}",
                match choice {
                    DeliveryChoice::Level(_) => "serviceLevel",
                    DeliveryChoice::Option(_) => "deliveryOptionId",
                },
                options.iter().map(|o| o.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
            field: match choice {
                DeliveryChoice::Level(_) => "serviceLevel",
                DeliveryChoice::Option(_) => "deliveryOptionId",
            },
        })?;
        let demand: Vec<(Sku, u32)> =
            lines.iter().filter(|l| l.kind == ProductKind::Goods).map(|l| (l.sku.clone(), l.quantity)).collect();
        let plan = if demand.is_empty() {
            None
        } else if chosen.fulfillment == Fulfillment::Pickup {
            let store = chosen
                .locations
                .first()
                .cloned()
                .ok_or_else(|| AppError::Internal("pickup option without store".into()))?;
            Some(PickupAt(store).plan(&demand, &candidates, address.country).map_err(shortage_error)?)
        } else {
            Some(NearestThenFewestSplits.plan(&demand, &candidates, address.country).map_err(shortage_error)?)
        };
        let delivery = Delivery {
            take_away: false,
            service_level: chosen.service_level,
            pickup_location: (chosen.fulfillment == Fulfillment::Pickup).then(|| chosen.locations[0].clone()),
            promised_by: chosen.promised_by,
            cost: chosen.cost,
        };
        let totals = totals(&lines, chosen.cost).map_err(pricing_error)?;
        within_order_cap("lines", totals.total.amount(), currency)?;
        let reservations = held_reservations(&plan, &shards, rand::random::<u32>() as usize)?;
        Ok(Prepared { lines, delivery, totals, reservations, keep })
    }

    pub async fn quote(&self, caller: &Caller, req: QuoteRequest) -> Result<QuoteDto, AppError> {
        let (requests, _) = self.resolve_lines(caller, &req.cart_id, &req.lines).await?;
        let address = parse_address("shippingAddress", &req.shipping_address)?;
        let skus: Vec<Sku> = requests.iter().map(|r| r.sku.clone()).collect();
        let catalog = self.store.get_products(&skus).await?;
        let lines = price_lines(&catalog, &requests, address.country).map_err(pricing_error)?;
        let currency = lines[0].unit_price.currency();
        let subtotal = Money::sum(currency, lines.iter().map(|l| l.subtotal)).map_err(too_much)?;
        let tax = Money::sum(currency, lines.iter().map(|l| l.tax)).map_err(too_much)?;
        // What placement would refuse is refused here too: shipping only adds to this.
        within_order_cap("lines", subtotal.checked_add(tax).map_err(too_much)?.amount(), currency)?;
        let goods: Vec<Sku> = lines.iter().filter(|l| l.kind == ProductKind::Goods).map(|l| l.sku.clone()).collect();
        // An edit's quote: the order's own holds and allocations are its to re-source, and its
        // promotions and adjustments price the new lines as the edit would.
        let order = match &req.order_id {
            Some(id) => Some(self.owned_order(caller, id).await?),
            None => None,
        };
        let rules = self.store.current_rules().await?;
        let own = order.as_ref().map(|o| o.reservations.clone()).unwrap_or_default();
        let (candidates, _, _) = self
            .candidates(&goods, geo::centroid(address.country, &address.postal_code), &own, req.channel, &rules.set)
            .await?;
        let options = self.delivery_options(&lines, &address, &candidates, subtotal).await?;
        let codes = super::super::promotions::parse_codes(&req.promotion_codes)?;
        if matches!(req.channel, Some(Channel::Marketplace)) {
            return Err(AppError::invalid_field("channel", "web, app, call_center or store"));
        }
        let zero = Money::zero(currency);
        let (lines, promotions, totals) = match order {
            Some(o) => {
                if !codes.is_empty() {
                    return Err(AppError::invalid_field("promotionCodes", "an edit keeps the order's promotions"));
                }
                let mut next = o.clone();
                next.lines = lines;
                next.delivery.cost = zero;
                next.shipping_address = address.clone();
                self.rediscount(&o, &mut next).await?;
                let totals = crate::domain::pricing::totals(&next.lines, zero).map_err(pricing_error)?;
                (next.lines, next.discounts.promotions, totals)
            }
            None => {
                // Promotions as placement would apply them (the delivery cost is per option).
                let channel = req.channel.unwrap_or(Channel::Web);
                let chosen =
                    self.choose_promotions(&caller.customer, channel, &codes, &lines, &Default::default()).await?;
                let mut lines = lines;
                let (promotions, totals) =
                    super::super::promotions::reprice(&mut lines, zero, &chosen, &mut [], address.country)?;
                (lines, promotions, totals)
            }
        };
        Ok(QuoteDto { lines, subtotal, discount: totals.discount, promotions, tax: totals.tax, options })
    }
}

/// A sum past what money can hold is the request's fault: a 422 naming the lines.
fn too_much(e: crate::domain::MoneyError) -> AppError {
    AppError::Unprocessable { kind: "amount", detail: format!("lines: {e}") }
}
