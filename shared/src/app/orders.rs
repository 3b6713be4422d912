//! Quotes, placement (idempotent, with stock holds in the same transaction as the order),
//! queries, cancellation and edits.

use super::views::{OrderDto, OrderList, OrderSummary, QuoteDto};
use super::{AppError, Caller, Oms};
use crate::adapters::dynamo::StoreError;
use crate::adapters::dynamo::store::{
    IdempotencyRecord, StockMove, TxOp, TxRole, cart_item, order_item, timeline_item,
};
use crate::domain::pricing::{LineRequest, goods_weight, price_lines, totals};
use crate::domain::sourcing::{
    Candidate, DeliveryOption, Fulfillment, NearestThenFewestSplits, PickupAt, Plan, SourcingError, SourcingStrategy,
    pickup_options, shipping_options,
};
use crate::domain::*;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuoteRequest {
    #[serde(default)]
    pub cart_id: Option<CartId>,
    #[serde(default)]
    pub lines: Option<Vec<LineRequest>>,
    pub shipping_address: AddressInput,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceOrderRequest {
    #[serde(default)]
    pub cart_id: Option<CartId>,
    #[serde(default)]
    pub lines: Option<Vec<LineRequest>>,
    pub shipping_address: AddressInput,
    #[serde(default)]
    pub billing_address: Option<AddressInput>,
    pub email: String,
    #[serde(default)]
    pub service_level: Option<ServiceLevel>,
    #[serde(default)]
    pub delivery_option_id: Option<String>,
    pub payment_token: String,
    pub channel: Channel,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditOrderRequest {
    #[serde(default)]
    pub lines: Option<Vec<LineRequest>>,
    #[serde(default)]
    pub shipping_address: Option<AddressInput>,
    #[serde(default)]
    pub service_level: Option<ServiceLevel>,
    #[serde(default)]
    pub delivery_option_id: Option<String>,
    #[serde(default)]
    pub version: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminOrderQuery {
    pub status: Option<String>,
    pub email: Option<String>,
    pub tracking: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i32>,
}

/// What an exchange adds to a placement.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extras {
    pub credit: Option<Money>,
    pub exchange_for: Option<ReturnId>,
}

/// What a placement or edit resolves to before anything is written.
struct Prepared {
    lines: Vec<OrderLine>,
    plan: Option<Plan>,
    delivery: Delivery,
    totals: Totals,
}

/// Which delivery the customer asked for.
#[derive(Clone)]
enum DeliveryChoice {
    Level(ServiceLevel),
    Option(String),
}

fn shortage_error(e: SourcingError) -> AppError {
    match e {
        SourcingError::Short(s) => AppError::OutOfStock(s),
        SourcingError::PickupUnavailable(l) => AppError::Unprocessable {
            kind: "pickup-unavailable",
            detail: format!("location {l} cannot offer pickup of these items"),
        },
    }
}

fn parse_address(field: &str, a: &AddressInput) -> Result<Address, AppError> {
    Address::parse(a).map_err(|e| AppError::invalid_field(field, e))
}

fn pricing_error(e: crate::domain::pricing::PricingError) -> AppError {
    use crate::domain::pricing::PricingError as P;
    match e {
        P::UnknownSkus(skus) => AppError::Unprocessable {
            kind: "unknown-sku",
            detail: format!(
                "unknown or unavailable skus: {}",
                skus.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
        },
        P::MixedCurrency => AppError::Unprocessable { kind: "mixed-currency", detail: e.to_string() },
        P::Money(m) => AppError::Unprocessable { kind: "amount", detail: m.to_string() },
        other => AppError::invalid_field("lines", other),
    }
}

/// Aggregated stock movements (one per stock item, as a transaction allows).
fn hold_moves(assignments: impl IntoIterator<Item = (Sku, LocationId, i64)>) -> BTreeMap<(Sku, LocationId), i64> {
    let mut out = BTreeMap::new();
    for (s, l, q) in assignments {
        *out.entry((s, l)).or_insert(0) += q;
    }
    out
}

impl Oms {
    async fn resolve_lines(
        &self,
        caller: &Caller,
        cart_id: &Option<CartId>,
        lines: &Option<Vec<LineRequest>>,
    ) -> Result<(Vec<LineRequest>, Option<Cart>), AppError> {
        match (cart_id, lines) {
            (Some(_), Some(_)) => Err(AppError::invalid("give either cartId or lines, not both")),
            (None, None) => Err(AppError::invalid("give cartId or lines")),
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

    /// Candidates for sourcing: every location with its available units of the SKUs; units
    /// this order already holds count as available to it (for edits).
    async fn candidates(
        &self,
        skus: &[Sku],
        destination: Option<GeoPoint>,
        own: &[Reservation],
    ) -> Result<Vec<Candidate>, AppError> {
        let locations = self.store.list_locations().await?;
        let stocks = futures::future::try_join_all(skus.iter().map(|s| self.store.stock_for_sku(s))).await?;
        let mut avail: HashMap<LocationId, BTreeMap<Sku, i64>> = HashMap::new();
        for rec in stocks.into_iter().flatten() {
            *avail.entry(rec.location_id.clone()).or_default().entry(rec.sku.clone()).or_insert(0) +=
                rec.level.available;
        }
        for r in own.iter().filter(|r| r.state == ReservationState::Held) {
            *avail.entry(r.location_id.clone()).or_default().entry(r.sku.clone()).or_insert(0) += i64::from(r.quantity);
        }
        Ok(locations
            .into_iter()
            .map(|l| {
                let a = avail.remove(&l.id).unwrap_or_default();
                Candidate::new(l, a, destination)
            })
            .collect())
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
                let pickup = pickup_options(&demand, candidates, subtotal.currency(), today);
                if pickup.is_empty() {
                    return Err(AppError::OutOfStock(s));
                }
            }
            Err(e) => return Err(shortage_error(e)),
        }
        options.extend(pickup_options(&demand, candidates, subtotal.currency(), today));
        Ok(options)
    }

    async fn prepare(
        &self,
        requests: &[LineRequest],
        address: &Address,
        choice: &DeliveryChoice,
        own: &[Reservation],
    ) -> Result<Prepared, AppError> {
        let skus: Vec<Sku> = requests.iter().map(|r| r.sku.clone()).collect();
        let catalog = self.store.get_products(&skus).await?;
        let lines = price_lines(&catalog, requests, address.country).map_err(pricing_error)?;
        let currency = lines[0].unit_price.currency();
        let subtotal =
            Money::sum(currency, lines.iter().map(|l| l.subtotal)).map_err(|e| AppError::Internal(e.to_string()))?;
        let goods: Vec<Sku> = lines.iter().filter(|l| l.kind == ProductKind::Goods).map(|l| l.sku.clone()).collect();
        let destination = geo::centroid(address.country, &address.postal_code);
        let candidates = self.candidates(&goods, destination, own).await?;
        let options = self.delivery_options(&lines, address, &candidates, subtotal).await?;
        let chosen = match choice {
            DeliveryChoice::Level(level) => options.iter().find(|o| o.service_level == *level),
            DeliveryChoice::Option(id) => options.iter().find(|o| &o.id == id),
        }
        .cloned()
        .ok_or_else(|| AppError::Unprocessable {
            kind: "delivery-unavailable",
            detail: format!(
                "that delivery option is not available for these items and address; available: {}",
                options.iter().map(|o| o.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
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
            service_level: chosen.service_level,
            pickup_location: (chosen.fulfillment == Fulfillment::Pickup).then(|| chosen.locations[0].clone()),
            promised_by: chosen.promised_by,
            cost: chosen.cost,
        };
        let totals = totals(&lines, chosen.cost).map_err(pricing_error)?;
        Ok(Prepared { lines, plan, delivery, totals })
    }

    pub async fn quote(&self, caller: &Caller, req: QuoteRequest) -> Result<QuoteDto, AppError> {
        let (requests, _) = self.resolve_lines(caller, &req.cart_id, &req.lines).await?;
        let address = parse_address("shippingAddress", &req.shipping_address)?;
        let skus: Vec<Sku> = requests.iter().map(|r| r.sku.clone()).collect();
        let catalog = self.store.get_products(&skus).await?;
        let lines = price_lines(&catalog, &requests, address.country).map_err(pricing_error)?;
        let currency = lines[0].unit_price.currency();
        let subtotal =
            Money::sum(currency, lines.iter().map(|l| l.subtotal)).map_err(|e| AppError::Internal(e.to_string()))?;
        let tax = Money::sum(currency, lines.iter().map(|l| l.tax)).map_err(|e| AppError::Internal(e.to_string()))?;
        let goods: Vec<Sku> = lines.iter().filter(|l| l.kind == ProductKind::Goods).map(|l| l.sku.clone()).collect();
        let candidates = self.candidates(&goods, geo::centroid(address.country, &address.postal_code), &[]).await?;
        let options = self.delivery_options(&lines, &address, &candidates, subtotal).await?;
        Ok(QuoteDto { lines, subtotal, tax, options })
    }

    /// Places an order. Returns the status code and the exact response body, which is also
    /// what a retry with the same `Idempotency-Key` replays.
    pub async fn place_order(
        &self,
        caller: &Caller,
        idempotency_key: &str,
        request_hash: &str,
        req: PlaceOrderRequest,
    ) -> Result<(u16, String), AppError> {
        self.place_order_with(caller, idempotency_key, request_hash, req, Extras::default()).await
    }

    /// Placement with a credit (exchanges): the order's credit is the smaller of the offered
    /// credit and its total.
    pub(crate) async fn place_order_with(
        &self,
        caller: &Caller,
        idempotency_key: &str,
        request_hash: &str,
        req: PlaceOrderRequest,
        extras: Extras,
    ) -> Result<(u16, String), AppError> {
        if let Some(rec) = self.store.get_idempotency(&caller.customer, idempotency_key).await? {
            return replay(rec, request_hash);
        }
        let shipping_address = parse_address("shippingAddress", &req.shipping_address)?;
        let billing_address = req.billing_address.as_ref().map(|a| parse_address("billingAddress", a)).transpose()?;
        let email = Email::parse(&req.email).map_err(|e| AppError::invalid_field("email", e))?;
        let token = req.payment_token.trim();
        if token.is_empty() || token.len() > 255 || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::invalid_field("paymentToken", "a payment provider token is required"));
        }
        let choice = match (&req.service_level, &req.delivery_option_id) {
            (Some(_), Some(_)) => {
                return Err(AppError::invalid("give either serviceLevel or deliveryOptionId, not both"));
            }
            (Some(l), None) => DeliveryChoice::Level(*l),
            (None, Some(id)) => DeliveryChoice::Option(id.clone()),
            (None, None) => DeliveryChoice::Level(ServiceLevel::Standard),
        };
        let (requests, cart) = self.resolve_lines(caller, &req.cart_id, &req.lines).await?;

        let mut last_short = Vec::new();
        let mut last_conflict = false;
        for _attempt in 0..6 {
            last_conflict = false;
            let prepared = self.prepare(&requests, &shipping_address, &choice, &[]).await?;
            let now = self.clock.now();
            let order = Order {
                id: OrderId::generate(),
                customer: caller.customer.clone(),
                channel: req.channel,
                email: email.clone(),
                status: OrderStatus::Placed,
                lines: prepared.lines,
                shipping_address: shipping_address.clone(),
                billing_address: billing_address.clone(),
                delivery: prepared.delivery,
                totals: prepared.totals,
                payment: Payment { token: token.to_owned(), authorization_id: None, captured: None, refunded: None },
                reservations: held_reservations(&prepared.plan),
                status_reason: None,
                cart_id: cart.as_ref().map(|c| c.id.clone()),
                version: 1,
                review_cleared: false,
                credit: extras
                    .credit
                    .map(|c| if c.amount() > prepared.totals.total.amount() { prepared.totals.total } else { c }),
                exchange_for: extras.exchange_for.clone(),
                created_at: now,
                updated_at: now,
            };
            let placed_event = TimelineEvent::new(now, "order.placed", Actor::Customer(caller.customer.to_string()))
                .with_status(OrderStatus::Placed)
                .with_note(format!(
                    "channel {:?}, {} lines, total {}",
                    order.channel,
                    order.lines.len(),
                    order.totals.total
                ));
            let body = serde_json::to_string(&OrderDto::new(&order, vec![], vec![placed_event.clone()]))
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let record = IdempotencyRecord {
                request_hash: request_hash.to_owned(),
                order_id: order.id.clone(),
                status_code: 201,
                response: body.clone(),
                created_at: now,
            };

            let result = self
                .store
                .transact_retrying(|| {
                    let mut ops = vec![
                        self.store.put_new(&order_item(&order))?,
                        self.store.put_idempotency(&caller.customer, idempotency_key, &record)?,
                        self.store.put_new(&timeline_item(&order.id, &placed_event))?,
                    ];
                    for ((s, l), q) in hold_moves(
                        order
                            .reservations
                            .iter()
                            .map(|r| (r.sku.clone(), r.location_id.clone(), i64::from(r.quantity))),
                    ) {
                        ops.push(self.store.stock_move(
                            &s,
                            &l,
                            StockMove::Hold,
                            u32::try_from(q).unwrap_or(u32::MAX),
                        )?);
                    }
                    if let Some(c) = &cart {
                        let mut converted = c.clone();
                        converted.converted_order = Some(order.id.clone());
                        converted.last_activity = now;
                        converted.version = c.version + 1;
                        let mut op = self.store.put_versioned(&cart_item(&converted), c.version)?;
                        op.role = TxRole::CartConversion;
                        ops.push(op);
                    }
                    Ok(ops)
                })
                .await;
            match result {
                Ok(()) => {
                    tracing::info!(order_id = %order.id, lines = order.lines.len(), "order placed");
                    return Ok((201, body));
                }
                Err(StoreError::IdempotencyKeyUsed) => {
                    let rec = self
                        .store
                        .get_idempotency(&caller.customer, idempotency_key)
                        .await?
                        .ok_or(AppError::Internal("idempotency record vanished".into()))?;
                    return replay(rec, request_hash);
                }
                Err(StoreError::Conflict) => {
                    // Heavy contention on the same stock items: source again after a pause.
                    if let Some(rec) = self.store.get_idempotency(&caller.customer, idempotency_key).await? {
                        return replay(rec, request_hash);
                    }
                    last_conflict = true;
                    tokio::time::sleep(std::time::Duration::from_millis(20 + rand::random::<u64>() % 80)).await;
                }
                Err(StoreError::OutOfStock(short)) => {
                    // A concurrent duplicate may have won the race; it explains the shortage.
                    if let Some(rec) = self.store.get_idempotency(&caller.customer, idempotency_key).await? {
                        return replay(rec, request_hash);
                    }
                    // Stock moved between our read and our write: source again.
                    last_short = short;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if last_conflict {
            return Err(AppError::Unavailable("too many concurrent orders for these items; retry shortly".into()));
        }
        let shortages = last_short
            .into_iter()
            .map(|(sku, _)| {
                let requested = requests.iter().find(|r| r.sku == sku).map(|r| r.quantity.get()).unwrap_or(0);
                sourcing::Shortage { sku, requested, available: 0 }
            })
            .collect();
        Err(AppError::OutOfStock(shortages))
    }

    /// The caller's order (admins may read any); another customer's order is "not found".
    async fn owned_order(&self, caller: &Caller, id: &OrderId) -> Result<Order, AppError> {
        match self.store.get_order(id).await? {
            Some(o) if caller.admin || o.customer == caller.customer => Ok(o),
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn get_order(&self, caller: &Caller, id: &OrderId) -> Result<OrderDto, AppError> {
        match self.store.get_order_view(id).await? {
            Some(v) if caller.admin || v.order.customer == caller.customer => Ok(OrderDto::from_stored(v)),
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn list_orders(
        &self,
        caller: &Caller,
        limit: Option<i32>,
        cursor: Option<&str>,
    ) -> Result<OrderList, AppError> {
        let limit = check_limit(limit)?;
        let page = self.store.orders_of_customer(&caller.customer, limit, cursor).await?;
        Ok(OrderList { orders: page.items.iter().map(OrderSummary::from).collect(), next_cursor: page.next_cursor })
    }

    pub async fn admin_list_orders(&self, q: AdminOrderQuery) -> Result<OrderList, AppError> {
        let limit = check_limit(q.limit)?;
        let from = q.from.as_deref().map(parse_from).transpose()?;
        if let Some(t) = q.tracking.as_deref() {
            return self.find_by_tracking(t.trim()).await;
        }
        let to = q.to.as_deref().map(parse_from).transpose()?;
        let mut page = match (q.status.as_deref(), q.email.as_deref()) {
            (Some(s), None) => {
                let status = OrderStatus::parse(s)
                    .ok_or_else(|| AppError::invalid_field("status", format!("unknown status {s:?}")))?;
                self.store.orders_by_status(status, from, limit, q.cursor.as_deref()).await?
            }
            (status, Some(e)) => {
                let email = Email::parse(e).map_err(|err| AppError::invalid_field("email", err))?;
                let mut page = self.store.orders_by_email(&email, from, limit, q.cursor.as_deref()).await?;
                if let Some(s) = status {
                    let st = OrderStatus::parse(s)
                        .ok_or_else(|| AppError::invalid_field("status", format!("unknown status {s:?}")))?;
                    page.items.retain(|o| o.status == st);
                }
                page
            }
            (None, None) => {
                return Err(AppError::invalid(
                    "give status, email or tracking (orders are found through an index, never a scan)",
                ));
            }
        };
        if let Some(to) = to {
            page.items.retain(|o| o.created_at <= to);
        }
        Ok(OrderList { orders: page.items.iter().map(OrderSummary::from).collect(), next_cursor: page.next_cursor })
    }

    /// Cancels an order that has not shipped: holds and allocations go back to available, any
    /// payment authorization is voided. Cancelling a cancelled order returns it unchanged.
    pub async fn cancel_order(
        &self,
        caller: &Caller,
        id: &OrderId,
        actor: Actor,
        reason: Option<String>,
    ) -> Result<OrderDto, AppError> {
        for _ in 0..5 {
            let order = self.owned_order(caller, id).await?;
            if order.status == OrderStatus::Cancelled {
                return self.get_order(caller, id).await;
            }
            if !order.status.is_cancellable() {
                return Err(AppError::InvalidState { status: order.status, action: "cancelled" });
            }
            if let (Some(auth), Some(p)) = (&order.payment.authorization_id, &self.payments) {
                // Money already captured is refunded; what is only authorized is voided.
                let captured = order.payment.captured.map(|m| m.amount()).unwrap_or(0)
                    - order.payment.refunded.map(|m| m.amount()).unwrap_or(0);
                if captured > 0 {
                    let m = Money::new(captured, order.totals.total.currency())
                        .map_err(|e| AppError::Internal(e.to_string()))?;
                    p.refund(auth, &m, &format!("cancel-refund-{}", order.id))
                        .await
                        .map_err(|e| AppError::Unavailable(e.to_string()))?;
                }
                p.void(auth, &format!("void-{}", order.id)).await.map_err(|e| AppError::Unavailable(e.to_string()))?;
            }
            self.notify(&super::fulfillment::Notification::new("order.cancelled", &order.id, reason.clone())).await?;
            let now = self.clock.now();
            let mut next = order.clone();
            next.apply(OrderEvent::Cancel, now)?;
            next.version += 1;
            next.status_reason = reason.clone();
            let mut moves = Vec::new();
            for r in next.reservations.iter_mut() {
                match r.state {
                    ReservationState::Held => {
                        moves.push((r.sku.clone(), r.location_id.clone(), StockMove::ReleaseHold, r.quantity))
                    }
                    ReservationState::Allocated => {
                        moves.push((r.sku.clone(), r.location_id.clone(), StockMove::ReleaseAllocation, r.quantity))
                    }
                    _ => continue,
                }
                r.state = ReservationState::Released;
            }
            let mut ev = TimelineEvent::new(now, "order.cancelled", actor.clone()).with_status(OrderStatus::Cancelled);
            if let Some(r) = &reason {
                ev = ev.with_note(r.clone());
            }
            let res = self
                .store
                .transact_retrying(|| {
                    let mut ops: Vec<TxOp> = vec![
                        self.store.put_versioned(&order_item(&next), order.version)?,
                        self.store.put_new(&timeline_item(&next.id, &ev))?,
                    ];
                    for (s, l, mv, q) in &moves {
                        ops.push(self.store.stock_move(s, l, *mv, *q)?);
                    }
                    Ok(ops)
                })
                .await;
            match res {
                Ok(()) => {
                    tracing::info!(order_id = %id, "order cancelled");
                    return self.get_order(caller, id).await;
                }
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::StaleVersion)
    }

    /// Changes lines, quantities, address or delivery before the order is released to the
    /// warehouse: re-priced, holds adjusted by their difference, all in one transaction
    /// guarded by the version the caller read.
    pub async fn edit_order(
        &self,
        caller: &Caller,
        id: &OrderId,
        if_match: Option<u64>,
        req: EditOrderRequest,
    ) -> Result<OrderDto, AppError> {
        let expected = if_match.or(req.version).ok_or(AppError::VersionRequired)?;
        let order = self.owned_order(caller, id).await?;
        if order.version != expected {
            return Err(AppError::StaleVersion);
        }
        if !order.status.is_editable() {
            return Err(AppError::InvalidState { status: order.status, action: "edited" });
        }
        if req.lines.is_none()
            && req.shipping_address.is_none()
            && req.service_level.is_none()
            && req.delivery_option_id.is_none()
        {
            return Err(AppError::invalid(
                "nothing to change: give lines, shippingAddress, serviceLevel or deliveryOptionId",
            ));
        }
        let address = match &req.shipping_address {
            Some(a) => parse_address("shippingAddress", a)?,
            None => order.shipping_address.clone(),
        };
        let requests: Vec<LineRequest> = match &req.lines {
            Some(l) => l.clone(),
            None => order
                .lines
                .iter()
                .map(|l| {
                    Ok(LineRequest {
                        sku: l.sku.clone(),
                        quantity: Quantity::new(l.quantity).map_err(|e| AppError::Internal(e.to_string()))?,
                    })
                })
                .collect::<Result<_, AppError>>()?,
        };
        let choice = match (&req.service_level, &req.delivery_option_id) {
            (Some(_), Some(_)) => {
                return Err(AppError::invalid("give either serviceLevel or deliveryOptionId, not both"));
            }
            (Some(l), None) => DeliveryChoice::Level(*l),
            (None, Some(o)) => DeliveryChoice::Option(o.clone()),
            (None, None) => match &order.delivery.pickup_location {
                Some(l) => DeliveryChoice::Option(format!("pickup-{l}")),
                None => DeliveryChoice::Level(order.delivery.service_level),
            },
        };
        let prepared = self.prepare(&requests, &address, &choice, &order.reservations).await?;
        let now = self.clock.now();
        let mut next = order.clone();
        next.lines = prepared.lines;
        next.shipping_address = address;
        next.delivery = prepared.delivery;
        next.totals = prepared.totals;
        next.reservations = held_reservations(&prepared.plan);
        next.version += 1;
        next.updated_at = now;
        let old = order.open_reservations().map(|r| (r.sku.clone(), r.location_id.clone(), -i64::from(r.quantity)));
        let new = next.reservations.iter().map(|r| (r.sku.clone(), r.location_id.clone(), i64::from(r.quantity)));
        let deltas = hold_moves(old.chain(new));
        let ev = TimelineEvent::new(now, "order.edited", Actor::Customer(caller.customer.to_string()))
            .with_note(format!("{} lines, total {}", next.lines.len(), next.totals.total));
        self.store
            .transact_retrying(|| {
                let mut ops = vec![
                    self.store.put_versioned(&order_item(&next), order.version)?,
                    self.store.put_new(&timeline_item(&next.id, &ev))?,
                ];
                for ((s, l), d) in &deltas {
                    let q = u32::try_from(d.unsigned_abs()).unwrap_or(u32::MAX);
                    match d.cmp(&0) {
                        std::cmp::Ordering::Greater => ops.push(self.store.stock_move(s, l, StockMove::Hold, q)?),
                        std::cmp::Ordering::Less => ops.push(self.store.stock_move(s, l, StockMove::ReleaseHold, q)?),
                        std::cmp::Ordering::Equal => {}
                    }
                }
                Ok(ops)
            })
            .await
            .map_err(|e| match e {
                StoreError::OutOfStock(short) => AppError::OutOfStock(
                    short.into_iter().map(|(sku, _)| sourcing::Shortage { sku, requested: 0, available: 0 }).collect(),
                ),
                other => other.into(),
            })?;
        self.get_order(caller, id).await
    }
}

impl Oms {
    /// Releases a held order (agent action): holds are re-established if compensation released
    /// them, and the order re-enters the workflow (the table stream sees it return to `placed`).
    pub async fn release_hold(&self, caller: &Caller, id: &OrderId) -> Result<OrderDto, AppError> {
        let order = self.owned_order(caller, id).await?;
        if order.status != OrderStatus::OnHold {
            return Err(AppError::InvalidState { status: order.status, action: "released from hold" });
        }
        let now = self.clock.now();
        let mut next = order.clone();
        let mut moves = Vec::new();
        if order.open_reservations().next().is_none() {
            let requests: Vec<LineRequest> = order
                .lines
                .iter()
                .map(|l| {
                    Ok(LineRequest {
                        sku: l.sku.clone(),
                        quantity: Quantity::new(l.quantity).map_err(|e| AppError::Internal(e.to_string()))?,
                    })
                })
                .collect::<Result<_, AppError>>()?;
            let choice = match &order.delivery.pickup_location {
                Some(l) => DeliveryChoice::Option(format!("pickup-{l}")),
                None => DeliveryChoice::Level(order.delivery.service_level),
            };
            let prepared = self.prepare(&requests, &order.shipping_address, &choice, &[]).await?;
            next.reservations = held_reservations(&prepared.plan);
            moves = next.reservations.iter().map(|r| (r.sku.clone(), r.location_id.clone(), r.quantity)).collect();
        }
        next.apply(OrderEvent::ReleaseHold, now)?;
        next.version += 1;
        next.status_reason = None;
        next.review_cleared = true;
        let ev = TimelineEvent::new(now, "order.hold_released", Actor::Agent(caller.customer.to_string()))
            .with_status(next.status);
        self.store
            .transact_retrying(|| {
                let mut ops = vec![
                    self.store.put_versioned(&order_item(&next), order.version)?,
                    self.store.put_new(&timeline_item(&next.id, &ev))?,
                ];
                for (s, l, q) in &moves {
                    ops.push(self.store.stock_move(s, l, StockMove::Hold, *q)?);
                }
                Ok(ops)
            })
            .await
            .map_err(|e| match e {
                StoreError::OutOfStock(short) => AppError::OutOfStock(
                    short.into_iter().map(|(sku, _)| sourcing::Shortage { sku, requested: 0, available: 0 }).collect(),
                ),
                other => other.into(),
            })?;
        self.get_order(caller, id).await
    }

    /// A shipment's label document (PDF), for agents and warehouse staff.
    pub async fn label_pdf(&self, order: &OrderId, shipment: &ShipmentId) -> Result<Vec<u8>, AppError> {
        use base64::Engine;
        let doc = self.store.get_label(order, shipment).await?.ok_or(AppError::NotFound)?;
        base64::engine::general_purpose::STANDARD.decode(doc.pdf_base64).map_err(|e| AppError::Internal(e.to_string()))
    }
}

/// The holds a sourcing plan asks for.
fn held_reservations(plan: &Option<Plan>) -> Vec<Reservation> {
    plan.iter()
        .flat_map(|p| p.assignments.iter())
        .map(|a| Reservation {
            sku: a.sku.clone(),
            location_id: a.location_id.clone(),
            quantity: a.quantity,
            state: ReservationState::Held,
        })
        .collect()
}

fn replay(rec: IdempotencyRecord, request_hash: &str) -> Result<(u16, String), AppError> {
    if rec.request_hash == request_hash {
        Ok((rec.status_code, rec.response))
    } else {
        Err(AppError::IdempotencyMismatch)
    }
}

fn check_limit(limit: Option<i32>) -> Result<i32, AppError> {
    let l = limit.unwrap_or(20);
    if !(1..=100).contains(&l) {
        return Err(AppError::invalid_field("limit", "must be between 1 and 100"));
    }
    Ok(l)
}

fn parse_from(s: &str) -> Result<DateTime<Utc>, AppError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| AppError::invalid_field("from", "use an RFC 3339 timestamp or a YYYY-MM-DD date"))
}
