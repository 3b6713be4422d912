//! Every key format and index name of the single table, in one place.
//! `docs/data-model.md` lists the access patterns these serve; golden tests pin the formats.

use crate::domain::{CartId, CaseId, CustomerId, Email, LocationId, OrderId, OrderStatus, ReturnId, ShipmentId, Sku};
use chrono::{DateTime, Utc};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI2: &str = "GSI2";
pub const GSI3: &str = "GSI3";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const GSI3PK: &str = "GSI3PK";
pub const GSI3SK: &str = "GSI3SK";
/// TTL attribute (epoch seconds).
pub const TTL: &str = "expiresAt";
/// All index names, checked against `infra/template.yaml` by a test.
pub const INDEXES: [&str; 3] = [GSI1, GSI2, GSI3];

/// Orders by status are spread over this many partitions so no status is a hot key.
pub const STATUS_SHARDS: u32 = 8;

/// Primary key of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: String, sk: &str) -> Self {
        Key { pk, sk: sk.to_owned() }
    }
}

pub fn product(sku: &Sku) -> Key {
    Key::new(format!("PRODUCT#{sku}"), "PRODUCT")
}

/// GSI1 partition listing every product.
pub const PRODUCTS_GSI1PK: &str = "PRODUCTS";
pub fn product_gsi1sk(sku: &Sku) -> String {
    format!("PRODUCT#{sku}")
}

pub fn location(id: &LocationId) -> Key {
    Key::new(format!("LOCATION#{id}"), "LOCATION")
}
/// GSI1 partition listing every location.
pub const LOCATIONS_GSI1PK: &str = "LOCATIONS";
pub fn location_gsi1sk(id: &LocationId) -> String {
    format!("LOCATION#{id}")
}

pub fn stock_pk(sku: &Sku) -> String {
    format!("SKU#{sku}")
}
pub const STOCK_SK_PREFIX: &str = "STOCK#";
pub fn stock(sku: &Sku, location: &LocationId) -> Key {
    Key { pk: stock_pk(sku), sk: format!("{STOCK_SK_PREFIX}{location}") }
}
/// A stock shard: shard 0 is the base item; the others have partition keys of their own, so
/// each shard has its own partition write limit.
pub fn stock_shard(sku: &Sku, location: &LocationId, shard: u16) -> Key {
    match shard {
        0 => stock(sku, location),
        k => Key { pk: format!("{}#SHARD#{k}", stock_pk(sku)), sk: format!("{STOCK_SK_PREFIX}{location}") },
    }
}

pub fn cart(id: &CartId) -> Key {
    Key::new(format!("CART#{id}"), "CART")
}
pub fn customer_gsi1pk(customer: &CustomerId) -> String {
    format!("CUSTOMER#{customer}")
}
pub const CART_GSI1SK_PREFIX: &str = "CART#";
pub fn cart_gsi1sk(id: &CartId) -> String {
    format!("{CART_GSI1SK_PREFIX}{id}")
}
/// Idle carts with items and an e-mail, not converted: a sparse GSI2 partition per shard,
/// sorted by last activity, so reminders query "idle since before T" without a Scan.
pub fn idle_cart_gsi2pk(id: &CartId) -> String {
    format!("CARTACTIVITY#{}", shard(id.as_str()))
}
pub fn idle_cart_gsi2pk_shard(shard: u32) -> String {
    format!("CARTACTIVITY#{shard}")
}
pub fn idle_cart_gsi2sk(last_activity: &DateTime<Utc>, id: &CartId) -> String {
    format!("{}#{id}", timestamp(last_activity))
}

/// A part of a change too large for one transaction (see `parts`), listed for the sweep in
/// one GSI1 partition by creation time (few: only changes of more than about 95 stock items).
pub fn stock_part(order: &OrderId, batch: &str, i: usize) -> Key {
    Key { pk: format!("STOCKPART#{order}"), sk: format!("{batch}#{i:03}") }
}
pub const STOCK_PARTS_GSI1PK: &str = "STOCKPARTS";

