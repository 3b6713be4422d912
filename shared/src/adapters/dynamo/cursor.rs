//! Keyset cursors (the last sort key seen, base64url) and the page helpers built on them.

use super::item::Attrs;
use super::keys;
use crate::domain::Order;
use crate::ports::{Page, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub fn encode_cursor(sort_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(sort_key)
}

/// What a cursor holds: an order's creation position (`keys::order_created_sk`), or its key in
/// the customer index (`keys::order_gsi1sk`).
#[derive(Debug, Clone, Copy)]
pub enum CursorKind {
    Created,
    CustomerOrder,
}

/// A cursor this store issued, decoded; anything else (not base64url, not UTF-8, not the shape
/// of the key it stands for) is `BadCursor` (a 400 naming `cursor`).
pub fn decode_cursor(cursor: &str, kind: CursorKind) -> Result<String, StoreError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| StoreError::BadCursor)?;
    let s = String::from_utf8(bytes).map_err(|_| StoreError::BadCursor)?;
    let ok = s.len() <= 200
        && match kind {
            CursorKind::Created => crate::ports::is_created_position(&s),
            CursorKind::CustomerOrder => {
                s.strip_prefix(keys::ORDER_GSI1SK_PREFIX).is_some_and(|id| crate::domain::OrderId::parse(id).is_ok())
            }
        };
    if ok { Ok(s) } else { Err(StoreError::BadCursor) }
}

/// The newest `limit + 1` entries of a keys-only index across shards, by their index sort key,
/// without the cursor's own entry: only those are read from the table.
pub fn newest_index_entries(mut all: Vec<Attrs>, sk_attr: &str, limit: i32, exclude_sk: Option<&str>) -> Vec<Attrs> {
    let sk = |a: &Attrs| a.get(sk_attr).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    all.retain(|a| Some(sk(a).as_str()) != exclude_sk);
    all.sort_by_key(|a| std::cmp::Reverse(sk(a)));
    all.truncate(usize::try_from(limit).unwrap_or(0) + 1);
    all
}

/// Orders newest first by creation, `limit` of them, with the cursor of the last one when more
/// remain; the cursor's own order is skipped.
pub fn page_by_created(mut all: Vec<Order>, limit: i32, exclude_sk: Option<&str>) -> Page<Order> {
    all.retain(|o| Some(keys::order_created_sk(&o.created_at, &o.id).as_str()) != exclude_sk);
    all.sort_by_key(|o| std::cmp::Reverse(keys::order_created_sk(&o.created_at, &o.id)));
    let limit = usize::try_from(limit).unwrap_or(0);
    let next_cursor = if all.len() > limit {
        all.truncate(limit);
        all.last().map(|o| encode_cursor(&keys::order_created_sk(&o.created_at, &o.id)))
    } else {
        None
    };
    Page { items: all, next_cursor }
}
