//! Shopping carts. A cart belongs to a customer (so it follows them across devices), records
//! its last activity, and expires by TTL.

use super::email::Email;
use super::ids::{CartId, CustomerId, OrderId, Quantity, Sku};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartItem {
    pub sku: Sku,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cart {
    pub id: CartId,
    pub customer: CustomerId,
    pub items: Vec<CartItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converted_order: Option<OrderId>,
    /// Reminder stages already sent (for example `4h`, `24h`).
    #[serde(default)]
    pub reminded: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_activity: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("a cart holds at most {max} distinct items")]
    TooManyItems { max: usize },
    #[error("the cart was already turned into an order")]
    Converted,
}

impl Cart {
    pub const MAX_ITEMS: usize = super::limits::LIMITS.max_lines;
    /// Carts live 30 days after their last activity.
    pub const TTL_DAYS: i64 = 30;

    pub fn new(id: CartId, customer: CustomerId, now: DateTime<Utc>) -> Self {
        Cart {
            id,
            customer,
            items: Vec::new(),
            email: None,
            converted_order: None,
            reminded: Vec::new(),
            created_at: now,
            last_activity: now,
            version: 0,
        }
    }

    /// Sets the quantity of a SKU; zero removes it. Activity resets the reminder stages.
    pub fn set_quantity(&mut self, sku: Sku, quantity: u32, now: DateTime<Utc>) -> Result<(), CartError> {
        if self.converted_order.is_some() {
            return Err(CartError::Converted);
        }
        let pos = self.items.iter().position(|i| i.sku == sku);
        match (pos, Quantity::new(quantity)) {
            (Some(p), Err(_)) => {
                self.items.remove(p);
            }
            (None, Err(_)) => {}
            (Some(p), Ok(q)) => self.items[p].quantity = q,
            (None, Ok(q)) => {
                if self.items.len() >= Self::MAX_ITEMS {
                    return Err(CartError::TooManyItems { max: Self::MAX_ITEMS });
                }
                self.items.push(CartItem { sku, quantity: q });
            }
        }
        self.last_activity = now;
        self.reminded.clear();
        Ok(())
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        self.last_activity + Duration::days(Self::TTL_DAYS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_removes_and_activity_is_recorded() {
        let t0 = Utc::now();
        let mut c = Cart::new(CartId::generate(), CustomerId::parse("c1").unwrap(), t0);
        let sku = Sku::parse("MUG-1").unwrap();
        c.set_quantity(sku.clone(), 2, t0 + Duration::minutes(1)).unwrap();
        assert_eq!(c.items.len(), 1);
        c.set_quantity(sku, 0, t0 + Duration::minutes(2)).unwrap();
        assert!(c.items.is_empty());
        assert_eq!(c.last_activity, t0 + Duration::minutes(2));
    }
}
