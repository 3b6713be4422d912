//! `POST /v1/webhooks/payments/stripe`: verified (signature and timestamp) before parsing.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use oms_shared::app::disputes::{Disputes, SIGNATURE_HEADER};
use oms_shared::app::webhooks::{Received, WebhookError};
use serde_json::json;

fn problem(status: StatusCode, slug: &str, title: &str) -> Response {
    let body =
        json!({"type": format!("urn:oms:problem:{slug}"), "title": title, "status": status.as_u16()}).to_string();
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"))], body).into_response()
}

async fn receive(
    State(d): State<Disputes>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    // A body over the limit (or unreadable) is a problem document like every other refusal.
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "The body is too large");
        }
        Err(_) => return problem(StatusCode::BAD_REQUEST, "invalid-request", "The body could not be read"),
    };
    match d.receive(headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()), &body).await {
        Ok(r) => {
            let state = match r {
                Received::Enqueued => "processed",
                Received::Replay => "duplicate",
                Received::Ignored => "ignored",
            };
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                json!({"received": state}).to_string(),
            )
                .into_response()
        }
        Err(WebhookError::Unauthorized) => {
            problem(StatusCode::UNAUTHORIZED, "invalid-signature", "Missing, invalid or expired signature")
        }
        Err(WebhookError::Malformed(_)) => problem(StatusCode::BAD_REQUEST, "invalid-request", "Malformed event"),
        Err(WebhookError::UnknownTracking) | Err(WebhookError::UnknownCarrier) => {
            problem(StatusCode::UNPROCESSABLE_ENTITY, "unknown-payment", "No order for this payment")
        }
        Err(WebhookError::Unavailable(e)) => {
            tracing::error!(error = %e, "dispute could not be stored");
            problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Temporarily unavailable")
        }
    }
}

pub fn router(d: Disputes) -> Router {
    Router::new()
        .route("/v1/webhooks/payments/stripe", post(receive))
        .method_not_allowed_fallback(|| async {
            problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed")
        })
        .layer(DefaultBodyLimit::max(256 * 1024))
        .with_state(d)
}
