//! Links in customer messages. Every link starts from one configured public base URL
//! (`PUBLIC_BASE_URL`); documents a customer opens from a mail without signing in (return
//! labels now, invoices later) and one-click unsubscribe are **signed, expiring links**:
//!
//! `{base}{path}?expires=<unix seconds>&signature=<hex HMAC-SHA256(secret, "{path}\n{expires}")>`
//!
//! under `/v1/signed/`, routes with no authorizer whose handler checks the signature (constant
//! time) and the expiry before reading anything. The secret (`LINK_SIGNING_SECRET`, at least 32
//! characters) never leaves the functions; rotating it voids every link sent.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a mailed document link works.
pub const DOCUMENT_LINK_DAYS: i64 = 30;
/// How long an unsubscribe link works (marketing mail asks for a long-lived one).
pub const UNSUBSCRIBE_LINK_DAYS: i64 = 365;

#[derive(Clone)]
pub struct Links {
    base: String,
    secret: Vec<u8>,
}

/// Which link setting is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkConfigError {
    #[error("an absolute http(s) URL without query or fragment")]
    Base,
    #[error("at least 32 characters")]
    Secret,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link has expired")]
    Expired,
    #[error("the link is not valid")]
    Invalid,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Links").field("base", &self.base).finish_non_exhaustive()
    }
}

impl Links {
    /// `base`: an absolute http(s) URL without a trailing slash; `secret`: 32+ characters.
    pub fn new(base: &str, secret: &str) -> Result<Links, LinkConfigError> {
        let base = base.trim().trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.contains(['?', '#', ' ']) {
            return Err(LinkConfigError::Base);
        }
        if secret.trim().chars().count() < 32 {
            return Err(LinkConfigError::Secret);
        }
        Ok(Links { base: base.to_owned(), secret: secret.trim().as_bytes().to_vec() })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// An unsigned link to a path (it starts with `/`) under the base.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn mac(&self, path: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("hmac takes any key length"));
        mac.update(format!("{path}\n{expires}").as_bytes());
        mac
    }

    /// A signed link to `path` that works until `now + days`.
    pub fn signed(&self, path: &str, now: DateTime<Utc>, days: i64) -> String {
        let expires = (now + Duration::days(days)).timestamp();
        let sig: String = self.mac(path, expires).finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        format!("{}{path}?expires={expires}&signature={sig}", self.base)
    }

    /// Checks a signed link's query for `path` (expiry first, then the signature).
    pub fn verify(&self, path: &str, expires: i64, signature: &str, now: DateTime<Utc>) -> Result<(), LinkError> {
        if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LinkError::Invalid);
        }
        let bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&signature[2 * i..2 * i + 2], 16))
            .collect::<Result<_, _>>()
            .map_err(|_| LinkError::Invalid)?;
        self.mac(path, expires).verify_slice(&bytes).map_err(|_| LinkError::Invalid)?;
        if expires < now.timestamp() { Err(LinkError::Expired) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> Links {
        Links::new("https://shop.example.com/", "0123456789abcdef0123456789abcdef").unwrap()
    }

    fn query(url: &str) -> (i64, String) {
        let q = url.split_once('?').unwrap().1;
        let mut exp = 0;
        let mut sig = String::new();
        for kv in q.split('&') {
            match kv.split_once('=').unwrap() {
                ("expires", v) => exp = v.parse().unwrap(),
                ("signature", v) => sig = v.to_owned(),
                _ => {}
            }
        }
        (exp, sig)
    }

    #[test]
    fn a_signed_link_verifies_for_its_path_until_it_expires() {
        let l = links();
        let now = Utc::now();
        let url = l.signed("/v1/signed/a", now, 1);
        assert!(url.starts_with("https://shop.example.com/v1/signed/a?expires="));
        let (exp, sig) = query(&url);
        assert_eq!(l.verify("/v1/signed/a", exp, &sig, now), Ok(()));
        assert_eq!(l.verify("/v1/signed/b", exp, &sig, now), Err(LinkError::Invalid));
        assert_eq!(l.verify("/v1/signed/a", exp + 1, &sig, now), Err(LinkError::Invalid));
        assert_eq!(l.verify("/v1/signed/a", exp, &sig, now + Duration::days(2)), Err(LinkError::Expired));
        let other = Links::new("https://shop.example.com", "another-secret-another-secret-xx").unwrap();
        assert_eq!(other.verify("/v1/signed/a", exp, &sig, now), Err(LinkError::Invalid));
        assert_eq!(l.verify("/v1/signed/a", exp, "zz", now), Err(LinkError::Invalid));
        assert_eq!(l.verify("/v1/signed/a", exp, &"é".repeat(32), now), Err(LinkError::Invalid));
    }

    #[test]
    fn bases_and_secrets_are_checked() {
        assert!(Links::new("shop.example.com", "0123456789abcdef0123456789abcdef").is_err());
        assert!(Links::new("https://shop.example.com/?x", "0123456789abcdef0123456789abcdef").is_err());
        assert!(Links::new("https://shop.example.com", "short").is_err());
    }
}
