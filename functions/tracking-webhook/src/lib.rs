//! `POST /v1/webhooks/carriers/{carrier}`: the raw body's signature is checked before it is
//! parsed; a valid event is deduplicated by its id and enqueued, and the carrier gets 200 fast.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use oms_shared::app::webhooks::{Received, SIGNATURE_HEADER, WebhookError, Webhooks};
use serde_json::json;

const MAX_BODY: usize = 256 * 1024;

fn problem(status: StatusCode, slug: &str, title: &str) -> Response {
    let body =
        json!({"type": format!("urn:oms:problem:{slug}"), "title": title, "status": status.as_u16()}).to_string();
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"))], body).into_response()
}

async fn receive(
    State(w): State<Webhooks>,
    Path(carrier): Path<String>,
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
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    match w.receive(&carrier, signature, &body).await {
        Ok(r) => {
            let state = match r {
                Received::Enqueued => "enqueued",
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
            problem(StatusCode::UNAUTHORIZED, "invalid-signature", "Missing or invalid signature")
        }
        Err(WebhookError::UnknownCarrier) => problem(StatusCode::NOT_FOUND, "unknown-carrier", "Unknown carrier"),
        Err(WebhookError::Malformed(_)) => problem(StatusCode::BAD_REQUEST, "invalid-request", "Malformed event"),
        Err(WebhookError::UnknownTracking) => {
            problem(StatusCode::UNPROCESSABLE_ENTITY, "unknown-tracking-number", "Unknown tracking number")
        }
        Err(WebhookError::Unavailable(e)) => {
            tracing::error!(error = %e, "webhook could not be stored");
            problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Temporarily unavailable")
        }
    }
}

pub fn router(w: Webhooks) -> Router {
    Router::new()
        .route("/v1/webhooks/carriers/{carrier}", post(receive))
        .method_not_allowed_fallback(|| async {
            problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(w)
}
