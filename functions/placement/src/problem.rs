//! RFC 9457 problem details: every error leaves as `application/problem+json` with a stable
//! `type`. Internal errors are logged here, once, and never described to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oms_shared::app::AppError;
use serde::Serialize;

pub const TYPE_PREFIX: &str = "urn:oms:problem:";

#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str) -> Self {
        Problem {
            kind: format!("{TYPE_PREFIX}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            extra: Default::default(),
        }
    }
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
    pub fn with(mut self, key: &str, v: serde_json::Value) -> Self {
        self.extra.insert(key.to_owned(), v);
        self
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "invalid-request", "The request is invalid").detail(detail)
    }
    pub fn unauthorized() -> Self {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Authentication is required")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut res = (status, body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        res
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        use StatusCode as S;
        match e {
            AppError::Invalid { detail, field } => {
                let p = Problem::bad_request(detail);
                match field {
                    Some(f) => p.with("field", f.into()),
                    None => p,
                }
            }
            AppError::Unprocessable { kind, detail } => {
                Problem::new(S::UNPROCESSABLE_ENTITY, kind, "The request cannot be processed").detail(detail)
            }
            AppError::Locked { kind, detail } => {
                Problem::new(S::TOO_MANY_REQUESTS, kind, "Too many attempts").detail(detail)
            }
            AppError::UnprocessableField { kind, detail, field } => {
                Problem::new(S::UNPROCESSABLE_ENTITY, kind, "The request cannot be processed")
                    .detail(detail)
                    .with("field", field.into())
            }
            AppError::NotFound => Problem::new(S::NOT_FOUND, "not-found", "Not found"),
            AppError::Gone => Problem::new(S::GONE, "link-expired", "The link has expired")
                .detail("ask us for a new link, or sign in to your account"),
            AppError::Forbidden => Problem::new(S::FORBIDDEN, "forbidden", "Forbidden")
                .detail("your role does not allow this (the roles each route needs: docs/openapi.yaml)"),
            AppError::OutOfStock(short) => Problem::new(S::CONFLICT, "out-of-stock", "Not enough stock")
                .detail(format!("short: {}", short.iter().map(|s| s.sku.as_str()).collect::<Vec<_>>().join(", ")))
                .with("shortages", serde_json::to_value(&short).unwrap_or_default()),
            AppError::InvalidState { status, action } => {
                Problem::new(S::CONFLICT, "invalid-state", "The order is in the wrong state")
                    .detail(format!("the order is {status} and cannot be {action}"))
                    .with("orderStatus", status.as_str().into())
            }
            AppError::IdempotencyMismatch => {
                Problem::new(S::UNPROCESSABLE_ENTITY, "idempotency-key-reused", "Idempotency key reused")
                    .detail("this Idempotency-Key was already used with a different request body")
            }
            AppError::StaleVersion => Problem::new(S::PRECONDITION_FAILED, "stale-version", "The resource changed")
                .detail("re-read the resource and retry with its current version"),
            AppError::VersionRequired => {
                Problem::new(S::PRECONDITION_REQUIRED, "version-required", "A version is required")
                    .detail("send If-Match with the order's ETag, or a version field")
            }
            AppError::OverLimit(detail) => {
                Problem::new(S::FORBIDDEN, "over-limit", "Your role does not allow this").detail(detail)
            }
            AppError::CartConverted => Problem::new(S::CONFLICT, "cart-converted", "The cart was already ordered"),
            AppError::Conflict { kind, detail } => {
                Problem::new(S::CONFLICT, kind, "The request conflicts with what already happened").detail(detail)
            }
            AppError::ConflictField { kind, detail, field } => {
                Problem::new(S::CONFLICT, kind, "The request conflicts with what already happened")
                    .detail(detail)
                    .with("field", field.into())
            }
            AppError::Unavailable(msg) => {
                tracing::warn!(error = %msg, "dependency unavailable");
                Problem::new(S::SERVICE_UNAVAILABLE, "unavailable", "Temporarily unavailable")
                    .detail("a service the OMS depends on did not answer; retry shortly")
            }
            AppError::Internal(msg) => {
                tracing::error!(error = %msg, "internal error");
                Problem::new(S::INTERNAL_SERVER_ERROR, "internal", "Internal error")
            }
        }
    }
}

impl From<oms_shared::ports::StoreError> for Problem {
    fn from(e: oms_shared::ports::StoreError) -> Self {
        Problem::from(AppError::from(e))
    }
}
