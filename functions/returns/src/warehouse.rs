//! Warehouse and store staff: a location's pick list and packing a parcel (its label is bought
//! from the packed parcel). Here because this function has the carrier, as for returns.

use super::{json, order_id};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use oms_shared::app::fulfillment::{Fulfillment, PackRequest};
use oms_shared::app::returns::Returns;
use oms_shared::domain::{LocationId, ShipmentId};
use placement::extract::{Json, Staff};
use placement::problem::Problem;
use serde_json::json as body;

fn fulfillment(r: &Returns) -> Fulfillment {
    Fulfillment { oms: r.oms.clone(), payments: r.payments.clone(), carrier: r.carrier.clone() }
}

pub async fn picks(
    State(r): State<Returns>,
    Staff(c): Staff,
    Path(location): Path<String>,
) -> Result<Response, Problem> {
    let location = LocationId::parse(&location).map_err(|_| {
        Problem::bad_request("locationId is not a valid location id").with("field", "locationId".into())
    })?;
    let picks = fulfillment(&r).picks(&c, &location).await?;
    Ok(json(StatusCode::OK, &body!({"locationId": location, "picks": picks})))
}

pub async fn packed(
    State(r): State<Returns>,
    Staff(c): Staff,
    Path((id, shipment)): Path<(String, String)>,
    Json(req, _): Json<PackRequest>,
) -> Result<Response, Problem> {
    let order = order_id(&id)?;
    let shipment = ShipmentId::parse(&shipment).map_err(|_| {
        Problem::bad_request("shipmentId is not a valid shipment id").with("field", "shipmentId".into())
    })?;
    let done = fulfillment(&r).pack(&c, &order, &shipment, req).await?;
    // The parcel is recorded either way; a label the carrier did not sell yet is bought by the
    // same request again.
    let status = if done.labels == "label_pending" { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok(json(status, &body!({"labels": done.labels, "order": done.order})))
}
