//! In-memory twins of the storage ports, with the same conditional semantics as the DynamoDB
//! table (the conformance suite in `shared/tests/conformance.rs` runs against both). Fast
//! use-case tests run on it; it can be told to refuse the next commits, to test what a failed
//! commit leaves behind.

mod analytics;
mod backorders;
mod change;
mod customers;
mod messaging;
mod orders;
mod privacy;
mod promotions;
mod repos;
mod services;
mod stock;
mod webhooks;

pub use messaging::{MemoryBus, MemoryMailer, MemoryMessages, MemoryQueue};

use crate::domain::returns::Rma;
use crate::domain::support::{Case, Preferences};
use crate::domain::*;
use crate::ports::{Clock, StoreError, SystemClock};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Default, Clone)]
pub(crate) struct State {
    pub products: BTreeMap<Sku, Product>,
    pub locations: BTreeMap<LocationId, Location>,
    /// Stock per SKU × location × shard.
    pub stock: BTreeMap<(Sku, LocationId, u16), StockRecord>,
    pub carts: HashMap<CartId, Cart>,
    pub orders: HashMap<OrderId, Order>,
    pub shipments: BTreeMap<(OrderId, ShipmentId), Shipment>,
    /// Per order, entries in commit order (the table sorts them by time, then by a ULID).
    pub timeline: HashMap<OrderId, Vec<TimelineEvent>>,
    pub labels: HashMap<(OrderId, ShipmentId), LabelDoc>,
    pub rmas: BTreeMap<(OrderId, ReturnId), Rma>,
    pub return_labels: HashMap<(OrderId, ReturnId), ReturnLabelDoc>,
    pub cases: BTreeMap<(OrderId, CaseId), Case>,
    /// Record and its expiry (epoch seconds).
    pub idempotency: HashMap<(CustomerId, String), (IdempotencyRecord, i64)>,
    pub webhooks: HashMap<(String, String), i64>,
    /// Mail claims: (state, lease until).
    pub mail: HashMap<String, (String, i64)>,
    /// Failed attempts per subject: (count, window end).
    pub attempts: HashMap<String, (u32, i64)>,
    pub preferences: HashMap<CustomerId, Preferences>,
    pub rules: std::collections::BTreeMap<u32, crate::domain::rules::Rules>,
    pub customers: HashMap<CustomerId, crate::domain::customer::CustomerProfile>,
    /// Search key (`customer::lookup_string`) -> customers.
    pub lookups: BTreeMap<String, std::collections::BTreeSet<CustomerId>>,
    pub webhook_subscriptions: BTreeMap<String, crate::domain::webhooks::Subscription>,
    /// (subscription, occurred at, event id) -> delivery.
    pub webhook_deliveries:
        BTreeMap<(String, chrono::DateTime<chrono::Utc>, String), crate::domain::webhooks::Delivery>,
    pub webhook_replays: Vec<(String, chrono::DateTime<chrono::Utc>)>,
    pub payment_refs: HashMap<String, OrderId>,
    /// Every committed entry with effects (the change records' effects).
    pub outbox: BTreeMap<(OrderId, String), OutboxEntry>,
    /// Each entry's deferral revision: moved by every write to its deferral, kept after it
    /// completes (as the table keeps `rev` on the record).
    pub outbox_revs: BTreeMap<(OrderId, String), u64>,
    /// Entries committed and not yet read by `take_stream` (the table's stream).
    pub stream: Vec<(OrderId, String)>,
    pub facts: HashMap<OrderId, crate::domain::analytics::OrderFact>,
    pub cover_marks: HashMap<crate::domain::Sku, crate::domain::forecast::CoverMark>,
    pub analytics_rows: BTreeMap<crate::domain::analytics::RowKey, crate::domain::analytics::Counters>,
    /// The reset-rebuild lease: owner and until (epoch seconds).
    pub rebuild_lease: Option<(String, i64)>,
    /// Each document series' last number, and the documents by number.
    pub series: HashMap<String, u64>,
    pub invoices: BTreeMap<String, crate::domain::invoice::Invoice>,
    pub feedback: HashMap<OrderId, crate::domain::feedback::Feedback>,
    pub companies: HashMap<String, crate::domain::company::Company>,
    pub promotions: BTreeMap<String, crate::domain::promotion::Promotion>,
    /// (promotion, customer or none for the total) -> uses held.
    pub promotion_uses: HashMap<(String, Option<CustomerId>), i64>,
    pub approvals: BTreeMap<String, crate::domain::adjustment::Approval>,
    /// Backorder requests by (SKU, id: arrival order) and the units waiting per SKU.
    pub backorders: BTreeMap<(crate::domain::Sku, String), crate::domain::backorder::Backorder>,
    pub backorder_units: HashMap<crate::domain::Sku, i64>,
    /// Technician windows by slot.
    pub windows: BTreeMap<crate::domain::service::SlotId, crate::domain::service::Window>,
    /// (order, kind, ledger reference) -> the document issued for it.
    pub document_refs:
        BTreeMap<(OrderId, crate::domain::invoice::DocumentKind, String), crate::domain::invoice::DocumentRef>,
}

