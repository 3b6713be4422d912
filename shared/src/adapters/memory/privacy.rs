//! Erasure around an order, in memory: the same records as the table's order partition.

use super::MemoryStore;
use crate::domain::privacy::scrub_json;
use crate::domain::{CustomerId, OrderId};
use crate::ports::{PersonalData, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Scrubs a record through its JSON form; whether it changed.
fn scrubbed<T: Serialize + DeserializeOwned>(record: &mut T, needles: &[String]) -> Result<bool, StoreError> {
    let mut v = serde_json::to_value(&*record).map_err(|e| StoreError::Mapping(e.to_string()))?;
    if !scrub_json(&mut v, needles) {
        return Ok(false);
    }
    *record = serde_json::from_value(v).map_err(|e| StoreError::Mapping(e.to_string()))?;
    Ok(true)
}

#[async_trait::async_trait]
impl PersonalData for MemoryStore {
    async fn scrub_order_records(&self, order: &OrderId, needles: &[String]) -> Result<usize, StoreError> {
        let mut s = self.lock()?;
        let mut changed = 0;
        for e in s.timeline.get_mut(order).into_iter().flatten() {
            changed += usize::from(scrubbed(e, needles)?);
        }
        for (_, sh) in s.shipments.iter_mut().filter(|((o, _), _)| o == order) {
            changed += usize::from(scrubbed(sh, needles)?);
        }
        for (_, r) in s.rmas.iter_mut().filter(|((o, _), _)| o == order) {
            changed += usize::from(scrubbed(r, needles)?);
        }
        for (_, c) in s.cases.iter_mut().filter(|((o, _), _)| o == order) {
            changed += usize::from(scrubbed(c, needles)?);
        }
        for (_, e) in s.outbox.iter_mut().filter(|((o, _), _)| o == order) {
            changed += usize::from(scrubbed(e, needles)?);
        }
        let before = s.labels.len() + s.return_labels.len();
        s.labels.retain(|(o, _), _| o != order);
        s.return_labels.retain(|(o, _), _| o != order);
        changed += before - s.labels.len() - s.return_labels.len();
        Ok(changed)
    }

    async fn rewrite_idempotency(&self, customer: &CustomerId, key: &str, response: &str) -> Result<bool, StoreError> {
        let mut s = self.lock()?;
        match s.idempotency.get_mut(&(customer.clone(), key.to_owned())) {
            Some((record, _)) => {
                record.response = response.to_owned();
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
