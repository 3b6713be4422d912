//! Dev tokens: HS256 JWTs signed with a local secret (`OMS_DEV_JWT_SECRET`, or one per run).
//! The local runner issues and checks them in its gateway; under `cargo lambda watch` the HTTP
//! functions built with the `dev-auth` feature check them in `dev_auth` (debug builds only). On
//! AWS the API Gateway JWT authorizer validates tokens from the real identity provider, and
//! none of this is compiled into a release build's request path.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    pub iss: String,
    /// The app client the token is for; API Gateway's authorizer refuses any other.
    #[serde(default)]
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

pub const ISSUER: &str = "oms-local";
/// The variable that holds the secret dev tokens are signed with.
pub const SECRET_VAR: &str = "OMS_DEV_JWT_SECRET";
/// The audience, as `JwtAudience` defaults to in `infra/template.yaml`.
pub const AUDIENCE: &str = "oms-storefront";

#[derive(Clone)]
pub struct DevIssuer {
    secret: Vec<u8>,
}

impl DevIssuer {
    pub fn new(secret: Vec<u8>) -> Self {
        DevIssuer { secret }
    }

    /// The secret in `OMS_DEV_JWT_SECRET` (so `cargo lambda watch` functions accept the
    /// runner's tokens), else one per run.
    pub fn from_env() -> Self {
        match std::env::var(SECRET_VAR) {
            Ok(s) if !s.trim().is_empty() => DevIssuer::new(s.into_bytes()),
            _ => DevIssuer::random(),
        }
    }

    /// The secret, for the env file the runner writes (a local, per-run value).
    pub fn secret_text(&self) -> String {
        String::from_utf8_lossy(&self.secret).into_owned()
    }

    pub fn random() -> Self {
        DevIssuer::new(ulid::Ulid::new().to_string().into_bytes())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("hmac takes any key length"))
    }

    pub fn issue(&self, sub: &str, scope: &str, ttl_secs: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            scope: scope.to_owned(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + ttl_secs,
            nbf: None,
        };
        self.sign(&claims)
    }

    /// Signs any claims (tests forge tokens with it).
    pub fn sign(&self, claims: &Claims) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signing_input = format!("{header}.{payload}");
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{sig}")
    }

    /// Verifies signature, issuer and expiry; returns the claims as API Gateway passes them
    /// (every value a string).
    pub fn verify(&self, token: &str) -> Option<HashMap<String, String>> {
        let mut parts = token.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
        if header.get("alg")?.as_str()? != "HS256" {
            return None;
        }
        let sig = URL_SAFE_NO_PAD.decode(s).ok()?;
        let mut mac = self.mac();
        mac.update(format!("{h}.{p}").as_bytes());
        mac.verify_slice(&sig).ok()?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()?;
        // What API Gateway's JWT authorizer checks: issuer, audience, expiry, not-before.
        let now = chrono::Utc::now().timestamp();
        if claims.iss != ISSUER || claims.aud != AUDIENCE || claims.exp < now || claims.nbf.is_some_and(|n| n > now) {
            return None;
        }
        let mut out = HashMap::from([
            ("sub".to_owned(), claims.sub),
            ("iss".to_owned(), claims.iss),
            ("iat".to_owned(), claims.iat.to_string()),
            ("exp".to_owned(), claims.exp.to_string()),
        ]);
        if !claims.scope.is_empty() {
            out.insert("scope".into(), claims.scope);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_tampered_ones_do_not() {
        let i = DevIssuer::new(b"secret".to_vec());
        let t = i.issue("cust-1", "oms/admin", 60);
        let claims = i.verify(&t).unwrap();
        assert_eq!(claims["sub"], "cust-1");
        assert_eq!(claims["scope"], "oms/admin");
        let other = DevIssuer::new(b"other".to_vec());
        assert!(other.verify(&t).is_none());
        assert!(i.verify(&format!("{t}x")).is_none());
        assert!(i.verify(&i.issue("c", "", -10)).is_none());
    }

    #[test]
    fn another_audience_or_a_future_not_before_is_refused() {
        let i = DevIssuer::new(b"secret".to_vec());
        let forge = |f: &dyn Fn(&mut Claims)| {
            let t = i.issue("cust-1", "", 60);
            let p = t.split('.').nth(1).unwrap();
            let mut c: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
            f(&mut c);
            i.sign(&c)
        };
        assert!(i.verify(&forge(&|_| {})).is_some());
        assert!(i.verify(&forge(&|c| c.aud = "other-app".into())).is_none());
        assert!(i.verify(&forge(&|c| c.nbf = Some(c.iat + 3600))).is_none());
    }
}
