//! Identifier newtypes. Generated ids are ULIDs (time-ordered, so "newest first" is a key order);
//! admin-chosen ids (locations) and SKUs are validated slugs.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} is not a valid id")]
    Invalid { kind: &'static str },
}

macro_rules! ulid_id {
    ($(#[$m:meta])* $name:ident, $kind:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn generate() -> Self {
                $name(ulid::Ulid::new().to_string())
            }
            pub fn parse(s: &str) -> Result<Self, IdError> {
                ulid::Ulid::from_string(s)
                    .map(|u| $name(u.to_string()))
                    .map_err(|_| IdError::Invalid { kind: $kind })
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

macro_rules! slug_id {
    ($(#[$m:meta])* $name:ident, $kind:literal, $max:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, IdError> {
                let ok = !s.is_empty()
                    && s.len() <= $max
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
                    && s.as_bytes()[0].is_ascii_alphanumeric();
                if ok { Ok($name(s.to_owned())) } else { Err(IdError::Invalid { kind: $kind }) }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

ulid_id!(OrderId, "order id");
ulid_id!(CartId, "cart id");
ulid_id!(ShipmentId, "shipment id");
ulid_id!(ReturnId, "return id");
ulid_id!(EventId, "event id");
ulid_id!(CaseId, "case id");
slug_id!(
    /// Stock keeping unit: 1-64 of `A-Z a-z 0-9 - _ .`, starting alphanumeric.
    Sku, "sku", 64
);
slug_id!(
    /// Admin-chosen location id such as `WH-EAST` or `STORE-NYC-5TH`.
    LocationId, "location id", 64
);

/// The JWT `sub` of a customer (or agent). Opaque, from the identity provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerId(String);

impl CustomerId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let ok = !s.is_empty() && s.len() <= 128 && !s.contains('#') && s.chars().all(|c| !c.is_control());
        if ok { Ok(CustomerId(s.to_owned())) } else { Err(IdError::Invalid { kind: "customer id" }) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for CustomerId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}
impl From<CustomerId> for String {
    fn from(v: CustomerId) -> String {
        v.0
    }
}
impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A line quantity: 1..=99 units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("quantity must be between 1 and 99, got {0}")]
pub struct QuantityError(pub i64);

impl Quantity {
    pub const MAX: u32 = 99;
    pub fn new(q: u32) -> Result<Self, QuantityError> {
        if (1..=Self::MAX).contains(&q) { Ok(Quantity(q)) } else { Err(QuantityError(i64::from(q))) }
    }
    pub fn get(self) -> u32 {
        self.0
    }
}
impl TryFrom<u32> for Quantity {
    type Error = QuantityError;
    fn try_from(q: u32) -> Result<Self, QuantityError> {
        Quantity::new(q)
    }
}
impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back() {
        let id = OrderId::generate();
        assert_eq!(OrderId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn garbage_ids_are_typed_errors() {
        assert!(OrderId::parse("not-a-ulid").is_err());
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("A#B").is_err());
        assert!(Sku::parse("-A").is_err());
        assert!(Sku::parse(&"A".repeat(65)).is_err());
        assert!(LocationId::parse("WH-EAST").is_ok());
        assert!(CustomerId::parse("a#b").is_err());
    }

    #[test]
    fn quantity_zero_and_hundred_are_rejected() {
        assert_eq!(Quantity::new(0), Err(QuantityError(0)));
        assert!(Quantity::new(100).is_err());
        assert!(Quantity::new(99).is_ok());
        assert!(serde_json::from_str::<Quantity>("0").is_err());
    }
}
