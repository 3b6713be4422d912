//! Orders: quotes (`quote`), placement (`place`), queries (`query`), and the changes a
//! customer or an agent makes (`change`: cancel, edit, release a hold).

mod account;
pub use account::{CompanyInput, CompanyPaymentInput, PurchaseOrderInput};
mod change;
mod hot;
mod import;
pub use hot::HotStock;
pub use import::ImportOrderRequest;
mod payment;
pub(crate) use payment::parse_token;
pub use payment::{PaymentRequest, payment_path};
mod pickup;
pub use pickup::{CollectRequest, PickupSweep};
mod place;
mod query;
mod quote;
mod refusals;

use super::AppError;
use crate::domain::limits::{self, LIMITS};
use crate::domain::pricing::LineRequest;
use crate::domain::sourcing::{Plan, SourcingError};
use crate::domain::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuoteRequest {
    #[serde(default)]
    pub cart_id: Option<CartId>,
    #[serde(default)]
    pub lines: Option<Vec<LineRequest>>,
    pub shipping_address: AddressInput,
    /// A quote for an edit of this order: the units it already holds count as available to it.
    #[serde(default)]
    pub order_id: Option<OrderId>,
    /// Promotion codes to quote with (automatic promotions apply without one).
    #[serde(default)]
    pub promotion_codes: Option<Vec<String>>,
    /// The channel the order would be placed on (promotions may be for some channels only).
    #[serde(default)]
    pub channel: Option<Channel>,
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
    /// The payment provider's token (a customer's card, or a staff-placed order's saved one).
    #[serde(default)]
    pub payment_token: Option<String>,
    /// Staff only (call centre): no token; the customer is sent a signed payment link and the
    /// order waits `payment_required` for it, its stock held until the payment deadline.
    #[serde(default)]
    pub payment_link: Option<bool>,
    /// Staff only (store): paid at the till and taken away now, from the store's pickup
    /// option (`deliveryOptionId: pickup-<store>`): no shipment, collected at once.
    #[serde(default)]
    pub take_away: Option<bool>,
    /// A buyer's order on their company's account (B2B): no card; the company's credit is
    /// drawn with the order and the invoice is due at the company's payment terms.
    #[serde(default)]
    pub purchase_order: Option<PurchaseOrderInput>,
    /// Promotion codes the customer entered (automatic promotions apply without one).
    #[serde(default)]
    pub promotion_codes: Option<Vec<String>>,
    pub channel: Channel,
}

impl PlaceOrderRequest {
    fn link(&self) -> bool {
        self.payment_link == Some(true)
    }

    fn takes_away(&self) -> bool {
        self.take_away == Some(true)
    }
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
    /// The staff member who placed the order for the customer (call centre, store).
    pub placed_by: Option<String>,
    /// An import: paid on the marketplace, idempotent per marketplace order number.
    pub marketplace: Option<MarketplacePayment>,
    /// Whose idempotency keys the key is among (the customer's unless an import's).
    pub idempotency_scope: Option<CustomerId>,
    /// The address comes from a record already taken (an exchange's or a warranty's original
    /// order, a backorder): parsed as it was then, not held to the label check new input is.
    pub stored_address: bool,
}

/// What a placement or edit resolves to before anything is written.
pub(super) struct Prepared {
    pub lines: Vec<OrderLine>,
    pub delivery: Delivery,
    pub totals: Totals,
    /// The holds the plan asks for, placed on stock shards.
    pub reservations: Vec<Reservation>,
    /// The safety stock the holds leave (`OrderChange::keeping`).
    pub keep: quote::KeepBack,
}

/// Available units per stock shard of each SKU × location (shard, units), sorted by shard.
pub(super) type ShardAvailability = std::collections::HashMap<(Sku, LocationId), Vec<(u16, i64)>>;

/// Which delivery the customer asked for.
#[derive(Clone)]
pub(super) enum DeliveryChoice {
    Level(ServiceLevel),
    Option(String),
}

pub(super) fn shortage_error(e: SourcingError) -> AppError {
    match e {
        SourcingError::Short(s) => AppError::OutOfStock(s),
        SourcingError::PickupUnavailable(l) => AppError::Unprocessable {
            kind: "pickup-unavailable",
            detail: format!("location {l} cannot offer pickup of these items"),
        },
    }
}

/// A new address from a request: parsed, and held to what a label prints.
pub(crate) fn parse_address(field: &str, a: &AddressInput) -> Result<Address, AppError> {
    parse_address_as(field, a, true)
}

