//! Placement: idempotent per (customer, Idempotency-Key), stock held in the same write as the
//! order, the cart converted with it.

use super::super::projections::customer_order;
use super::super::{AppError, Caller, Oms};
use super::{DeliveryChoice, Extras, PlaceOrderRequest, delivery_choice, parse_address_as};
use crate::domain::order::Discounts;
use crate::domain::promotion::PromotionUse;
use crate::domain::*;
use crate::ports::StoreError;

impl Oms {
    /// Places an order. Returns the status code and the exact response body, which is also
    /// what a retry with the same `Idempotency-Key` replays.
    pub async fn place_order(
        &self,
        caller: &Caller,
        idempotency_key: &str,
        request_hash: &str,
        req: PlaceOrderRequest,
    ) -> Result<(u16, String), AppError> {
        // A customer's own orders come from the web shop or the app; the other channels are
        // staff's (call centre and store: `place_order_for`) and imports'.
        if !matches!(req.channel, Channel::Web | Channel::App) {
            return Err(AppError::invalid_field(
                "channel",
                "a customer places web and app orders; call_center and store orders are placed by staff \
                 (POST /v1/admin/orders), marketplace orders are imported",
            ));
        }
        if req.payment_link.is_some() {
            return Err(AppError::invalid_field(
                "paymentLink",
                "payment links are sent by staff for orders they place; give a paymentToken",
            ));
        }
        if req.take_away.is_some() {
            return Err(AppError::invalid_field("takeAway", "take-away orders are placed by store staff at the till"));
        }
        self.place_order_with(caller, idempotency_key, request_hash, req, Extras::default()).await
    }