pub fn order_pk(id: &OrderId) -> String {
    format!("ORDER#{id}")
}
pub const ORDER_SK: &str = "ORDER";
pub fn order(id: &OrderId) -> Key {
    Key::new(order_pk(id), ORDER_SK)
}
/// The order's body sorts right after its state item, so one query with `SK` beginning with
/// `ORDER` reads both.
pub const ORDER_BODY_SK: &str = "ORDER#BODY";
pub fn order_body(id: &OrderId) -> Key {
    Key::new(order_pk(id), ORDER_BODY_SK)
}
pub const ORDER_GSI1SK_PREFIX: &str = "ORDER#";
/// Customer's orders newest first: ULIDs sort by creation time.
pub fn order_gsi1sk(id: &OrderId) -> String {
    format!("{ORDER_GSI1SK_PREFIX}{id}")
}
/// The partition of the order index an order sits in while in a status. An index entry whose
/// key changes costs a delete and a put: orders move between partitions only at milestones
/// (placed, finished) and for the statuses that form work queues (on hold, failed, awaiting a
/// confirmation call or a new payment method), so a
/// routine status change costs no index write. Listing one status of a phase filters it.
pub fn order_phase(status: OrderStatus) -> &'static str {
    use OrderStatus as S;
    match status {
        S::Placed
        | S::Validated
        | S::Allocated
        | S::PaymentAuthorized
        | S::ReadyToShip
        | S::ReadyForPickup
        | S::PartiallyShipped
        | S::Shipped => "open",
        S::Delivered | S::Completed | S::Cancelled | S::ReturnRequested | S::PartiallyReturned | S::Returned => "done",
        S::OnHold => "on_hold",
        S::Failed => "failed",
        S::AwaitingConfirmation => "awaiting_confirmation",
        // The payment sweep's queue (a decline and its recovery move the entry: both rare).
        S::PaymentRequired => "payment_required",
    }
}
/// Every phase partition name, once.
pub const ORDER_PHASES: [&str; 6] = ["open", "done", "on_hold", "failed", "awaiting_confirmation", "payment_required"];
/// Whether a phase holds one status only (listing it needs no filter).
pub fn phase_is_one_status(status: OrderStatus) -> bool {
    OrderStatus::ALL.iter().filter(|s| order_phase(**s) == order_phase(status)).count() == 1
}
pub fn order_phase_gsi2pk(status: OrderStatus, id: &OrderId) -> String {
    order_phase_gsi2pk_shard(order_phase(status), shard(id.as_str()))
}
pub fn order_phase_gsi2pk_shard(phase: &str, shard: u32) -> String {
    format!("ORDERS#{phase}#{shard}")
}
pub fn order_created_sk(created_at: &DateTime<Utc>, id: &OrderId) -> String {
    format!("{}#{id}", timestamp(created_at))
}
pub fn email_gsi3pk(email: &Email) -> String {
    format!("EMAIL#{}", email.lookup_key())
}

pub const SHIPMENT_SK_PREFIX: &str = "SHIPMENT#";
/// A location's pick list: GSI2 partition of its shipments released for picking.
pub fn picks_gsi2pk(location: &LocationId) -> String {
    format!("PICKS#{location}")
}

pub fn shipment(order: &OrderId, id: &ShipmentId) -> Key {
    Key { pk: order_pk(order), sk: format!("{SHIPMENT_SK_PREFIX}{id}") }
}
pub fn tracking_gsi3pk(carrier: &str, tracking_number: &str) -> String {
    format!("TRACKING#{carrier}#{tracking_number}")
}
pub const TRACKING_GSI3SK: &str = "SHIPMENT";

pub const EVENT_SK_PREFIX: &str = "EVENT#";
pub fn timeline_event(order: &OrderId, at: &DateTime<Utc>, seq: &str) -> Key {
    Key { pk: order_pk(order), sk: format!("{EVENT_SK_PREFIX}{}#{seq}", timestamp(at)) }
}

pub fn idempotency(customer: &CustomerId, key: &str) -> Key {
    Key::new(format!("IDEMPOTENCY#{customer}#{key}"), "IDEMPOTENCY")
}

pub fn webhook_event(provider: &str, event_id: &str) -> Key {
    Key::new(format!("WEBHOOK#{provider}#{event_id}"), "WEBHOOK")
}

/// Fixed-width UTC timestamp that sorts lexicographically.
pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Stable shard of an id (FNV-1a), so an item's shard never changes.
pub fn shard(id: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in id.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % STATUS_SHARDS
}

pub const LABEL_SK_PREFIX: &str = "LABEL#";
pub fn label(order: &OrderId, shipment: &ShipmentId) -> Key {
    Key { pk: order_pk(order), sk: format!("{LABEL_SK_PREFIX}{shipment}") }
}

/// One item per notification dedupe key: the mail is sent at most once per key.
pub fn mail(dedupe_key: &str) -> Key {
    Key::new(format!("MAIL#{dedupe_key}"), "MAIL")
}
/// Failed attempts at a subject's secret (`pickup#<order>`), with a TTL.
pub fn attempts(subject: &str) -> Key {
    Key::new(format!("ATTEMPTS#{subject}"), "ATTEMPTS")
}