/// Every storage port, in memory.
#[derive(Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    clock: Arc<dyn Clock>,
    fail_commits: Arc<AtomicU32>,
    /// What eventually consistent reads of an order see instead of it (a replica behind).
    lagging: Arc<Mutex<HashMap<OrderId, crate::ports::OrderView>>>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore {
            state: Arc::new(Mutex::new(State::default())),
            clock: Arc::new(SystemClock),
            fail_commits: Arc::new(AtomicU32::new(0)),
            lagging: Arc::default(),
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The outbox entries committed since the last call, in commit order: what the table's
    /// stream would hand the dispatcher.
    pub fn take_stream(&self) -> Vec<(OrderId, String)> {
        self.lock().map(|mut s| std::mem::take(&mut s.stream)).unwrap_or_default()
    }

    /// The next `n` commits fail as the store being unavailable would, writing nothing.
    pub fn fail_next_commits(&self, n: u32) {
        self.fail_commits.store(n, Ordering::SeqCst);
    }

    /// Eventually consistent reads of `view`'s order see `view` from now on, whatever is
    /// committed after it (a replica that fell behind); consistent reads see the order.
    pub fn lag_behind(&self, view: crate::ports::OrderView) {
        if let Ok(mut l) = self.lagging.lock() {
            l.insert(view.order.id.clone(), view);
        }
    }

    pub(crate) fn lagging_view(&self, id: &OrderId) -> Option<crate::ports::OrderView> {
        self.lagging.lock().ok().and_then(|l| l.get(id).cloned())
    }

    fn take_injected_failure(&self) -> bool {
        self.fail_commits.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Unavailable("memory store poisoned".into()))
    }

    /// A read of the state under the lock.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&State) -> T) -> Result<T, StoreError> {
        Ok(f(&*self.lock()?))
    }

    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

/// Cursor of a listing: the last (created, id) key seen, base64url.
pub(crate) fn cursor_of(o: &Order) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}#{}", o.created_at.to_rfc3339(), o.id))
}

pub(crate) fn parse_cursor(c: &str) -> Result<String, StoreError> {
    use base64::Engine;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).map_err(|_| StoreError::BadCursor)?;
    let s = String::from_utf8(b).map_err(|_| StoreError::BadCursor)?;
    if s.len() > 200 || !crate::ports::is_created_position(&s) {
        return Err(StoreError::BadCursor);
    }
    Ok(s)
}

fn sort_key(o: &Order) -> String {
    format!("{}#{}", o.created_at.to_rfc3339(), o.id)
}

/// Newest first, after the cursor, `limit` of them with a cursor when more remain.
pub(crate) fn page(
    mut all: Vec<Order>,
    limit: i32,
    cursor: Option<&str>,
) -> Result<crate::ports::Page<Order>, StoreError> {
    let after = cursor.map(parse_cursor).transpose()?;
    all.sort_by_key(|o| std::cmp::Reverse(sort_key(o)));
    if let Some(a) = after {
        all.retain(|o| sort_key(o) < a);
    }
    let limit = usize::try_from(limit).unwrap_or(0);
    let next_cursor = if all.len() > limit {
        all.truncate(limit);
        all.last().map(cursor_of)
    } else {
        None
    };
    Ok(crate::ports::Page { items: all, next_cursor })
}
