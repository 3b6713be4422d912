//! The storefront HTTP function: an `axum::Router` that runs under `lambda_http` on AWS and
//! unchanged in the local runner.

pub mod extract;
pub mod problem;
pub mod routes;
pub mod strict;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post, put};
use oms_shared::app::Oms;
use oms_shared::app::Permission as P;

/// Every route of the storefront and admin API.
pub fn router(oms: Oms) -> Router {
    use extract::need;
    use routes::*;
    Router::new()
        .route("/v1/carts", post(create_cart).get(list_carts))
        .route("/v1/carts/{cart_id}", get(get_cart))
        .route("/v1/carts/{cart_id}/items/{sku}", put(set_cart_item))
        .route("/v1/quotes", post(quote))
        // Public parcel tracking (no sign-in, no personal data).
        .route("/v1/tracking/{tracking_number}", get(public_tracking))
        .route("/track", get(track_page))
        // The catalog for storefronts (no sign-in).
        .route("/v1/products", get(public_products))
        .route("/v1/products/{sku}", get(public_product))
        .route("/v1/products/{sku}/delivery-estimate", get(delivery_estimate))
        .route("/v1/inventory/{sku}", get(public_availability))
        .route("/v1/services/{sku}/slots", get(service_slots))
        .route("/v1/orders", post(place_order).get(list_orders))
        .route("/v1/orders/{order_id}", get(get_order).patch(edit_order))
        .route("/v1/orders/{order_id}/cancel", post(cancel_order))
        .route("/v1/orders/{order_id}/payment", post(submit_payment))
        .route("/v1/orders/{order_id}/inquiries", post(open_inquiry))
        // Technicians' visits and warranty claims (the customer, or an agent for them).
        .route("/v1/orders/{order_id}/visits", post(book_visit))
        .route("/v1/orders/{order_id}/visits/{visit_id}/reschedule", post(reschedule_visit))
        .route("/v1/orders/{order_id}/visits/{visit_id}/cancel", post(cancel_visit))
        .route("/v1/orders/{order_id}/warranty-claims", post(claim_warranty))
        // Backorders and pre-orders.
        .route("/v1/backorders", post(request_backorder))
        .route("/v1/backorders/{sku}/{backorder_id}", get(get_backorder))
        .route("/v1/backorders/{sku}/{backorder_id}/cancel", post(cancel_backorder))
        .route("/v1/me/preferences", get(get_preferences).put(put_preferences))
        .route("/v1/me/export", get(export_me))
        .route("/v1/me", delete(erase_me))
        // Staff routes: each names the permission it needs (`oms_shared::app::access`).
        .route("/v1/admin/products/{sku}", put(put_product).route_layer(need(P::Catalog)))
        .route("/v1/admin/locations/{location_id}", put(put_location).route_layer(need(P::Locations)))
        .route("/v1/admin/stock/{sku}/{location_id}", put(put_stock).route_layer(need(P::Stock)))
        .route("/v1/admin/stock/{sku}/{location_id}/adjustments", post(adjust_stock).route_layer(need(P::Stock)))
        .route("/v1/admin/inventory/drift", get(inventory_drift).route_layer(need(P::Stock)))
        .route("/v1/admin/inventory/low", get(low_stock).route_layer(need(P::Stock)))
        .route("/v1/admin/inventory/replenishment", get(replenishment).route_layer(need(P::Stock)))
        .route("/v1/admin/orders", get(admin_list_orders).route_layer(need(P::ReadOrders)))
        // Call-centre and store orders, placed by staff for a customer.
        .route("/v1/admin/orders", post(admin_place_order).route_layer(need(P::ActForCustomer)))
        .route("/v1/admin/orders/import", post(admin_import_order).route_layer(need(P::ImportOrders)))
        .route(
            "/v1/admin/companies/{company_id}",
            get(admin_get_company).put(admin_put_company).route_layer(need(P::Companies)),
        )
        .route("/v1/admin/companies/{company_id}/payments", post(admin_company_payment).route_layer(need(P::Companies)))
        .route("/v1/admin/orders/{order_id}", get(admin_get_order).route_layer(need(P::ReadOrders)))
        // Promotions, agents' adjustments and their approval.
        .route("/v1/admin/promotions", get(admin_list_promotions).route_layer(need(P::Adjust)))
        .route(
            "/v1/admin/promotions/{promotion_id}",
            get(admin_get_promotion).put(admin_put_promotion).route_layer(need(P::Promotions)),
        )
        .route("/v1/admin/orders/{order_id}/adjustments", post(admin_adjust_order).route_layer(need(P::Adjust)))
        .route("/v1/admin/orders/{order_id}/loyalty-offers", get(admin_loyalty_offers).route_layer(need(P::Adjust)))
        .route(
            "/v1/admin/orders/{order_id}/loyalty-offers/{offer_id}",
            post(admin_apply_loyalty_offer).route_layer(need(P::Adjust)),
        )
        .route("/v1/admin/approvals", get(admin_list_approvals).route_layer(need(P::Adjust)))
        .route(
            "/v1/admin/approvals/{approval_id}/approve",
            post(admin_approve).route_layer(need(P::ApproveAdjustments)),
        )
        .route("/v1/admin/approvals/{approval_id}/reject", post(admin_reject).route_layer(need(P::ApproveAdjustments)))
        .route("/v1/admin/backorders/{sku}", get(admin_backorders))
        .route("/v1/admin/backorders/{sku}/allocate", post(admin_allocate_backorders).route_layer(need(P::Stock)))
        .route(
            "/v1/admin/service-capacity/{region}/{date}",
            get(admin_get_capacity).put(admin_put_capacity).route_layer(need(P::Services)),
        )
        .route(
            "/v1/admin/orders/{order_id}/visits/{visit_id}/status",
            post(admin_visit_status).route_layer(need(P::Services)),
        )
        .route(
            "/v1/admin/orders/{order_id}/visits/{visit_id}/repeat",
            post(admin_repeat_visit).route_layer(need(P::ActForCustomer)),
        )
        .route("/v1/admin/orders/{order_id}/cancel", post(admin_cancel_order).route_layer(need(P::ActForCustomer)))
        .route("/v1/admin/orders/{order_id}/release-hold", post(admin_release_hold).route_layer(need(P::Annotate)))
        .route(
            "/v1/admin/orders/{order_id}/shipments/{shipment_id}/label",
            get(admin_get_label).route_layer(need(P::ReadLabels)),
        )
        .route("/v1/admin/orders/{order_id}/notes", post(admin_note).route_layer(need(P::Annotate)))
        .route("/v1/admin/orders/{order_id}/hold", post(admin_hold).route_layer(need(P::Annotate)))
        .route("/v1/admin/orders/{order_id}/collected", post(admin_collected).route_layer(need(P::Pickups)))
        .route("/v1/admin/orders/{order_id}/feedback", get(admin_feedback).route_layer(need(P::ReadOrders)))
        .route("/v1/admin/orders/{order_id}/notifications", post(admin_resend).route_layer(need(P::Annotate)))
        .route("/v1/admin/orders/{order_id}/refunds", post(admin_goodwill).route_layer(need(P::Refund)))
        .route("/v1/admin/orders/{order_id}/cases", get(admin_order_cases).route_layer(need(P::Cases)))
        .route(
            "/v1/admin/cases",
            post(admin_open_case).route_layer(need(P::Cases)).merge(get(admin_list_cases).route_layer(need(P::Cases))),
        )
        .route(
            "/v1/admin/cases/{case_id}",
            patch(admin_update_case).route_layer(need(P::Cases)).merge(get(admin_get_case).route_layer(need(P::Cases))),
        )
        .route("/v1/admin/reconciliation", get(admin_reconciliation).route_layer(need(P::Reconciliation)))
        .route("/v1/admin/effects/parked", get(admin_parked_effects).route_layer(need(P::Reconciliation)))
        .route("/v1/admin/effects/parked/retry", post(admin_retry_parked).route_layer(need(P::Reconciliation)))
        // The console's reads and actions.
        .route("/v1/admin/customers", get(admin_search_customers).route_layer(need(P::ReadCustomers)))
        .route("/v1/admin/customers/{customer_id}", get(admin_customer).route_layer(need(P::ReadCustomers)))
        .route("/v1/admin/stock", get(admin_stock))
        .route("/v1/admin/products", get(admin_products))
        .route("/v1/admin/locations", get(admin_locations))
        .route("/v1/admin/queues/{queue}", get(admin_queue).route_layer(need(P::ReadCustomers)))
        .route("/v1/admin/orders/{order_id}/confirm", post(admin_confirm).route_layer(need(P::ActForCustomer)))
        .route("/v1/admin/orders/{order_id}/refunds/preview", post(admin_refund_preview).route_layer(need(P::Refund)))
        .route(
            "/v1/admin/settings/confirmation-calls",
            get(get_confirmation_rule).put(put_confirmation_rule).route_layer(need(P::ReadCustomers)),
        )
        .route("/v1/admin/rules", get(get_rules).put(put_rules).route_layer(need(P::ReadCustomers)))
        .route("/v1/admin/rules/versions", get(rules_history).route_layer(need(P::ReadCustomers)))
        .route("/v1/admin/rules/versions/{version}", get(rules_version).route_layer(need(P::ReadCustomers)))
        .route("/v1/admin/cases/{case_id}/replies", post(admin_reply).route_layer(need(P::Cases)))
        // Order analytics.
        .route("/v1/admin/analytics/summary", get(analytics_summary).route_layer(need(P::Analytics)))
        .route("/v1/admin/analytics/timeseries", get(analytics_timeseries).route_layer(need(P::Analytics)))
        .route("/v1/admin/analytics/csat", get(analytics_csat).route_layer(need(P::Analytics)))
        .route("/v1/admin/analytics/customers/{customer_id}", get(analytics_customer).route_layer(need(P::Analytics)))
        .route("/v1/admin/analytics/rebuild", post(analytics_rebuild).route_layer(need(P::Analytics)))
        // Webhook subscriptions for any subscriber.
        .route(
            "/v1/admin/webhook-subscriptions",
            post(create_webhook_subscription).get(list_webhook_subscriptions).route_layer(need(P::Webhooks)),
        )
        .route(
            "/v1/admin/webhook-subscriptions/{subscription_id}",
            get(get_webhook_subscription).delete(delete_webhook_subscription).route_layer(need(P::Webhooks)),
        )
        .route(
            "/v1/admin/webhook-subscriptions/{subscription_id}/rotate-secret",
            post(rotate_webhook_secret).route_layer(need(P::Webhooks)),
        )
        .route(
            "/v1/admin/webhook-subscriptions/{subscription_id}/enable",
            post(enable_webhook_subscription).route_layer(need(P::Webhooks)),
        )
        .route(
            "/v1/admin/webhook-subscriptions/{subscription_id}/deliveries",
            get(webhook_deliveries).route_layer(need(P::Webhooks)),
        )
        .route(
            "/v1/admin/webhook-subscriptions/{subscription_id}/replay",
            post(replay_webhooks).route_layer(need(P::Webhooks)),
        )
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
