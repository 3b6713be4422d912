//! Change records: one item per committed change in the order's partition
//! (`EVENT#<at>#<ulid>`), holding the change's timeline entries and the effects to run after it.
//! The table's stream hands a record with effects to the dispatcher; it enters the sparse outbox
//! index only when its dispatch failed (see `outbox`).

use super::super::item::{Attrs, Item, from_attrs};
use super::super::keys;
use super::super::table::entity_of;
use super::{ENTITY_EVENT, ENTITY_TIMELINE};
use crate::adapters::dynamo::errors::mapping;
use crate::domain::{Effect, OrderId, TimelineEvent};
use crate::ports::StoreError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What one change recorded besides its items: its timeline entries, in the order it wrote
/// them, and the effects to run after it (its outbox entry, dispatched from the stream; in the
/// sparse outbox index only while a failed dispatch waits for the drain). One item per change: a write is billed per item and kilobyte, and a
/// change's entries are read together.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRecord {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<TimelineEvent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
    /// The integration events the entries announce (`domain::events::event_types`), space
    /// separated: the stream hands records with this attribute to the event publisher.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub events: String,
    /// The order's version this change committed (when it wrote the order): the events'
    /// sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// `effects` when the record has effects to dispatch: the scalar the stream's filter
    /// matches (a filter cannot test a list for being non-empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl ChangeRecord {
    pub fn of(change: &crate::domain::OrderChange, now: DateTime<Utc>) -> Self {
        ChangeRecord {
            entries: change.timeline.clone(),
            effects: change.effects.clone(),
            events: crate::domain::events::event_types(&change.timeline).join(" "),
            sequence: change.next_order().map(|o| o.version),
            dispatch: (!change.effects.is_empty()).then(|| DISPATCH_EFFECTS.to_owned()),
            created_at: now,
        }
    }
}

/// The change record's outbox id: its sort key after `EVENT#` (the instant, then a ULID that
/// keeps changes at the same instant apart).
pub fn change_record_id(at: &DateTime<Utc>, seq: &str) -> String {
    format!("{}#{seq}", keys::timestamp(at))
}

/// The `dispatch` attribute of a change record with effects.
pub const DISPATCH_EFFECTS: &str = "effects";

/// A change's record. Not in the outbox index: the stream delivers it to the dispatcher, so an
/// index entry written now and removed after dispatch would cost two writes per change for the
/// rare dispatch that fails (which puts the record in the index itself).
pub fn change_record_item<'a>(order: &OrderId, r: &'a ChangeRecord, id: &str) -> Item<&'a ChangeRecord> {
    Item::new(keys::outbox(order, id), ENTITY_TIMELINE, r)
}

/// A change record's entries alone: a timeline reader does not fail on an effect it cannot
/// read (one recorded by a newer release); the dispatcher defers such a record by its key.
#[derive(Deserialize)]
struct RecordEntries {
    #[serde(default)]
    entries: Vec<TimelineEvent>,
}

/// Timeline entries from an order partition's items (a change's batch, or a single entry
/// written before batches), in item order.
pub fn timeline_entries(a: Attrs, out: &mut Vec<TimelineEvent>) -> Result<(), StoreError> {
    match entity_of(&a) {
        ENTITY_EVENT => out.push(from_attrs::<TimelineEvent>(a).map_err(mapping)?.data),
        ENTITY_TIMELINE => out.extend(from_attrs::<RecordEntries>(a).map_err(mapping)?.data.entries),
        _ => {}
    }
    Ok(())
}
