//! A per-process read cache for catalog data (products, locations): every step of every order
//! reads them, they change rarely, and a warm Lambda serves many orders. Entries live
//! `CATALOG_TTL` and are keyed by table; a write through this process drops the entry, so
//! later reads here see it (a read racing the write may keep the old value, for at most
//! `CATALOG_TTL`). Another process sees a change within `CATALOG_TTL` (decision 11: a price
//! change reaches placement within 30 seconds; stock, orders and carts are never cached).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

pub const CATALOG_TTL: Duration = Duration::from_secs(30);

type Entries = HashMap<(String, String), (Instant, serde_json::Value)>;

static ENTRIES: LazyLock<Mutex<Entries>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn entries() -> std::sync::MutexGuard<'static, Entries> {
    // A panic while holding the lock leaves plain data behind: keep using it.
    ENTRIES.lock().unwrap_or_else(|e| e.into_inner())
}

/// The cached value of `key` in `table`, if fresh and of type `T`.
pub fn get<T: serde::de::DeserializeOwned>(table: &str, key: &str) -> Option<T> {
    let e = entries();
    let (at, v) = e.get(&(table.to_owned(), key.to_owned()))?;
    if at.elapsed() > CATALOG_TTL {
        return None;
    }
    serde_json::from_value(v.clone()).ok()
}

pub fn put<T: serde::Serialize>(table: &str, key: &str, value: &T) {
    if let Ok(v) = serde_json::to_value(value) {
        let mut e = entries();
        if e.len() > 10_000 {
            e.retain(|_, (at, _)| at.elapsed() <= CATALOG_TTL);
        }
        e.insert((table.to_owned(), key.to_owned()), (Instant::now(), v));
    }
}

/// Drops `keys` after a write (the entry and any listing that holds it).
pub fn invalidate(table: &str, keys: &[&str]) {
    let mut e = entries();
    for k in keys {
        e.remove(&(table.to_owned(), (*k).to_owned()));
    }
}
