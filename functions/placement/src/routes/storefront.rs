//! Catalog reads for storefronts, without sign-in: products, one product, its availability
//! per location and its delivery options for a postal code.

use super::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductsQuery {
    category: Option<String>,
    q: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EstimateQuery {
    postal_code: Option<String>,
    country: Option<String>,
    quantity: Option<String>,
}

/// A route that takes no query parameters: any is refused (400 naming it).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

pub async fn public_products(State(oms): State<AppState>, Query(q): Query<ProductsQuery>) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.public_products(q.category.as_deref(), q.q.as_deref()).await?))
}

pub async fn public_product(
    State(oms): State<AppState>,
    Path(sku): Path<String>,
    Query(NoQuery {}): Query<NoQuery>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.public_product(&sku).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityQuery {
    /// The channel the storefront sells on: its own safety stock is kept back too.
    channel: Option<oms_shared::domain::order::Channel>,
}

pub async fn public_availability(
    State(oms): State<AppState>,
    Path(sku): Path<String>,
    Query(q): Query<AvailabilityQuery>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.availability(&sku, q.channel).await?))
}

pub async fn delivery_estimate(
    State(oms): State<AppState>,
    Path(sku): Path<String>,
    Query(q): Query<EstimateQuery>,
) -> Result<Response, Problem> {
    // Digits only, so a malformed quantity is refused naming the field.
    let quantity = match q.quantity.as_deref() {
        None => None,
        Some(t) => Some(
            t.parse::<u32>()
                .ok()
                .filter(|_| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| Problem::from(AppError::invalid_field("quantity", "a whole number from 1 to 99")))?,
        ),
    };
    let e = oms.delivery_estimate(&sku, q.postal_code.as_deref(), q.country.as_deref(), quantity).await?;
    Ok(json(StatusCode::OK, &e))
}