/// A document series' last number (`INV-2026`): taken with the document it numbers.
pub fn series(series: &str) -> Key {
    Key::new(format!("SERIES#{series}"), "SERIES")
}

/// An order's reference to a document issued for one of its ledger entries (one per kind and
/// entry: the key is the dedupe).
pub const DOCUMENT_SK_PREFIX: &str = "DOC#";
pub fn document_ref(order: &OrderId, kind: &str, reference: &str) -> Key {
    Key { pk: order_pk(order), sk: format!("{DOCUMENT_SK_PREFIX}{kind}#{reference}") }
}

/// An order's after-delivery survey.
pub fn feedback(order: &OrderId) -> Key {
    Key { pk: order_pk(order), sk: "FEEDBACK".into() }
}
/// Surveys waiting to be sent, by when they are due (sparse: only unsent ones).
pub fn feedback_due_gsi2pk(order: &OrderId) -> String {
    format!("FEEDBACKDUE#{}", shard(order.as_str()))
}
pub fn feedback_due_gsi2pk_shard(shard: u32) -> String {
    format!("FEEDBACKDUE#{shard}")
}
/// Answered surveys, per month of the answer (CSAT over a period).
pub fn feedback_answered_gsi2pk(month: &str) -> String {
    format!("FEEDBACK#{month}")
}

/// An issued invoice or credit note, by its number.
pub fn invoice(number: &str) -> Key {
    Key::new(format!("INVOICE#{number}"), "INVOICE")
}

/// A customer's communication preferences.
pub fn preferences(customer: &CustomerId) -> Key {
    Key::new(format!("CUSTOMER#{customer}"), "PREFERENCES")
}

pub const RETURN_SK_PREFIX: &str = "RETURN#";
pub fn rma(order: &OrderId, id: &ReturnId) -> Key {
    Key { pk: order_pk(order), sk: format!("{RETURN_SK_PREFIX}{id}") }
}
pub fn rma_gsi1pk(id: &ReturnId) -> String {
    format!("RMA#{id}")
}
pub const RMA_GSI1SK: &str = "RETURN";
pub const RETURN_TRACKING_GSI3SK: &str = "RETURN";
pub fn return_label(order: &OrderId, id: &ReturnId) -> Key {
    Key { pk: order_pk(order), sk: format!("RETURNLABEL#{id}") }
}

pub const CASE_SK_PREFIX: &str = "CASE#";
pub fn case(order: &OrderId, id: &CaseId) -> Key {
    Key { pk: order_pk(order), sk: format!("{CASE_SK_PREFIX}{id}") }
}
pub fn case_gsi1pk(id: &CaseId) -> String {
    format!("CASE#{id}")
}
pub const CASE_GSI1SK: &str = "CASE";
pub fn cases_by_status_gsi2pk(status: &str) -> String {
    format!("CASES#{status}")
}

/// Payment authorization id -> order (disputes name the payment, not the order).
pub fn payment(authorization_id: &str) -> Key {
    Key::new(format!("PAYMENT#{authorization_id}"), "PAYMENT")
}

/// Effects of a committed change waiting for dispatch, in the order's item collection: the
/// change's record (`EVENT#<at>#<ulid>`, its timeline entries and effects); the outbox id is
/// the sort key after `EVENT#`. Ids without `#` name outbox items written before records.
pub const OUTBOX_SK_PREFIX: &str = "OUTBOX#";
pub fn outbox(order: &OrderId, id: &str) -> Key {
    if id.contains('#') {
        Key { pk: order_pk(order), sk: format!("{EVENT_SK_PREFIX}{id}") }
    } else {
        Key { pk: order_pk(order), sk: format!("{OUTBOX_SK_PREFIX}{id}") }
    }
}
/// Pending effects: a sparse GSI2 partition per shard, oldest first (a record leaves the
/// index when its effects are dispatched).
pub fn outbox_gsi2pk(order: &OrderId) -> String {
    outbox_gsi2pk_shard(shard(order.as_str()))
}
pub fn outbox_gsi2pk_shard(shard: u32) -> String {
    format!("OUTBOX#{shard}")
}
/// Parked entries (the drain gave up): a sparse GSI2 partition per shard, for an operator.
pub const OUTBOX_PARKED_PREFIX: &str = "OUTBOX_PARKED#";
pub fn outbox_parked_gsi2pk(order: &OrderId) -> String {
    format!("{OUTBOX_PARKED_PREFIX}{}", shard(order.as_str()))
}
/// The order and entry id of an outbox item's key (stream records carry keys).
pub fn parse_outbox(pk: &str, sk: &str) -> Option<(OrderId, String)> {
    let order = OrderId::parse(pk.strip_prefix("ORDER#")?).ok()?;
    let id = sk.strip_prefix(OUTBOX_SK_PREFIX).or_else(|| sk.strip_prefix(EVENT_SK_PREFIX))?;
    (!id.is_empty()).then(|| (order, id.to_owned()))
}

