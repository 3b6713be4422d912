//! Pick and pack at locations that pack with the OMS: a location's pick list (the shipments
//! the label step released, `picking`), and the packer's record of a parcel (weight and size,
//! `packed`), committed through the order's one write path. Packing an order's last parcel
//! buys its labels from the packed parcels and makes it `ready_to_ship`.

use super::label::AWAITING_PACK;
use super::{Fulfillment, StepError, StepInput};
use crate::app::projections::OrderProjection;
use crate::app::{AppError, Caller, Permission};
use crate::domain::*;
use crate::ports::StoreError;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackRequest {
    pub weight_grams: u32,
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
}

/// One parcel to pick and pack.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pick {
    pub order_id: OrderId,
    pub shipment_id: ShipmentId,
    /// `picking`, or `packed` when its label is still to buy (record the same figures again).
    pub status: ShipmentStatus,
    /// The order's status: `on_hold` means do not pack it now (an agent is on it).
    pub order_status: OrderStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parcel: Option<PackedParcel>,
    pub service_level: ServiceLevel,
    /// The date promised to the customer: the list is sorted by it (most urgent first).
    pub promised_by: NaiveDate,
    pub released_at: DateTime<Utc>,
    pub lines: Vec<PickLine>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PickLine {
    pub sku: Sku,
    pub name: String,
    pub quantity: u32,
}

/// What packing answers: the order (staff's view) and whether its labels were bought.
pub struct Packed {
    pub order: OrderProjection,
    /// `labelled`, `awaiting_pack` (other parcels of the order wait), `label_pending` (the
    /// carrier did not answer: the same request again buys the label), or `none` (the order
    /// left the workflow meanwhile, cancelled say).
    pub labels: &'static str,
}

/// The most parcels one pick list shows.
pub const PICK_LIST_LIMIT: usize = 200;

fn check(req: &PackRequest) -> Result<PackedParcel, AppError> {
    if req.weight_grams == 0 || req.weight_grams > MAX_PARCEL_GRAMS {
        return Err(AppError::invalid_field("weightGrams", format!("1 to {MAX_PARCEL_GRAMS} grams")));
    }
    for (field, v) in [("lengthMm", req.length_mm), ("widthMm", req.width_mm), ("heightMm", req.height_mm)] {
        if v == 0 || v > MAX_PARCEL_SIDE_MM {
            return Err(AppError::invalid_field(field, format!("1 to {MAX_PARCEL_SIDE_MM} millimetres")));
        }
    }
    Ok(PackedParcel {
        weight_grams: req.weight_grams,
        length_mm: req.length_mm,
        width_mm: req.width_mm,
        height_mm: req.height_mm,
        packed_at: DateTime::<Utc>::MIN_UTC,
        packed_by: String::new(),
    })
}

fn same(a: &PackedParcel, b: &PackedParcel) -> bool {
    (a.weight_grams, a.length_mm, a.width_mm, a.height_mm) == (b.weight_grams, b.length_mm, b.width_mm, b.height_mm)
}

impl Fulfillment {
    /// A location's pick list, most urgent promise first.
    #[tracing::instrument(skip_all, fields(location = %location))]
    pub async fn picks(&self, caller: &Caller, location: &LocationId) -> Result<Vec<Pick>, AppError> {
        if !caller.may(Permission::Pack) {
            return Err(AppError::Forbidden);
        }
        if self.oms.store.get_location(location).await?.is_none() {
            return Err(AppError::NotFound);
        }
        let shipments = self.oms.store.picks(location, PICK_LIST_LIMIT).await?;
        let skus: Vec<Sku> = shipments.iter().flat_map(|s| s.lines.iter().map(|l| l.sku.clone())).collect();
        let catalog = self.oms.store.get_products(&skus).await?;
        let mut out = Vec::with_capacity(shipments.len());
        for sh in shipments {
            let Some(order) = self.oms.store.get_order(&sh.order_id).await? else { continue };
            out.push(Pick {
                order_id: sh.order_id.clone(),
                shipment_id: sh.id.clone(),
                status: sh.status,
                order_status: order.status,
                parcel: sh.parcel.clone(),
                service_level: sh.service_level,
                promised_by: order.delivery.promised_by,
                released_at: sh.updated_at,
                lines: sh
                    .lines
                    .iter()
                    .map(|l| PickLine {
                        sku: l.sku.clone(),
                        name: catalog.get(&l.sku).map_or_else(|| l.sku.to_string(), |p| p.name.clone()),
                        quantity: l.quantity,
                    })
                    .collect(),
            });
        }
        out.sort_by_key(|p| (p.promised_by, p.released_at));
        Ok(out)
    }