/// `label`: also held to what a label prints (`Address::check_label`), as new input is.
pub(crate) fn parse_address_as(field: &str, a: &AddressInput, label: bool) -> Result<Address, AppError> {
    let named = |e: crate::domain::AddressError| match e.field() {
        Some(f) => AppError::invalid_field(&format!("{field}.{f}"), e),
        None => AppError::invalid_field(field, e),
    };
    let parsed = Address::parse(a).map_err(named)?;
    if label {
        parsed.check_label().map_err(named)?;
    }
    Ok(parsed)
}

/// The order cap (limits as data) for a total in its currency: past it, a 422 naming `field`.
pub(crate) fn within_order_cap(field: &str, total: i64, currency: Currency) -> Result<(), AppError> {
    let cap = limits::threshold_money(LIMITS.max_order_total, currency);
    if total > cap.amount() {
        return Err(AppError::Unprocessable {
            kind: "order-total-over-limit",
            detail: format!("{field}: an order may total at most {cap}"),
        });
    }
    Ok(())
}

pub(crate) fn pricing_error(e: crate::domain::pricing::PricingError) -> AppError {
    use crate::domain::pricing::PricingError as P;
    match e {
        P::UnknownSkus(skus) => AppError::UnprocessableField {
            kind: "unknown-sku",
            detail: format!(
                "lines: unknown or unavailable skus: {}",
                skus.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
            field: "lines",
        },
        P::MixedCurrency => AppError::Unprocessable { kind: "mixed-currency", detail: e.to_string() },
        P::Money(m) => AppError::Unprocessable { kind: "amount", detail: m.to_string() },
        other => AppError::invalid_field("lines", other),
    }
}

/// The holds a sourcing plan asks for, each on a stock shard with the units (one shard when one
/// has enough, starting at a shard picked by `spread` so concurrent buyers spread out).
pub(super) fn held_reservations(
    plan: &Option<Plan>,
    shards: &ShardAvailability,
    spread: usize,
) -> Result<Vec<Reservation>, AppError> {
    let mut out = Vec::new();
    for a in plan.iter().flat_map(|p| p.assignments.iter()) {
        let per_shard = shards.get(&(a.sku.clone(), a.location_id.clone())).map(Vec::as_slice).unwrap_or(&[]);
        let taken = if per_shard.len() <= 1 {
            vec![(per_shard.first().map(|(k, _)| *k).unwrap_or(0), a.quantity)]
        } else {
            stock::take_from_shards(a.quantity, per_shard, spread).ok_or_else(|| {
                AppError::OutOfStock(vec![sourcing::Shortage {
                    sku: a.sku.clone(),
                    requested: a.quantity,
                    available: per_shard.iter().map(|(_, n)| (*n).max(0)).sum::<i64>(),
                }])
            })?
        };
        for (shard, quantity) in taken {
            out.push(Reservation {
                sku: a.sku.clone(),
                location_id: a.location_id.clone(),
                quantity,
                state: ReservationState::Held,
                shard,
            });
        }
    }
    Ok(out)
}

/// The line requests that reproduce an order's lines (edits and re-sourcing).
pub(super) fn line_requests(order: &Order) -> Result<Vec<LineRequest>, AppError> {
    order
        .lines
        .iter()
        .map(|l| {
            Ok(LineRequest {
                sku: l.sku.clone(),
                quantity: Quantity::new(l.quantity).map_err(|e| AppError::Internal(e.to_string()))?,
            })
        })
        .collect()
}

/// The delivery an order already has, as a choice to source it again.
pub(super) fn current_choice(order: &Order) -> DeliveryChoice {
    match &order.delivery.pickup_location {
        Some(l) => DeliveryChoice::Option(format!("pickup-{l}")),
        None => DeliveryChoice::Level(order.delivery.service_level),
    }
}

/// Which delivery a request asks for: a service level or an option id, not both.
pub(super) fn delivery_choice(
    level: &Option<ServiceLevel>,
    option: &Option<String>,
    default: DeliveryChoice,
) -> Result<DeliveryChoice, AppError> {
    match (level, option) {
        (Some(_), Some(_)) => {
            Err(AppError::invalid_field("deliveryOptionId", "give either serviceLevel or deliveryOptionId, not both"))
        }
        (Some(l), None) => Ok(DeliveryChoice::Level(*l)),
        (None, Some(id)) => Ok(DeliveryChoice::Option(id.clone())),
        (None, None) => Ok(default),
    }
}

/// The scheduled sweeps act as the system, with staff rights.
pub(crate) fn system_caller() -> Result<super::Caller, AppError> {
    Ok(super::Caller::admin(CustomerId::parse("system").map_err(|e| AppError::Internal(e.to_string()))?))
}

impl super::Oms {
    /// Every order in `status` (a work queue's phase of the order index), page by page.
    async fn orders_in(&self, status: OrderStatus) -> Result<Vec<Order>, AppError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page =
                self.store.orders_by_status(status, crate::ports::Listing::first(100).after(cursor.as_deref())).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }
}
