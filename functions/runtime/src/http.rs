//! HTTP functions on Lambda: the router behind `lambda_http`. API Gateway's JWT authorizer
//! puts the caller's claims in the request context; `cargo lambda watch` has no authorizer, so
//! a debug build with the `dev-auth` feature (`cargo lambda watch --features
//! oms-runtime/dev-auth`) checks a dev token from the `Authorization` header the way the
//! authorizer would (signature, issuer, audience, expiry) and puts its claims in the same
//! place. Release builds never contain that layer (`debug_assertions` is off in them).

/// Runs an HTTP function's router until the runtime stops.
pub async fn serve(router: axum::Router) -> Result<(), lambda_http::Error> {
    #[cfg(all(feature = "dev-auth", debug_assertions))]
    let router = dev::layer(router);
    lambda_http::run(router).await
}

#[cfg(all(feature = "dev-auth", debug_assertions))]
pub mod dev {
    use crate::devjwt::{DevIssuer, SECRET_VAR};
    use aws_lambda_events::apigw::{ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription};
    use axum::extract::{Request, State};
    use axum::middleware::Next;
    use axum::response::Response;
    use lambda_http::request::RequestContext;

    /// The router with dev-token checking when `OMS_DEV_JWT_SECRET` is set; without it every
    /// route answers 401 as on AWS without a token, and the cold start says why.
    pub fn layer(router: axum::Router) -> axum::Router {
        match std::env::var(SECRET_VAR) {
            Ok(s) if !s.trim().is_empty() => {
                tracing::warn!("dev-auth: dev tokens accepted (a debug build for cargo lambda watch)");
                router.layer(axum::middleware::from_fn_with_state(DevIssuer::new(s.into_bytes()), authorize))
            }
            _ => {
                tracing::warn!("dev-auth compiled in but {SECRET_VAR} is not set: requests without a token get 401");
                router
            }
        }
    }

    /// Puts a valid dev token's claims where the authorizer would, unless the request already
    /// has an authorizer context. An invalid token changes nothing (the route answers 401).
    pub async fn authorize(State(issuer): State<DevIssuer>, mut req: Request, next: Next) -> Response {
        let has_jwt = matches!(req.extensions().get::<RequestContext>(),
            Some(RequestContext::ApiGatewayV2(c)) if c.authorizer.as_ref().is_some_and(|a| a.jwt.is_some()));
        let token = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        if let (false, Some(claims)) = (has_jwt, token.and_then(|t| issuer.verify(&t))) {
            let mut ctx = match req.extensions_mut().remove::<RequestContext>() {
                Some(RequestContext::ApiGatewayV2(c)) => c,
                _ => Default::default(),
            };
            let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
            jwt.claims = claims;
            let mut auth = ctx.authorizer.take().unwrap_or_else(ApiGatewayRequestAuthorizer::default);
            auth.jwt = Some(jwt);
            ctx.authorizer = Some(auth);
            req.extensions_mut().insert(RequestContext::ApiGatewayV2(ctx));
        }
        next.run(req).await
    }
}
