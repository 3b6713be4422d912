//! What a store read of an order's write-once part (its body), so a store that keeps the body
//! apart from the often-changed state rewrites it only when a change touched it.

use super::order::Order;

/// A digest of an order's body as a store read it (`None`: not read from a store).
#[derive(Debug, Clone, Copy, Default)]
pub struct StoredBody(pub Option<u64>);

impl PartialEq for StoredBody {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for StoredBody {}

impl Order {
    /// The fields most changes write (status, payment, reservations, version, ...), as
    /// serialized; every other field is the order's body, written at placement and changed
    /// only by edits and erasure. `id` belongs to both.
    pub const STATE_FIELDS: [&'static str; 11] = [
        "id",
        "status",
        "payment",
        "reservations",
        "statusReason",
        "version",
        "reviewCleared",
        "heldFrom",
        "updatedAt",
        "confirmation",
        "pickup",
    ];

    /// A digest of the body: the serialized order without its state fields.
    pub fn body_digest(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            for f in Self::STATE_FIELDS.iter().filter(|f| **f != "id") {
                m.remove(*f);
            }
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        v.to_string().hash(&mut h);
        h.finish()
    }

    /// Whether the body differs from what the store read (always, for an order not read).
    pub fn body_changed(&self) -> bool {
        self.stored_body.0 != Some(self.body_digest())
    }
}