    /// A call-centre or store order placed by staff for a customer: the customer's order (their
    /// idempotency keys, carts, mail), the staff member recorded as who placed it.
    pub async fn place_order_for(
        &self,
        staff: &Caller,
        customer: &CustomerId,
        idempotency_key: &str,
        request_hash: &str,
        req: PlaceOrderRequest,
    ) -> Result<(u16, String), AppError> {
        if !staff.may(super::super::Permission::ActForCustomer) {
            return Err(AppError::Forbidden);
        }
        if !matches!(req.channel, Channel::CallCenter | Channel::Store) {
            return Err(AppError::invalid_field(
                "channel",
                "staff place call_center and store orders; web and app orders are the customer's, marketplace \
                 orders are imported",
            ));
        }
        let till_store = req.delivery_option_id.as_deref().is_some_and(|o| o.starts_with("pickup-"));
        if req.takes_away() && (req.channel != Channel::Store || req.link() || !till_store) {
            return Err(AppError::invalid_field(
                "takeAway",
                "take-away is for store orders paid at the till (channel store, a paymentToken, deliveryOptionId pickup-<store>)",
            ));
        }
        if req.link() && req.payment_token.is_some() {
            return Err(AppError::invalid_field(
                "paymentLink",
                "either a saved paymentToken or paymentLink: true (the customer pays from a mailed link), not both",
            ));
        }
        let extras = Extras { placed_by: Some(staff.customer.to_string()), ..Extras::default() };
        self.place_order_with(&Caller::customer(customer.clone()), idempotency_key, request_hash, req, extras).await
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
        let scope = extras.idempotency_scope.clone().unwrap_or_else(|| caller.customer.clone());
        if let Some(rec) = self.store.get_idempotency(&scope, idempotency_key).await? {
            return self.replay(rec, request_hash).await;
        }
        let label = !extras.stored_address;
        let shipping_address = parse_address_as("shippingAddress", &req.shipping_address, label)?;
        let billing_address =
            req.billing_address.as_ref().map(|a| parse_address_as("billingAddress", a, label)).transpose()?;
        let email = Email::parse(&req.email).map_err(|e| AppError::invalid_field("email", e))?;
        // No token only for a staff order whose customer pays from a link: the payment step
        // then asks for it (an empty token is never sent to the provider).
        if req.purchase_order.is_some() && (req.payment_token.is_some() || req.link() || extras.marketplace.is_some()) {
            return Err(AppError::invalid_field(
                "purchaseOrder",
                "an order on account has no paymentToken or payment link: the company is invoiced",
            ));
        }
        let terms = match &req.purchase_order {
            Some(po) => Some(self.purchase_terms(&caller.customer, po).await?.1),
            None => None,
        };
        let token = match (&req.payment_token, req.link()) {
            _ if extras.marketplace.is_some() || terms.is_some() => "",
            (_, true) => "",
            (Some(t), false) => super::payment::parse_token(t)?,
            (None, false) => {
                return Err(AppError::invalid_field("paymentToken", "a payment provider token is required"));
            }
        };
        let choice = delivery_choice(
            &req.service_level,
            &req.delivery_option_id,
            DeliveryChoice::Level(ServiceLevel::Standard),
        )?;
        let (requests, cart) = self.resolve_lines(caller, &req.cart_id, &req.lines).await?;
        // The rules in force decide this order (confirmation call here, fraud and holds at
        // validation, by the version it records); sourcing reads them in `prepare`.
        let rules = self.store.current_rules().await?;
        let rule = &rules.set.confirmation_calls;
        let first_order = rule.enabled
            && rule.first_order
            && self.store.orders_of_customer(&caller.customer, crate::ports::Listing::first(1)).await?.items.is_empty();

        // Promotions: none on replacements and imports (priced elsewhere).
        let codes = super::super::promotions::parse_codes(&req.promotion_codes)?;
        if !codes.is_empty() && (extras.exchange_for.is_some() || extras.marketplace.is_some()) {
            return Err(AppError::invalid_field("promotionCodes", "not for exchanges and marketplace imports"));
        }
        let promotions_apply = extras.exchange_for.is_none() && extras.marketplace.is_none();
        let mut exhausted = std::collections::HashSet::new();
        let mut last_short = Vec::new();
        let mut last_conflict = false;
        let attempts = crate::retry::Backoff::CONTENTION.attempts + 3;
        for attempt in 1..=attempts {
            last_conflict = false;
            let mut prepared =
                self.prepare(&requests, &shipping_address, &choice, &[], req.channel, &rules.set).await?;
            if let Some(fee) = extras.marketplace.as_ref().and_then(|m| m.fee) {
                let total = prepared.totals.total;
                // Valid by the contract, refused by the order: 422 naming the field.
                if fee.currency() != total.currency() {
                    return Err(AppError::UnprocessableField {
                        kind: "fee-not-in-order-currency",
                        detail: format!("marketplaceFee.currency: the order's currency, {}", total.currency()),
                        field: "marketplaceFee.currency",
                    });
                }
                if fee.amount() > total.amount() {
                    return Err(AppError::UnprocessableField {
                        kind: "fee-over-total",
                        detail: format!("marketplaceFee.amount: at most the order's total, {total}"),
                        field: "marketplaceFee.amount",
                    });
                }
            }
            if req.takes_away() {
                if prepared.delivery.pickup_location.is_none() {
                    return Err(AppError::invalid_field(
                        "takeAway",
                        "a take-away order uses the store's pickup option (deliveryOptionId pickup-<store>)",
                    ));
                }
                prepared.delivery.take_away = true;
            }
            if extras.exchange_for.is_some() {
                // A replacement ships at the shop's cost.
                let zero = Money::zero(prepared.totals.total.currency());
                prepared.delivery.cost = zero;
                prepared.totals =
                    crate::domain::pricing::totals(&prepared.lines, zero).map_err(super::pricing_error)?;
            }
            let chosen = match promotions_apply {
                true => {
                    self.choose_promotions(&caller.customer, req.channel, &codes, &prepared.lines, &exhausted).await?
                }
                false => Vec::new(),
            };
            let mut discounts = Discounts::default();
            if !chosen.is_empty() {
                let (applied, totals) = super::super::promotions::reprice(
                    &mut prepared.lines,
                    prepared.delivery.cost,
                    &chosen,
                    &mut [],
                    shipping_address.country,
                )?;
                prepared.totals = totals;
                discounts.promotions = applied;
                discounts.held_uses = chosen.iter().map(|(p, _)| p.id.clone()).collect();
            }
            let now = self.clock.now();
            let prepared_keep = std::mem::take(&mut prepared.keep);
            let order = Order {
                id: OrderId::generate(),
                customer: caller.customer.clone(),
                channel: req.channel,
                email: email.clone(),
                status: OrderStatus::Placed,
                lines: prepared.lines,
                shipping_address: shipping_address.clone(),
                billing_address: billing_address.clone(),
                former_addresses: Vec::new(),
                delivery: prepared.delivery,
                totals: prepared.totals,
                payment: Payment {
                    token: token.to_owned(),
                    authorization_id: None,
                    captured: None,
                    refunded: None,
                    ledger: vec![],
                    recovery: None,
                    method: match &extras.marketplace {
                        Some(m) => PaymentMethod::Marketplace(m.clone()),
                        None if terms.is_some() => PaymentMethod::Terms(terms.clone().ok_or(AppError::StaleVersion)?),
                        None if req.link() => PaymentMethod::Link,
                        None => PaymentMethod::Token,
                    },
                    credit_refunded: None,
                },
                reservations: prepared.reservations,
                status_reason: None,
                cart_id: cart.as_ref().map(|c| c.id.clone()),
                version: 1,
                review_cleared: false,
                held_from: None,
                credit: extras
                    .credit
                    .map(|c| if c.amount() > prepared.totals.total.amount() { prepared.totals.total } else { c }),
                exchange_for: extras.exchange_for.clone(),
                placement_key: Some(idempotency_key.to_owned()),
                confirmation: None,
                pickup: None,
                visits: Vec::new(),
                warranty_claims: Vec::new(),
                rules_version: Some(rules.version),
                discounts,
                created_at: now,
                updated_at: now,
                stored_body: StoredBody::default(),
            };
            let mut order = order;
            // A rule may ask an agent to call the customer before fulfillment starts.
            let call = rule.call_for(&order, first_order, now);
            if let Some(c) = &call {
                order.status = OrderStatus::AwaitingConfirmation;
                order.status_reason = Some(format!("confirmation call: {}", c.reason));
            }
            order.confirmation = call.clone();
            let actor = match (&extras.placed_by, &extras.marketplace) {
                (_, Some(m)) => Actor::System(format!("marketplace {} order {}", m.marketplace, m.order_reference)),
                (Some(staff), None) => Actor::Agent(staff.clone()),
                (None, None) => Actor::Customer(caller.customer.to_string()),
            };
            let placed_event =
                TimelineEvent::new(now, "order.placed", actor).with_status(order.status).with_note(format!(
                    "channel {}, {} lines, total {}{}",
                    serde_json::to_value(order.channel)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    order.lines.len(),
                    order.totals.total,
                    call.as_ref().map(|c| format!("; confirmation call: {}", c.reason)).unwrap_or_default()
                ));
            let body = serde_json::to_string(&customer_order(&order, &[], std::slice::from_ref(&placed_event)))
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let record = IdempotencyRecord {
                request_hash: request_hash.to_owned(),
                order_id: order.id.clone(),
                status_code: 201,
                // A replay renders the order as it is then: the record stays a few bytes.
                response: String::new(),
                created_at: now,
            };

            let mut change = OrderChange::create(order.clone()).with_event(placed_event);
            // On account: the company's credit drawn in this commit, on its version.
            if let (Some(po), Some(_)) = (&req.purchase_order, &terms) {
                let (company, _) = self.purchase_terms(&caller.customer, po).await?;
                change.company = Some(Self::draw_credit(&company, order.payable(), now)?);
            }
            change.idempotency = Some((scope.clone(), idempotency_key.to_owned(), record));
            change.promotion_uses = chosen.iter().map(|(p, _)| PromotionUse::hold(p, &caller.customer)).collect();
            for r in &order.reservations {
                change = change.with_reservation(r, StockMove::Hold);
            }
            change = change.keeping(&prepared_keep);
            if let Some(c) = &cart {
                let mut converted = c.clone();
                converted.converted_order = Some(order.id.clone());
                converted.last_activity = now;
                converted.version = c.version + 1;
                change.cart = Some((converted, c.version));
            }
            self.hot.commits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let result = self.store.commit(&change).await;
            match result {
                Ok(()) => {
                    tracing::info!(order_id = %order.id, lines = order.lines.len(), "order placed");
                    return Ok((201, body));
                }
                // The company's credit moved meanwhile (another order on the account): again.
                Err(StoreError::StaleVersion) if req.purchase_order.is_some() => {
                    if let Some(rec) = self.store.get_idempotency(&scope, idempotency_key).await? {
                        return self.replay(rec, request_hash).await;
                    }
                    last_conflict = true;
                    tokio::time::sleep(crate::retry::Backoff::CONTENTION.pause(attempt)).await;
                }
                // A promotion's last use went to another order: an entered code is refused, an
                // automatic promotion is left out and the order priced again.
                Err(StoreError::PromotionExhausted(id)) => {
                    if let Some(rec) = self.store.get_idempotency(&scope, idempotency_key).await? {
                        return self.replay(rec, request_hash).await;
                    }
                    if let Some((_, Some(code))) = chosen.iter().find(|(p, _)| p.id == id) {
                        return Err(super::super::promotions::exhausted(code));
                    }
                    exhausted.insert(id);
                }
                Err(StoreError::IdempotencyKeyUsed) => {
                    let rec = self
                        .store
                        .get_idempotency(&scope, idempotency_key)
                        .await?
                        .ok_or(AppError::Internal("idempotency record vanished".into()))?;
                    return self.replay(rec, request_hash).await;
                }
                Err(StoreError::Conflict | StoreError::Unavailable(_)) => {
                    // Heavy contention on the same stock items, or a store that did not answer
                    // (the commit may have happened: the idempotency record tells): source
                    // again after a pause.
                    if let Some(rec) = self.store.get_idempotency(&scope, idempotency_key).await? {
                        return self.replay(rec, request_hash).await;
                    }
                    last_conflict = true;
                    let items: Vec<(Sku, LocationId)> =
                        order.reservations.iter().map(|r| (r.sku.clone(), r.location_id.clone())).collect();
                    self.note_contention(items).await;
                    if attempt < attempts {
                        tokio::time::sleep(crate::retry::Backoff::CONTENTION.pause(attempt)).await;
                    }
                }
                Err(StoreError::OutOfStock(short)) => {
                    // A concurrent duplicate may have won the race; it explains the shortage.
                    if let Some(rec) = self.store.get_idempotency(&scope, idempotency_key).await? {
                        return self.replay(rec, request_hash).await;
                    }
                    // Stock moved between our read and our write: source again.
                    self.hot.short_commits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    self.note_contention(short.clone()).await;
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

    /// What a retried placement answers: the order its key placed, as it is now (201), or a
    /// refusal when the key was used for another request.
    async fn replay(&self, rec: IdempotencyRecord, request_hash: &str) -> Result<(u16, String), AppError> {
        if rec.request_hash != request_hash {
            return Err(AppError::IdempotencyMismatch);
        }
        if !rec.response.is_empty() {
            return Ok((rec.status_code, rec.response));
        }
        let v = self
            .store
            .get_order_view(&rec.order_id)
            .await?
            .ok_or_else(|| AppError::Internal("the order an idempotency key placed is missing".into()))?;
        let body = serde_json::to_string(&customer_order(&v.order, &v.shipments, &v.timeline))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((rec.status_code, body))
    }
}
