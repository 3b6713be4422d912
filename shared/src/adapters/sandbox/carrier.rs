//! Sandbox carriers for local runs and tests: three services, deterministic tracking numbers
//! per idempotency key, real 4x6 PDF labels rendered on request (nothing stored). A recipient line containing `CARRIER-REJECT`
//! makes the carrier refuse the shipment; `CARRIER-FLAKY` fails the first attempt transiently.

use super::label::label_pdf;
use crate::domain::{Address, Currency, Money};
use crate::ports::{Carrier, CarrierError, Label, LabelSource, Parcel, Rate};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

pub const NAME: &str = "sandbox";
/// A second sandbox carrier (a regional economy carrier): cheaper per kilo on ground, slower,
/// no overnight. Rate shopping across both picks it when it meets the promise for less.
pub const ECONOMY: &str = "sandbox-economy";

pub struct SandboxCarrier {
    name: &'static str,
    labels: Mutex<HashMap<String, Label>>,
    voided: Mutex<HashSet<String>>,
    attempts: Mutex<HashMap<String, u32>>,
    /// The parcel each label was bought for (by label id), for tests to look at.
    parcels: Mutex<HashMap<String, Parcel>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Default for SandboxCarrier {
    fn default() -> Self {
        Self::named(NAME)
    }
}

impl SandboxCarrier {
    pub fn new() -> Self {
        Self::default()
    }

    /// `sandbox`, or the economy carrier (`sandbox-economy`).
    pub fn named(name: &'static str) -> Self {
        SandboxCarrier {
            name,
            labels: Mutex::default(),
            voided: Mutex::default(),
            attempts: Mutex::default(),
            parcels: Mutex::default(),
        }
    }

    pub fn voided(&self, label_id: &str) -> bool {
        lock(&self.voided).contains(label_id)
    }

    /// The parcel a label was bought for.
    pub fn parcel_of(&self, label_id: &str) -> Option<Parcel> {
        lock(&self.parcels).get(label_id).cloned()
    }

    pub fn active_labels(&self) -> usize {
        let voided = lock(&self.voided);
        lock(&self.labels).values().filter(|l| !voided.contains(&l.id)).count()
    }

    /// Tracking numbers are derived from the idempotency key so a retried purchase returns
    /// the same label.
    fn tracking_for(&self, key: &str) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let prefix = if self.name == ECONOMY { "ECO" } else { "SBX" };
        format!("{prefix}{:012}", h % 1_000_000_000_000)
    }
}

fn services(carrier: &str, weight_grams: u32) -> Vec<(&'static str, i64, u32)> {
    let kg = i64::from(weight_grams.div_ceil(1000).max(1));
    if carrier == ECONOMY {
        return vec![("economy", 350 + 60 * kg, 4), ("express", 1300 + 140 * kg, 2)];
    }
    vec![("ground", 450 + 90 * kg, 5), ("express", 1200 + 150 * kg, 2), ("overnight", 2600 + 220 * kg, 1)]
}

#[async_trait::async_trait]
impl Carrier for SandboxCarrier {
    fn name(&self) -> &str {
        self.name
    }

    async fn rates(&self, parcel: &Parcel) -> Result<Vec<Rate>, CarrierError> {
        let to = format!("{} {}", parcel.to.line1, parcel.to.line2.clone().unwrap_or_default());
        if to.contains("CARRIER-REJECT") {
            return Err(CarrierError::Rejected("address not serviceable".into()));
        }
        let currency = Currency::USD;
        Ok(services(self.name, parcel.weight_grams)
            .into_iter()
            .map(|(s, c, d)| Rate {
                carrier: self.name.to_owned(),
                id: format!("rate_{s}_{}", parcel.shipment_id),
                service: s.into(),
                cost: Money::new(c, currency).unwrap_or(Money::zero(currency)),
                transit_days: d,
            })
            .collect())
    }

    async fn buy_label(&self, parcel: &Parcel, rate: &Rate, key: &str) -> Result<Label, CarrierError> {
        if let Some(l) = lock(&self.labels).get(key) {
            return Ok(l.clone());
        }
        let to_text = format!("{} {}", parcel.to.line1, parcel.to.line2.clone().unwrap_or_default());
        if to_text.contains("CARRIER-FLAKY") {
            let mut a = lock(&self.attempts);
            let n = a.entry(key.to_owned()).or_insert(0);
            *n += 1;
            if *n == 1 {
                return Err(CarrierError::Transient("carrier timeout".into()));
            }
        }
        let tracking = self.tracking_for(key);
        // What the label will print must fit and be printable: refused at purchase, never cut.
        render(parcel, &tracking, &rate.service)?;
        let label = Label {
            carrier: self.name.to_owned(),
            id: format!("lbl_{}", tracking.to_lowercase()),
            tracking_number: tracking,
            service: rate.service.clone(),
            document_url: None,
            estimated_delivery_days: rate.transit_days,
        };
        lock(&self.labels).insert(key.to_owned(), label.clone());
        lock(&self.parcels).insert(label.id.clone(), parcel.clone());
        Ok(label)
    }

    async fn void_label(&self, label_id: &str) -> Result<(), CarrierError> {
        lock(&self.voided).insert(label_id.to_owned());
        Ok(())
    }

    /// The sandbox keeps no documents: it renders the label again from the parcel, the same
    /// bytes every time.
    async fn label_document(&self, label: &LabelSource) -> Result<Vec<u8>, CarrierError> {
        render(&label.parcel, &label.tracking_number, &label.service)
    }
}

/// An address as label lines: name, street, city line, country (empty parts left out).
fn address_lines(a: &Address) -> Vec<String> {
    let city = [a.city.as_str(), a.region.as_deref().unwrap_or(""), a.postal_code.as_str()]
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    [Some(a.name.clone()), Some(a.line1.clone()), a.line2.clone(), Some(city), Some(a.country.to_string())]
        .into_iter()
        .flatten()
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// The label, or the carrier's refusal of an address it cannot print (as a real carrier
/// refuses a label whose address is too long or not in Latin characters).
fn render(parcel: &Parcel, tracking: &str, service: &str) -> Result<Vec<u8>, CarrierError> {
    for (what, a) in [("ship-from", &parcel.from), ("ship-to", &parcel.to)] {
        if a.line1.trim().is_empty() || a.city.trim().is_empty() {
            return Err(CarrierError::Rejected(format!("the {what} address has no street or city")));
        }
    }
    label_pdf(tracking, service, &address_lines(&parcel.from), &address_lines(&parcel.to), &parcel.reference)
        .map_err(|e| CarrierError::Rejected(e.to_string()))
}
