//! Carts: created by a customer, readable and editable from any of their devices.

use super::views::CartDto;
use super::{AppError, Caller, Oms};
use crate::domain::*;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCartRequest {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub items: Vec<crate::domain::pricing::LineRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetItemRequest {
    pub quantity: u32,
}

impl Oms {
    async fn check_skus(&self, skus: &[Sku]) -> Result<(), AppError> {
        let found = self.store.get_products(skus).await?;
        let unknown: Vec<String> =
            skus.iter().filter(|s| !found.get(*s).is_some_and(|p| p.active)).map(|s| s.to_string()).collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(AppError::UnprocessableField {
                kind: "unknown-sku",
                detail: format!("sku: unknown or unavailable skus: {}", unknown.join(", ")),
                field: "sku",
            })
        }
    }

    pub async fn create_cart(&self, caller: &Caller, req: CreateCartRequest) -> Result<CartDto, AppError> {
        let now = self.clock.now();
        let mut cart = Cart::new(CartId::generate(), caller.customer.clone(), now);
        cart.email =
            req.email.as_deref().map(Email::parse).transpose().map_err(|e| AppError::invalid_field("email", e))?;
        if req.items.len() > Cart::MAX_ITEMS {
            return Err(AppError::invalid_field("items", format!("at most {} items", Cart::MAX_ITEMS)));
        }
        let skus: Vec<Sku> = req.items.iter().map(|i| i.sku.clone()).collect();
        // One entry per SKU, as an order's lines: a second entry would replace the first's
        // quantity without a word.
        if let Some(twice) = skus.iter().enumerate().find_map(|(i, s)| skus[..i].contains(s).then_some(s)) {
            return Err(AppError::UnprocessableField {
                kind: "duplicate-sku",
                detail: format!(
                    "items: sku {twice} appears in more than one item; send one item with the total quantity"
                ),
                field: "items",
            });
        }
        if !skus.is_empty() {
            self.check_skus(&skus).await?;
        }
        for i in req.items {
            cart.set_quantity(i.sku, i.quantity.get(), now).map_err(|e| AppError::invalid(e.to_string()))?;
        }
        self.store.save_cart(&mut cart).await?;
        Ok(CartDto::from(&cart))
    }

    /// The caller's cart; another customer's cart is "not found".
    pub async fn owned_cart(&self, caller: &Caller, id: &CartId) -> Result<Cart, AppError> {
        match self.store.get_cart(id).await? {
            Some(c) if c.customer == caller.customer && c.expires_at() > self.clock.now() => Ok(c),
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn get_cart(&self, caller: &Caller, id: &CartId) -> Result<CartDto, AppError> {
        Ok(CartDto::from(&self.owned_cart(caller, id).await?))
    }

    pub async fn list_carts(&self, caller: &Caller) -> Result<Vec<CartDto>, AppError> {
        let now = self.clock.now();
        Ok(self
            .store
            .carts_of_customer(&caller.customer)
            .await?
            .iter()
            .filter(|c| c.converted_order.is_none() && c.expires_at() > now)
            .map(CartDto::from)
            .collect())
    }

    /// Sets a SKU's quantity (0 removes). Concurrent edits from two devices both land: a
    /// stale write is re-applied on the fresh cart.
    pub async fn set_cart_item(
        &self,
        caller: &Caller,
        id: &CartId,
        sku: Sku,
        req: SetItemRequest,
    ) -> Result<CartDto, AppError> {
        if req.quantity > Quantity::MAX {
            return Err(AppError::invalid_field("quantity", format!("must be between 0 and {}", Quantity::MAX)));
        }
        if req.quantity > 0 {
            self.check_skus(std::slice::from_ref(&sku)).await?;
        }
        // Many devices at once are applied one after the other.
        super::error::until_it_lands(
            "cart-busy",
            "other changes to this cart kept landing first; send it again",
            || async {
                let mut cart = self.owned_cart(caller, id).await?;
                cart.set_quantity(sku.clone(), req.quantity, self.clock.now()).map_err(|e| match e {
                    CartError::Converted => AppError::CartConverted,
                    other => AppError::Unprocessable { kind: "cart-full", detail: other.to_string() },
                })?;
                self.store.save_cart(&mut cart).await?;
                Ok(CartDto::from(&cart))
            },
        )
        .await
    }
}
