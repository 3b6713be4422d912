//! Stock of one SKU at one location. Invariant: `on_hand = available + held + allocated`.
//! Placement *holds* units; allocation turns holds into *allocated* units; shipping removes
//! allocated units from on-hand; returns *restock*.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockLevel {
    pub on_hand: i64,
    pub available: i64,
    pub held: i64,
    pub allocated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("not enough available stock: wanted {wanted}, available {available}")]
    OutOfStock { wanted: i64, available: i64 },
    #[error("not enough held stock to {op}")]
    NotHeld { op: &'static str },
    #[error("not enough allocated stock to {op}")]
    NotAllocated { op: &'static str },
    #[error("quantity must be positive")]
    NonPositive,
    #[error("on hand cannot go below held + allocated ({committed})")]
    BelowCommitted { committed: i64 },
}

/// The stock of one SKU at one location, with the version that guards counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockRecord {
    pub sku: super::ids::Sku,
    pub location_id: super::ids::LocationId,
    #[serde(flatten)]
    pub level: StockLevel,
    pub version: u64,
}

impl StockLevel {
    pub fn with_on_hand(on_hand: i64) -> Result<Self, StockError> {
        StockLevel::default().set_on_hand(on_hand)
    }

    pub fn is_conserved(&self) -> bool {
        self.on_hand == self.available + self.held + self.allocated
            && self.available >= 0
            && self.held >= 0
            && self.allocated >= 0
    }

    fn positive(q: i64) -> Result<(), StockError> {
        if q <= 0 { Err(StockError::NonPositive) } else { Ok(()) }
    }

    pub fn hold(self, q: i64) -> Result<Self, StockError> {
        Self::positive(q)?;
        if self.available < q {
            return Err(StockError::OutOfStock { wanted: q, available: self.available });
        }
        Ok(StockLevel { available: self.available - q, held: self.held + q, ..self })
    }

    pub fn release_hold(self, q: i64) -> Result<Self, StockError> {
        Self::positive(q)?;
        if self.held < q {
            return Err(StockError::NotHeld { op: "release" });
        }
        Ok(StockLevel { available: self.available + q, held: self.held - q, ..self })
    }

    pub fn allocate(self, q: i64) -> Result<Self, StockError> {
        Self::positive(q)?;
        if self.held < q {
            return Err(StockError::NotHeld { op: "allocate" });
        }
        Ok(StockLevel { held: self.held - q, allocated: self.allocated + q, ..self })
    }

    pub fn release_allocation(self, q: i64) -> Result<Self, StockError> {
        Self::positive(q)?;
        if self.allocated < q {
            return Err(StockError::NotAllocated { op: "release" });
        }
        Ok(StockLevel { available: self.available + q, allocated: self.allocated - q, ..self })
    }

    pub fn ship(self, q: i64) -> Result<Self, StockError> {
        Self::positive(q)?;
        if self.allocated < q {
            return Err(StockError::NotAllocated { op: "ship" });
        }
        Ok(StockLevel { on_hand: self.on_hand - q, allocated: self.allocated - q, ..self })
    }

    pub fn restock(self, q: i64) -> Result<Self, StockError> {
        Self::positive(q)?;
        Ok(StockLevel { on_hand: self.on_hand + q, available: self.available + q, ..self })
    }

    /// A physical count: sets on-hand, keeping what is held and allocated.
    pub fn set_on_hand(self, on_hand: i64) -> Result<Self, StockError> {
        let committed = self.held + self.allocated;
        if on_hand < committed {
            return Err(StockError::BelowCommitted { committed });
        }
        Ok(StockLevel { on_hand, available: on_hand - committed, ..self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Hold(i64),
        Release(i64),
        Allocate(i64),
        ReleaseAllocation(i64),
        Ship(i64),
        Restock(i64),
        Count(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (-2i64..12).prop_map(Op::Hold),
            (-2i64..12).prop_map(Op::Release),
            (-2i64..12).prop_map(Op::Allocate),
            (-2i64..12).prop_map(Op::ReleaseAllocation),
            (-2i64..12).prop_map(Op::Ship),
            (-2i64..12).prop_map(Op::Restock),
            (-5i64..40).prop_map(Op::Count),
        ]
    }

    proptest! {
        #[test]
        fn stock_is_conserved_under_any_sequence(start in 0i64..50, ops in proptest::collection::vec(op(), 0..200)) {
            let mut s = StockLevel::with_on_hand(start).unwrap();
            for o in ops {
                let next = match o {
                    Op::Hold(q) => s.hold(q),
                    Op::Release(q) => s.release_hold(q),
                    Op::Allocate(q) => s.allocate(q),
                    Op::ReleaseAllocation(q) => s.release_allocation(q),
                    Op::Ship(q) => s.ship(q),
                    Op::Restock(q) => s.restock(q),
                    Op::Count(n) => s.set_on_hand(n),
                };
                if let Ok(n) = next {
                    s = n;
                }
                prop_assert!(s.is_conserved(), "{s:?}");
            }
        }
    }

    #[test]
    fn holding_more_than_available_is_out_of_stock() {
        let s = StockLevel::with_on_hand(2).unwrap();
        assert_eq!(s.hold(3), Err(StockError::OutOfStock { wanted: 3, available: 2 }));
    }

    #[test]
    fn zero_quantity_is_refused() {
        assert_eq!(StockLevel::with_on_hand(2).unwrap().hold(0), Err(StockError::NonPositive));
    }
}