    /// Records a packed parcel (once: the same parcel again answers the same; another one for
    /// a parcel already packed is refused), then buys the order's labels when it was the last.
    #[tracing::instrument(skip_all, fields(order_id = %order_id, shipment_id = %shipment_id))]
    pub async fn pack(
        &self,
        caller: &Caller,
        order_id: &OrderId,
        shipment_id: &ShipmentId,
        req: PackRequest,
    ) -> Result<Packed, AppError> {
        if !caller.may(Permission::Pack) {
            return Err(AppError::Forbidden);
        }
        let mut parcel = check(&req)?;
        let mut committed = false;
        for _ in 0..5 {
            let order = self.oms.store.get_order(order_id).await?.ok_or(AppError::NotFound)?;
            let sh = self.oms.store.get_shipment(order_id, shipment_id).await?.ok_or(AppError::NotFound)?;
            match (&sh.status, &sh.parcel) {
                (ShipmentStatus::Picking, _) => {}
                (ShipmentStatus::Cancelled, _) => {
                    return Err(AppError::Conflict {
                        kind: "not-on-pick-list",
                        detail: format!("shipment {shipment_id} was cancelled (order {order_id} is {})", order.status),
                    });
                }
                // Packed already: the same parcel again is a retry; another one is a mistake.
                (_, Some(p)) if same(p, &parcel) => break,
                (_, Some(_)) => {
                    return Err(AppError::Conflict {
                        kind: "already-packed",
                        detail: format!("shipment {shipment_id} was packed with another weight or size"),
                    });
                }
                (status, None) => {
                    let why = if order.status.is_terminal() || *status == ShipmentStatus::Cancelled {
                        format!("order {order_id} is {}", order.status)
                    } else {
                        format!("shipment {shipment_id} is not on a pick list (it is {})", json_name(status))
                    };
                    return Err(AppError::Conflict { kind: "not-on-pick-list", detail: why });
                }
            }
            if order.status != OrderStatus::PaymentAuthorized {
                return Err(AppError::InvalidState { status: order.status, action: "packed" });
            }
            let now = self.oms.clock.now();
            parcel.packed_at = now;
            parcel.packed_by = caller.customer.to_string();
            let mut next = sh.clone();
            next.status = ShipmentStatus::Packed;
            next.parcel = Some(parcel.clone());
            next.version = sh.version + 1;
            next.updated_at = now;
            let ev = TimelineEvent::new(now, "shipment.packed", Actor::Agent(caller.customer.to_string()))
                .with_status(order.status)
                .with_note(format!(
                    "shipment {shipment_id}: {} g, {}x{}x{} mm",
                    parcel.weight_grams, parcel.length_mm, parcel.width_mm, parcel.height_mm
                ));
            let mut change = OrderChange::update(order.clone(), order.version, now).with_event(ev);
            change.shipments.push(Write::Update { value: next, expected_version: sh.version });
            match self.oms.store.commit(&change).await {
                Ok(()) => {
                    committed = true;
                    tracing::info!("parcel packed");
                    break;
                }
                Err(StoreError::StaleVersion) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if !committed && self.oms.store.get_shipment(order_id, shipment_id).await?.is_some_and(|s| s.parcel.is_none()) {
            return Err(AppError::StaleVersion);
        }
        // The last parcel of the order: its labels now, from the packed parcels.
        // A concurrent change of the order (a note, a hold released) makes the labels' commit
        // stale: the step runs again on the new version (its labels are keyed, never bought twice).
        let input = StepInput { order_id: order_id.clone(), validation: None, error: None };
        let mut labels = "label_pending";
        for _ in 0..3 {
            labels = match self.create_labels(&input).await {
                Ok(v) if v["outcome"] == AWAITING_PACK => AWAITING_PACK,
                Ok(_) => "labelled",
                Err(e) if e.name == StepError::ORDER_NOT_ACTIVE => "none",
                Err(e) if e.name == StepError::STORE_TRANSIENT => continue,
                Err(e) => {
                    tracing::warn!(error = e.name, "label not bought after packing");
                    "label_pending"
                }
            };
            break;
        }
        let order = self.oms.get_order(caller, order_id).await?;
        Ok(Packed { order, labels })
    }
}

fn json_name(s: &ShipmentStatus) -> String {
    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
