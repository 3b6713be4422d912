//! API Gateway HTTP API emulation: checks the bearer token like the JWT authorizer, turns the
//! HTTP request into an API Gateway v2 event, parses it with `lambda_http` exactly as the
//! Lambda runtime does, and calls the function's router with it.

use crate::jwt::DevIssuer;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use tower::ServiceExt;

/// API Gateway's payload limit.
const MAX_PAYLOAD: usize = 10 * 1024 * 1024;

fn problem(status: StatusCode, slug: &str, title: &str) -> Response<Body> {
    let body =
        json!({"type": format!("urn:oms:problem:{slug}"), "title": title, "status": status.as_u16()}).to_string();
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    r
}

/// Builds the API Gateway v2 (payload 2.0) event for a request and its verified claims.
pub fn apigw_event(
    method: &str,
    path: &str,
    query: &str,
    headers: &HashMap<String, String>,
    body: &[u8],
    claims: Option<&HashMap<String, String>>,
) -> Value {
    let mut qs = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = oms_runtime::form_decode(k);
        let v = oms_runtime::form_decode(v);
        // API Gateway joins repeated parameters with commas.
        match qs.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                qs.insert(k, Value::String(v));
            }
        }
    }
    let (body_value, b64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(s) => (Value::String(s.to_owned()), false),
        Err(_) => (Value::String(base64::engine::general_purpose::STANDARD.encode(body)), true),
    };
    let now = chrono::Utc::now();
    let mut ctx = json!({
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": "127.0.0.1",
        "domainPrefix": "local",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                 "userAgent": headers.get("user-agent").cloned().unwrap_or_default()},
        "requestId": ulid::Ulid::new().to_string(),
        "routeKey": "$default",
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(c) = claims {
        ctx["authorizer"] = json!({"jwt": {"claims": c, "scopes": null}});
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": ctx,
        "isBase64Encoded": b64,
    });
    if !qs.is_empty() {
        event["queryStringParameters"] = Value::Object(qs);
    }
    if !body_value.is_null() {
        event["body"] = body_value;
    }
    event
}

/// Runs one API Gateway v2 event through a function's router, as the Lambda runtime would.
pub async fn invoke(router: &Router, event: &Value) -> Response<Body> {
    let req = match lambda_http::request::from_str(&event.to_string()) {
        Ok(r) => r,
        Err(_) => {
            return problem(StatusCode::BAD_REQUEST, "invalid-request", "Malformed request");
        }
    };
    let (parts, body) = req.into_parts();
    let req = Request::from_parts(parts, Body::from(body.to_vec()));
    match router.clone().oneshot(req).await {
        Ok(r) => r,
        Err(e) => match e {},
    }
}

/// The gateway: authorizer + event + function. Routes under `/v1/` need a valid token.
pub async fn handle(router: Router, issuer: DevIssuer, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let bytes = match http_body_util::Limited::new(body, MAX_PAYLOAD).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "Request too large");
        }
    };
    let mut headers: HashMap<String, String> = HashMap::new();
    for (k, v) in &parts.headers {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        headers
            .entry(k.as_str().to_owned())
            .and_modify(|e| {
                e.push(',');
                e.push_str(&v)
            })
            .or_insert(v);
    }
    // Carrier webhooks and signed customer links carry their own signature, and public tracking
    // needs none: those routes have no JWT authorizer (`Authorizer: NONE` in the template).
    let path = parts.uri.path();
    let public_read = matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD)
        && (path.starts_with("/v1/tracking/")
            || path == "/track"
            || path == "/v1/products"
            || path.starts_with("/v1/products/")
            || path.starts_with("/v1/inventory/")
            || (path.starts_with("/v1/services/") && path.ends_with("/slots")));
    let public = path.starts_with("/v1/webhooks/") || path.starts_with("/v1/signed/") || public_read;
    if public {
        let event = apigw_event(
            parts.method.as_str(),
            parts.uri.path(),
            parts.uri.query().unwrap_or(""),
            &headers,
            &bytes,
            None,
        );
        return invoke(&router, &event).await;
    }
    let token = headers.get("authorization").and_then(|h| h.strip_prefix("Bearer ").map(str::trim).map(str::to_owned));
    let claims = match token.map(|t| issuer.verify(&t)) {
        Some(Some(c)) => c,
        _ => return problem(StatusCode::UNAUTHORIZED, "unauthenticated", "Unauthorized"),
    };
    let event = apigw_event(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        &headers,
        &bytes,
        Some(&claims),
    );
    invoke(&router, &event).await
}
