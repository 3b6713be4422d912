//! The storefront HTTP function: an `axum::Router` that runs under `lambda_http` on AWS and
//! unchanged in the local runner.

pub mod extract;
pub mod problem;
pub mod routes;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use oms_shared::app::Oms;

/// Every route of the storefront and admin API.
pub fn router(oms: Oms) -> Router {
    use routes::*;
    Router::new()
        .route("/v1/carts", post(create_cart).get(list_carts))
        .route("/v1/carts/{cart_id}", get(get_cart))
        .route("/v1/carts/{cart_id}/items/{sku}", put(set_cart_item))
        .route("/v1/quotes", post(quote))
        .route("/v1/orders", post(place_order).get(list_orders))
        .route("/v1/orders/{order_id}", get(get_order).patch(edit_order))
        .route("/v1/orders/{order_id}/cancel", post(cancel_order))
        .route("/v1/me/preferences", get(get_preferences).put(put_preferences))
        .route("/v1/admin/products/{sku}", put(put_product))
        .route("/v1/admin/locations/{location_id}", put(put_location))
        .route("/v1/admin/stock/{sku}/{location_id}", put(put_stock))
        .route("/v1/admin/orders", get(admin_list_orders))
        .route("/v1/admin/orders/{order_id}", get(admin_get_order))
        .route("/v1/admin/orders/{order_id}/cancel", post(admin_cancel_order))
        .route("/v1/admin/orders/{order_id}/release-hold", post(admin_release_hold))
        .route("/v1/admin/orders/{order_id}/shipments/{shipment_id}/label", get(admin_get_label))
        .route("/v1/admin/orders/{order_id}/notes", post(admin_note))
        .route("/v1/admin/orders/{order_id}/hold", post(admin_hold))
        .route("/v1/admin/orders/{order_id}/notifications", post(admin_resend))
        .route("/v1/admin/orders/{order_id}/refunds", post(admin_goodwill))
        .route("/v1/admin/orders/{order_id}/cases", get(admin_order_cases))
        .route("/v1/admin/cases", post(admin_open_case).get(admin_list_cases))
        .route("/v1/admin/cases/{case_id}", axum::routing::patch(admin_update_case))
        .route("/v1/admin/reconciliation", get(admin_reconciliation))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            problem::Problem::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            )
        })
        .layer(DefaultBodyLimit::max(extract::MAX_BODY))
        .with_state(oms)
}
