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
    quantity: Option<u32>,
}

pub async fn public_products(State(oms): State<AppState>, Query(q): Query<ProductsQuery>) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.public_products(q.category.as_deref(), q.q.as_deref()).await?))
}

pub async fn public_product(State(oms): State<AppState>, Path(sku): Path<String>) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.public_product(&sku).await?))
}

pub async fn public_availability(State(oms): State<AppState>, Path(sku): Path<String>) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.availability(&sku).await?))
}

pub async fn delivery_estimate(
    State(oms): State<AppState>,
    Path(sku): Path<String>,
    Query(q): Query<EstimateQuery>,
) -> Result<Response, Problem> {
    let e = oms.delivery_estimate(&sku, q.postal_code.as_deref(), q.country.as_deref(), q.quantity).await?;
    Ok(json(StatusCode::OK, &e))
}
