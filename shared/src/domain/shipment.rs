//! Shipments: the parcels an order leaves in, per location, from pending through picking and
//! packing (locations that pack with the OMS) to the label and the carrier's scans.

use super::ids::{LocationId, OrderId, ShipmentId, Sku};
use super::money::Money;
use super::order::ServiceLevel;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A packed parcel as the packer weighed and measured it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackedParcel {
    pub weight_grams: u32,
    pub length_mm: u32,
    pub width_mm: u32,
    pub height_mm: u32,
    pub packed_at: DateTime<Utc>,
    /// The staff member who packed it.
    pub packed_by: String,
}

/// What a packer may record: a parcel a carrier takes.
pub const MAX_PARCEL_GRAMS: u32 = 70_000;
pub const MAX_PARCEL_SIDE_MM: u32 = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    Pending,
    /// Released to its location's pick list (a location that packs with the OMS): waiting for
    /// staff to pick and pack it.
    Picking,
    /// Packed: the parcel's weight and size are known; its label is bought from them.
    Packed,
    LabelCreated,
    PreTransit,
    InTransit,
    OutForDelivery,
    Delivered,
    Failure,
    ReturnToSender,
    Cancelled,
}

impl ShipmentStatus {
    /// Rank on the forward path; exceptions rank with the step they interrupt so that a late
    /// in-transit scan cannot undo them, and delivered beats everything.
    pub fn rank(&self) -> u8 {
        match self {
            ShipmentStatus::Pending | ShipmentStatus::Picking | ShipmentStatus::Packed => 0,
            ShipmentStatus::LabelCreated => 1,
            ShipmentStatus::PreTransit => 2,
            ShipmentStatus::InTransit => 3,
            ShipmentStatus::OutForDelivery => 4,
            ShipmentStatus::Failure | ShipmentStatus::ReturnToSender => 5,
            ShipmentStatus::Delivered => 6,
            ShipmentStatus::Cancelled => 7,
        }
    }

    /// Shipment status only moves forward: late or repeated events never regress it.
    pub fn advance(self, next: ShipmentStatus) -> Option<ShipmentStatus> {
        (next.rank() > self.rank()).then_some(next)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentLine {
    pub line_id: String,
    pub sku: Sku,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    pub id: ShipmentId,
    pub order_id: OrderId,
    pub location_id: LocationId,
    pub lines: Vec<ShipmentLine>,
    pub status: ShipmentStatus,
    pub service_level: ServiceLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_id: Option<String>,
    /// The carrier service the label was bought for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_service: Option<String>,
    /// Where the carrier keeps the label document (the OMS does not store it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_delivery: Option<NaiveDate>,
    /// Set when a carrier scan of the parcel is accepted (before it is applied): from then on
    /// the order can no longer be cancelled or edited, only returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_over_at: Option<DateTime<Utc>>,
    /// Set when the carrier first has the parcel: stock left the building, payment captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// What was captured for this shipment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured: Option<Money>,
    /// The parcel as packed (locations that pack with the OMS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parcel: Option<PackedParcel>,
    #[serde(default)]
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Shipment {
    /// On its location's pick list: released for picking, or packed with its label still to
    /// buy (the carrier did not answer; packing it again with the same figures buys it).
    pub fn on_pick_list(&self) -> bool {
        self.status == ShipmentStatus::Picking
            || (self.status == ShipmentStatus::Packed && self.tracking_number.is_none())
    }

    /// The carrier has (or is known to be taking) the parcel.
    pub fn is_handed_over(&self) -> bool {
        self.handed_over_at.is_some() || self.shipped_at.is_some()
    }

    /// A new shipment of `lines` from a location, waiting for its label.
    pub fn pending(
        order_id: &OrderId,
        location_id: LocationId,
        lines: Vec<ShipmentLine>,
        level: ServiceLevel,
        now: DateTime<Utc>,
    ) -> Self {
        Shipment {
            id: ShipmentId::generate(),
            order_id: order_id.clone(),
            location_id,
            lines,
            status: ShipmentStatus::Pending,
            service_level: level,
            carrier: None,
            tracking_number: None,
            label_id: None,
            label_service: None,
            label_url: None,
            estimated_delivery: None,
            handed_over_at: None,
            shipped_at: None,
            delivered_at: None,
            captured: None,
            parcel: None,
            version: 0,
            created_at: now,
            updated_at: now,
        }
    }
}
