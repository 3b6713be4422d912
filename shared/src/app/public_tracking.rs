//! Public parcel tracking: anyone with a tracking number sees where the parcel is, its carrier
//! events and the estimated delivery date (the carrier's latest estimate), and nothing else: no
//! name, address, e-mail, order number or goods. Served without sign-in as JSON
//! (`GET /v1/tracking/{trackingNumber}`) and as a page (`GET /track?number=`), throttled by the
//! API's route settings.

use super::{AppError, Oms};
use crate::domain::{ShipmentStatus, TimelineEvent};
use crate::ports::Tracked;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// The carriers whose tracking numbers the shop issues (each has its own index key).
pub const CARRIERS: [&str; 2] = ["sandbox", "easypost"];

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PublicTracking {
    pub tracking_number: String,
    pub carrier: String,
    /// `shipment` (to the customer) or `return` (back to the shop).
    pub kind: &'static str,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_delivery: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// The carrier's scans, oldest first.
    pub events: Vec<TrackingEvent>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TrackingEvent {
    pub at: DateTime<Utc>,
    pub status: String,
}

/// A tracking number as carriers issue them: 1-64 letters, digits and dashes.
pub fn valid_tracking_number(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn status_name<T: Serialize>(s: &T) -> String {
    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The carrier scans of one parcel on its order's timeline (`shipment.*` entries name the
/// tracking number in their note; `return.*` ones for a return parcel).
fn scans(timeline: &[TimelineEvent], tracking: &str, prefix: &str) -> Vec<TrackingEvent> {
    let mut out: Vec<TrackingEvent> = timeline
        .iter()
        .filter(|e| e.kind.starts_with(prefix) && e.note.as_deref().is_some_and(|n| n.contains(tracking)))
        .map(|e| TrackingEvent { at: e.at, status: e.kind[prefix.len()..].to_owned() })
        .collect();
    out.sort_by_key(|e| e.at);
    out
}

impl Oms {
    /// Where a parcel is, by its tracking number alone. 404 for a number the shop did not issue.
    pub async fn public_tracking(&self, tracking: &str) -> Result<PublicTracking, AppError> {
        if !valid_tracking_number(tracking) {
            return Err(AppError::invalid_field("trackingNumber", "1-64 letters, digits or dashes"));
        }
        for carrier in CARRIERS {
            let Some(found) = self.store.tracked(carrier, tracking).await? else { continue };
            return Ok(match found {
                Tracked::Shipment(sh) => {
                    let timeline = self.store.timeline(&sh.order_id).await?;
                    PublicTracking {
                        tracking_number: tracking.to_owned(),
                        carrier: carrier.to_owned(),
                        kind: "shipment",
                        status: status_name(&sh.status),
                        estimated_delivery: sh.estimated_delivery.filter(|_| sh.status != ShipmentStatus::Cancelled),
                        shipped_at: sh.shipped_at,
                        delivered_at: sh.delivered_at,
                        events: scans(&timeline, tracking, "shipment."),
                    }
                }
                Tracked::Return(r) => {
                    let timeline = self.store.timeline(&r.order_id).await?;
                    PublicTracking {
                        tracking_number: tracking.to_owned(),
                        carrier: carrier.to_owned(),
                        kind: "return",
                        status: status_name(&r.status),
                        estimated_delivery: None,
                        shipped_at: None,
                        delivered_at: None,
                        events: scans(&timeline, tracking, "return."),
                    }
                }
            });
        }
        Err(AppError::NotFound)
    }
}
