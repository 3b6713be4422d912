//! Backorders and pre-orders (`POST /v1/backorders`): a customer's request for a SKU flagged with
//! a backorder limit is accepted without stock while the units waiting stay within the limit
//! (a condition of the request's own write, so a hundred customers at once never pass it). When
//! stock comes (a count or an adjustment of the SKU, or `POST /v1/admin/backorders/{sku}/allocate`)
//! the waiting requests become orders in arrival order, each placed like any order (keyed by the
//! request, so a retried allocation places it once); the first that cannot be filled yet stops
//! the line, so a later request never jumps an earlier one.

use super::orders::{Extras, PlaceOrderRequest};
use super::{AppError, Caller, Oms, Permission};
use crate::domain::backorder::{Backorder, BackorderStatus};
use crate::domain::pricing::LineRequest;
use crate::domain::*;
use crate::ports::StoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackorderInput {
    pub sku: Sku,
    pub quantity: u32,
    pub shipping_address: AddressInput,
    pub email: String,
    #[serde(default)]
    pub service_level: Option<ServiceLevel>,
    pub payment_token: String,
    pub channel: Channel,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackorderView {
    #[serde(flatten)]
    pub backorder: Backorder,
    /// Waiting: how many units of earlier requests are ahead of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units_ahead: Option<u32>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackorderQueue {
    pub sku: Sku,
    pub limit: Option<u32>,
    pub waiting_units: u32,
    pub items: Vec<Backorder>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    pub sku: Sku,
    /// Requests that became orders now.
    pub placed: Vec<String>,
    /// Requests refused when placed (an address or payment the order would not take).
    pub cancelled: Vec<String>,
    /// Still waiting.
    pub waiting: usize,
}

fn view(b: Backorder, all: &[Backorder]) -> BackorderView {
    let ahead = (b.status == BackorderStatus::Waiting).then(|| {
        all.iter()
            .filter(|x| x.status == BackorderStatus::Waiting && x.backorder_id < b.backorder_id)
            .map(|x| x.quantity)
            .sum()
    });
    BackorderView { backorder: b, units_ahead: ahead }
}

impl Oms {
    pub async fn request_backorder(&self, caller: &Caller, input: BackorderInput) -> Result<BackorderView, AppError> {
        if !(1..=Quantity::MAX).contains(&input.quantity) {
            return Err(AppError::invalid_field("quantity", format!("1 to {}", Quantity::MAX)));
        }
        if input.service_level == Some(ServiceLevel::Pickup) {
            return Err(AppError::invalid_field("serviceLevel", "standard, express or overnight"));
        }
        if !matches!(input.channel, Channel::Web | Channel::App) {
            return Err(AppError::invalid_field("channel", "web or app"));
        }
        let address = super::orders::parse_address("shippingAddress", &input.shipping_address)?;
        let email = Email::parse(&input.email).map_err(|e| AppError::invalid_field("email", e))?;
        let token = super::orders::parse_token(&input.payment_token)?.to_owned();
        let product = self.store.get_products(std::slice::from_ref(&input.sku)).await?.remove(&input.sku);
        let limit = match &product {
            Some(p) if p.active && p.kind == ProductKind::Goods => {
                p.backorder_limit.ok_or(AppError::UnprocessableField {
                    kind: "not-backordered",
                    detail: format!("sku: {} is not taken on backorder", input.sku),
                    field: "sku",
                })?
            }
            _ => {
                return Err(AppError::UnprocessableField {
                    kind: "unknown-sku",
                    detail: format!("sku: no product {}", input.sku),
                    field: "sku",
                });
            }
        };
        let now = self.clock.now();
        let b = Backorder {
            backorder_id: ulid::Ulid::new().to_string(),
            sku: input.sku.clone(),
            quantity: input.quantity,
            customer: caller.customer.clone(),
            email,
            shipping_address: address,
            service_level: input.service_level.unwrap_or(ServiceLevel::Standard),
            payment_token: token,
            channel: input.channel,
            status: BackorderStatus::Waiting,
            order_id: None,
            reason: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.store.add_backorder(&b, limit).await?;
        tracing::info!(sku = %b.sku, quantity = b.quantity, "backorder accepted");
        // Stock may be there already: the line moves at once.
        if let Err(e) = self.allocate_backorders(&b.sku).await {
            tracing::warn!(sku = %b.sku, error = %e, "backorder allocation deferred");
        }
        self.backorder(caller, &b.sku, &b.backorder_id).await
    }

    pub async fn backorder(&self, caller: &Caller, sku: &Sku, id: &str) -> Result<BackorderView, AppError> {
        let all = self.store.backorders(sku).await?;
        let b = all.iter().find(|b| b.backorder_id == id).cloned();
        match b {
            Some(b) if caller.reads(&b.customer) => Ok(view(b, &all)),
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn cancel_backorder(&self, caller: &Caller, sku: &Sku, id: &str) -> Result<BackorderView, AppError> {
        let b = self
            .store
            .get_backorder(sku, id)
            .await?
            .filter(|b| caller.acts_for(&b.customer))
            .ok_or(AppError::NotFound)?;
        match b.status {
            BackorderStatus::Cancelled => return self.backorder(caller, sku, id).await,
            BackorderStatus::Placing => {
                return Err(AppError::Conflict {
                    kind: "backorder-placing",
                    detail: format!("backorder {id} is becoming an order now: cancel the order"),
                });
            }
            BackorderStatus::Placed => {
                return Err(AppError::Conflict {
                    kind: "backorder-placed",
                    detail: format!(
                        "backorder {id} is order {}: cancel the order",
                        b.order_id.map(|o| o.to_string()).unwrap_or_default()
                    ),
                });
            }
            BackorderStatus::Waiting => {}
        }
        let next =
            b.settled(BackorderStatus::Cancelled, None, Some("cancelled by the customer".into()), self.clock.now());
        match self.store.settle_backorder(&next, b.version).await {
            Ok(()) => self.backorder(caller, sku, id).await,
            // An allocation claimed it meanwhile (or another cancel won): as it is now.
            Err(StoreError::StaleVersion) => match self.store.get_backorder(sku, id).await?.map(|b| b.status) {
                Some(BackorderStatus::Cancelled) => self.backorder(caller, sku, id).await,
                _ => Err(AppError::Conflict {
                    kind: "backorder-placing",
                    detail: format!("backorder {id} is becoming an order now: cancel the order"),
                }),
            },
            Err(e) => Err(e.into()),
        }
    }

    pub async fn backorder_queue(&self, caller: &Caller, sku: &Sku) -> Result<BackorderQueue, AppError> {
        if !(caller.may(Permission::Stock) || caller.may(Permission::ReadOrders)) {
            return Err(AppError::Forbidden);
        }
        let limit =
            self.store.get_products(std::slice::from_ref(sku)).await?.remove(sku).and_then(|p| p.backorder_limit);
        Ok(BackorderQueue {
            sku: sku.clone(),
            limit,
            waiting_units: self.store.backordered_units(sku).await?,
            items: self.store.backorders(sku).await?,
        })
    }

    /// Places the SKU's waiting requests in arrival order while stock lasts.
    #[tracing::instrument(skip_all, fields(sku = %sku))]
    pub async fn allocate_backorders(&self, sku: &Sku) -> Result<Allocation, AppError> {
        let mut out = Allocation { sku: sku.clone(), placed: Vec::new(), cancelled: Vec::new(), waiting: 0 };
        let waiting: Vec<Backorder> = self
            .store
            .backorders(sku)
            .await?
            .into_iter()
            .filter(|b| matches!(b.status, BackorderStatus::Waiting | BackorderStatus::Placing))
            .collect();
        // What the SKU could promise now (a guide: the placement's own commit decides): no
        // request is claimed for stock that is not there.
        let mut promisable: i64 = self
            .store
            .stock_for_sku(sku)
            .await?
            .iter()
            .map(|r| r.level.available - r.control.as_ref().map_or(0, |c| c.safety_stock.max(0)))
            .sum::<i64>()
            .max(0);
        for (i, b) in waiting.iter().enumerate() {
            if b.status == BackorderStatus::Waiting && promisable < i64::from(b.quantity) {
                out.waiting = waiting.len() - i;
                break;
            }
            promisable -= i64::from(b.quantity);
            // Claimed first, on its version: a cancel racing this loses (409) or wins (this
            // skips it), never both; another allocation's claim makes this one skip it too. A
            // request left `placing` by an interrupted run is placed again with the same key.
            let b = if b.status == BackorderStatus::Waiting {
                let claim = b.settled(BackorderStatus::Placing, None, None, self.clock.now());
                match self.store.update_backorder(&claim, b.version).await {
                    Ok(()) => claim,
                    Err(StoreError::StaleVersion) => continue,
                    Err(e) => return Err(e.into()),
                }
            } else {
                b.clone()
            };
            let b = &b;
            let quantity = Quantity::new(b.quantity).map_err(|e| AppError::Internal(e.to_string()))?;
            let req = PlaceOrderRequest {
                promotion_codes: None,
                cart_id: None,
                lines: Some(vec![LineRequest { sku: b.sku.clone(), quantity }]),
                shipping_address: AddressInput::from(&b.shipping_address),
                billing_address: None,
                email: b.email.to_string(),
                service_level: Some(b.service_level),
                delivery_option_id: None,
                payment_token: Some(b.payment_token.clone()),
                payment_link: None,
                take_away: None,
                purchase_order: None,
                channel: b.channel,
            };
            let key = format!("backorder-{}", b.backorder_id);
            let customer = Caller::customer(b.customer.clone());
            let extras = Extras { stored_address: true, ..Extras::default() };
            let placed = self.place_order_with(&customer, &key, &key, req, extras).await;
            let now = self.clock.now();
            let next = match placed {
                Ok((_, body)) => {
                    let v: serde_json::Value =
                        serde_json::from_str(&body).map_err(|e| AppError::Internal(e.to_string()))?;
                    let order = OrderId::parse(v["orderId"].as_str().unwrap_or_default())
                        .map_err(|e| AppError::Internal(e.to_string()))?;
                    out.placed.push(b.backorder_id.clone());
                    b.settled(BackorderStatus::Placed, Some(order), None, now)
                }
                // Not enough yet: this one waits again, and so does everyone after it.
                Err(AppError::OutOfStock(_)) => {
                    let back = b.settled(BackorderStatus::Waiting, None, None, now);
                    match self.store.update_backorder(&back, b.version).await {
                        Ok(()) | Err(StoreError::StaleVersion) => {}
                        Err(e) => return Err(e.into()),
                    }
                    out.waiting = waiting.len() - i;
                    break;
                }
                Err(e @ (AppError::Unavailable(_) | AppError::Internal(_))) => return Err(e),
                Err(e) => {
                    out.cancelled.push(b.backorder_id.clone());
                    b.settled(BackorderStatus::Cancelled, None, Some(e.to_string()), now)
                }
            };
            match self.store.settle_backorder(&next, b.version).await {
                // Another allocation settled it (the same order: the key is the request's).
                Ok(()) | Err(StoreError::StaleVersion) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if !out.placed.is_empty() {
            tracing::info!(placed = out.placed.len(), waiting = out.waiting, "backorders placed");
        }
        Ok(out)
    }
}
