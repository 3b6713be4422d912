//! Extractors whose rejections are problem documents: the caller (from the API Gateway JWT
//! authorizer context), JSON bodies (64 KB, unknown fields refused), query strings.

use crate::problem::Problem;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;
use oms_shared::app::{Caller, Permission, Roles};
use oms_shared::domain::CustomerId;
use serde::de::DeserializeOwned;
use std::future::Future;

pub const MAX_BODY: usize = 64 * 1024;

/// The authenticated caller. API Gateway's JWT authorizer has already verified the token;
/// its claims arrive in the request context.
pub struct Auth(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(Auth(c.clone()));
        }
        let Some(RequestContext::ApiGatewayV2(ctx)) = parts.extensions.get::<RequestContext>() else {
            return Err(Problem::unauthorized());
        };
        let jwt = ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).ok_or_else(Problem::unauthorized)?;
        let sub = jwt.claims.get("sub").ok_or_else(Problem::unauthorized)?;
        let customer = CustomerId::parse(sub).map_err(|_| Problem::unauthorized())?;
        // `scope` is a space-separated claim (OAuth 2: spaces only, RFC 6749 §3.3); API Gateway
        // may also list `scopes`.
        let claimed = jwt
            .claims
            .get("scope")
            .map(|s| s.split(' ').filter(|x| !x.is_empty()).collect::<Vec<_>>())
            .unwrap_or_default();
        let listed = jwt.scopes.iter().flatten().map(String::as_str);
        let roles = Roles::from_scopes(claimed.into_iter().chain(listed));
        let caller = Caller { customer, roles };
        parts.extensions.insert(caller.clone());
        Ok(Auth(caller))
    }
}

/// A staff caller (any role), else 403. Which role a route needs is checked by `need` on it.
pub struct Staff(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Problem> {
        let Auth(c) = Auth::from_request_parts(parts, s).await?;
        if !c.is_staff() {
            return Err(Problem::from(oms_shared::app::AppError::Forbidden));
        }
        Ok(Staff(c))
    }
}

/// The future a permission check answers with.
type Checked = std::pin::Pin<Box<dyn Future<Output = Response> + Send>>;

/// A route layer: the caller must hold `p` (401 without a token, 403 without the permission),
/// checked before the body is read.
pub fn need(p: Permission) -> axum::middleware::FromFnLayer<impl Fn(Request, Next) -> Checked + Clone, (), (Request,)> {
    axum::middleware::from_fn(move |req: Request, next: Next| {
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            match Auth::from_request_parts(&mut parts, &()).await {
                Err(problem) => problem.into_response(),
                Ok(Auth(c)) if !c.may(p) => Problem::from(oms_shared::app::AppError::Forbidden).into_response(),
                Ok(_) => next.run(Request::from_parts(parts, body)).await,
            }
        }) as Checked
    })
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
        let value = crate::strict::parse::<T>(&bytes)?;
        Ok(Json(value, bytes))
    }
}

/// A query string parsed into `T`.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Problem> {
        axum::extract::Query::<T>::from_request_parts(parts, s).await.map(|q| Query(q.0)).map_err(|e| {
            let text = e.body_text();
            let p = Problem::bad_request(format!("invalid query string: {text}"));
            match crate::strict::named_field(&text) {
                Some(name) => p.with("field", name.to_owned().into()),
                None => p,
            }
        })
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
