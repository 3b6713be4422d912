//! Extractors whose rejections are problem documents: the caller (from the API Gateway JWT
//! authorizer context), JSON bodies (64 KB, unknown fields refused), query strings.

use crate::problem::Problem;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use lambda_http::request::RequestContext;
use oms_shared::app::Caller;
use oms_shared::domain::CustomerId;
use serde::de::DeserializeOwned;

pub const ADMIN_SCOPE: &str = "oms/admin";
pub const MAX_BODY: usize = 64 * 1024;

/// The authenticated caller. API Gateway's JWT authorizer has already verified the token;
/// its claims arrive in the request context.
pub struct Auth(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let Some(RequestContext::ApiGatewayV2(ctx)) = parts.extensions.get::<RequestContext>() else {
            return Err(Problem::unauthorized());
        };
        let jwt = ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).ok_or_else(Problem::unauthorized)?;
        let sub = jwt.claims.get("sub").ok_or_else(Problem::unauthorized)?;
        let customer = CustomerId::parse(sub).map_err(|_| Problem::unauthorized())?;
        // `scope` is a space-separated claim (OAuth 2); API Gateway may also list `scopes`.
        let admin = jwt.claims.get("scope").is_some_and(|s| s.split_whitespace().any(|x| x == ADMIN_SCOPE))
            || jwt.scopes.as_ref().is_some_and(|v| v.iter().any(|x| x == ADMIN_SCOPE));
        Ok(Auth(Caller { customer, admin }))
    }
}

/// An admin caller (scope `oms/admin`), else 403.
pub struct Admin(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Problem> {
        let Auth(c) = Auth::from_request_parts(parts, s).await?;
        if !c.admin {
            return Err(Problem::from(oms_shared::app::AppError::Forbidden));
        }
        Ok(Admin(c))
    }
}

/// A JSON body: at most 64 KB, `application/json`, unknown fields refused by the target type.
pub struct Json<T>(pub T, pub Bytes);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, s: &S) -> Result<Self, Problem> {
        let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if mime != "application/json" && !(mime.starts_with("application/") && mime.ends_with("+json")) {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Send application/json",
            )
            .detail("the body must be JSON with Content-Type: application/json"));
        }
        let bytes = Bytes::from_request(req, s).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "The body is too large")
                    .detail("bodies are limited to 64 KB")
            } else {
                Problem::bad_request("the body could not be read")
            }
        })?;
        if bytes.len() > MAX_BODY {
            return Err(Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "The body is too large")
                .detail("bodies are limited to 64 KB"));
        }
        let value =
            serde_json::from_slice::<T>(&bytes).map_err(|e| Problem::bad_request(format!("invalid JSON body: {e}")))?;
        Ok(Json(value, bytes))
    }
}

/// A query string parsed into `T`.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Problem> {
        axum::extract::Query::<T>::from_request_parts(parts, s)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| Problem::bad_request(format!("invalid query string: {}", e.body_text())))
    }
}

/// An optional JSON body: an empty body is `None`; anything else must be valid JSON for `T`.
pub struct MaybeJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for MaybeJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, s: &S) -> Result<Self, Problem> {
        let empty = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()) == Some("0")
            || (req.headers().get(header::CONTENT_TYPE).is_none()
                && req.headers().get(header::CONTENT_LENGTH).is_none());
        if empty {
            return Ok(MaybeJson(None));
        }
        Json::<T>::from_request(req, s).await.map(|j| MaybeJson(Some(j.0)))
    }
}