/// A customer's profile (next to their preferences).
pub fn customer_profile(customer: &CustomerId) -> Key {
    Key::new(format!("CUSTOMER#{customer}"), "PROFILE")
}

/// A lookup leading a search key to a customer: e-mail and phone keys one partition per value;
/// name words one partition per two-letter prefix, sorted by the word, so a prefix is one query.
pub fn customer_lookup(key: &crate::domain::customer::SearchKey, customer: &CustomerId) -> Key {
    let (pk, sk_prefix) = customer_lookup_query(key);
    Key { pk, sk: format!("{sk_prefix}#{customer}") }
}

/// The partition and sort-key prefix a search key's lookups are under.
pub fn customer_lookup_query(key: &crate::domain::customer::SearchKey) -> (String, String) {
    use crate::domain::customer::SearchKey;
    match key {
        SearchKey::NameToken(t) => {
            let head: String = t.chars().take(2).collect();
            (format!("LOOKUP#N#{head}"), t.clone())
        }
        other => (format!("LOOKUP#{}", other.as_lookup()), "CUSTOMER".into()),
    }
}

/// A shop setting (one item per setting).
pub fn settings(name: &str) -> Key {
    Key::new("SETTINGS".into(), name)
}

/// A SKU's days-of-cover mark (`domain::forecast::CoverMark`).
pub fn cover_mark(sku: &Sku) -> Key {
    Key::new(format!("{COVER_PREFIX}{sku}"), "MARK")
}

const COVER_PREFIX: &str = "COVER#";

/// The SKU a cover mark's partition key names.
pub fn cover_mark_sku(pk: &str) -> Option<Sku> {
    pk.strip_prefix(COVER_PREFIX).and_then(|s| Sku::parse(s).ok())
}

/// A saved version of the rules (sorts by version).
pub fn rules_version(v: u32) -> Key {
    Key::new("SETTINGS".into(), &format!("RULES#V#{v:010}"))
}

/// Webhook subscriptions: one partition (a few dozen at most), sorted by id.
pub const WEBHOOKS_PK: &str = "WEBHOOKS";
pub fn webhook_subscription(id: &str) -> Key {
    Key::new(WEBHOOKS_PK.to_owned(), &format!("SUB#{id}"))
}
/// A subscription's delivery log: one partition per subscription, sorted by when the event
/// occurred, so a replay from a time is one query.
pub fn webhook_deliveries_pk(subscription: &str) -> String {
    format!("WEBHOOK#{subscription}")
}
pub fn webhook_delivery(subscription: &str, occurred_at: &DateTime<Utc>, event_id: &str) -> Key {
    Key::new(webhook_deliveries_pk(subscription), &format!("DELIVERY#{}#{event_id}", timestamp(occurred_at)))
}
pub fn webhook_deliveries_from(occurred_at: &DateTime<Utc>) -> String {
    format!("DELIVERY#{}", timestamp(occurred_at))
}
/// A replay request, in the subscription's delivery partition (kept a day).
pub fn webhook_replay(subscription: &str, id: &str) -> Key {
    Key::new(webhook_deliveries_pk(subscription), &format!("REPLAY#{id}"))
}

/// An order's analytics fact (`domain::analytics::OrderFact`).
pub fn analytics_fact(order: &OrderId) -> Key {
    Key::new(format!("ANALYTICS#ORDER#{order}"), "FACT")
}
/// A partition of a day's analytics rows: one per shard, so a busy day is spread.
pub fn analytics_day_pk(day: chrono::NaiveDate, shard: u8) -> String {
    format!("ANALYTICS#DAY#{day}#{shard}")
}
pub fn analytics_row(day: chrono::NaiveDate, shard: u8, row: &str) -> Key {
    Key::new(analytics_day_pk(day, shard), row)
}
/// The one reset-rebuild lease of the analytics.
pub fn analytics_rebuild() -> Key {
    Key::new("ANALYTICS#REBUILD".to_owned(), "LEASE")
}
