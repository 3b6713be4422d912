//! HTTP adapters of the ERP, CRM and loyalty ports, over plausible REST shapes (bearer key,
//! JSON bodies; `docs/integrations.md`): documents are `PUT` by number, activities `POST`ed
//! with an `Idempotency-Key`, points `POST`ed by reference. A 409 means the receiver already
//! has it (or a newer revision): done. 408, 429, 5xx and transport errors are worth a retry;
//! any other 4xx is a refusal.

use super::http::{HttpClient, HttpError};
use crate::domain::integrations::{CrmActivity, ErpDocument, LoyaltyTransaction};
use crate::ports::{Crm, Erp, IntegrationError, Loyalty};
use http::Method;

/// One REST endpoint family: base URL and bearer key.
pub struct RestApi {
    http: HttpClient,
    base: String,
    key: String,
}

/// A path segment, percent-encoded (ids are ours, but a member id comes from the identity
/// provider).
fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn transport(e: HttpError) -> IntegrationError {
    IntegrationError::Unavailable(e.to_string())
}

impl RestApi {
    pub fn new(http: HttpClient, base: impl Into<String>, key: impl Into<String>) -> Self {
        RestApi { http, base: base.into().trim_end_matches('/').to_owned(), key: key.into() }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        extra: &[(&str, String)],
    ) -> Result<(u16, bytes::Bytes), IntegrationError> {
        let mut headers =
            vec![("authorization", format!("Bearer {}", self.key)), ("accept", "application/json".into())];
        headers.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        let res = self
            .http
            .send(method, &format!("{}{path}", self.base), &headers, body.map(|b| ("application/json", b)))
            .await
            .map_err(transport)?;
        Ok((res.status.as_u16(), res.body))
    }

    async fn write(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        extra: &[(&str, String)],
    ) -> Result<(), IntegrationError> {
        let (status, text) = self.call(method, path, Some(body), extra).await?;
        outcome(status, &text)
    }
}

fn outcome(status: u16, body: &[u8]) -> Result<(), IntegrationError> {
    match status {
        200..=299 | 409 => Ok(()),
        408 | 429 | 500..=599 => Err(IntegrationError::Unavailable(format!("status {status}"))),
        _ => {
            // The receiver's reason, short (never the document we sent).
            let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let code = v["error"]["code"].as_str().unwrap_or("unknown");
            Err(IntegrationError::Refused(format!("status {status}: {code}")))
        }
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, IntegrationError> {
    serde_json::to_vec(v).map_err(|e| IntegrationError::Refused(e.to_string()))
}

#[async_trait::async_trait]
impl Erp for RestApi {
    async fn put_document(&self, doc: &ErpDocument) -> Result<(), IntegrationError> {
        let path = match doc {
            ErpDocument::SalesOrder(so) => format!("/v1/sales-orders/{}", seg(&so.document_number)),
            ErpDocument::CreditNote(cn) => format!("/v1/credit-notes/{}", seg(&cn.document_number)),
        };
        let body = match doc {
            ErpDocument::SalesOrder(so) => json(so)?,
            ErpDocument::CreditNote(cn) => json(cn)?,
        };
        self.write(Method::PUT, &path, body, &[]).await
    }
}

#[async_trait::async_trait]
impl Crm for RestApi {
    async fn record_activity(&self, a: &CrmActivity) -> Result<(), IntegrationError> {
        self.write(Method::POST, "/v1/activities", json(a)?, &[("idempotency-key", a.external_id.clone())]).await
    }
}

#[async_trait::async_trait]
impl Loyalty for RestApi {
    async fn post_transaction(&self, t: &LoyaltyTransaction) -> Result<(), IntegrationError> {
        let path = format!("/v1/members/{}/transactions", seg(&t.member_id));
        match self.write(Method::POST, &path, json(t)?, &[]).await {
            // Not a member: nothing to accrue or reverse.
            Err(IntegrationError::Refused(r)) if r.starts_with("status 404") => Ok(()),
            other => other,
        }
    }

    async fn tier(&self, member_id: &str) -> Result<Option<String>, IntegrationError> {
        let (status, body) = self.call(Method::GET, &format!("/v1/members/{}", seg(member_id)), None, &[]).await?;
        if status == 404 {
            return Ok(None);
        }
        outcome(status, &body)?;
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| IntegrationError::Refused(e.to_string()))?;
        Ok(v["tier"].as_str().map(str::to_owned))
    }

    async fn offers(&self, member_id: &str) -> Result<Vec<crate::domain::loyalty::LoyaltyOffer>, IntegrationError> {
        let path = format!("/v1/members/{}/offers", seg(member_id));
        let (status, body) = self.call(Method::GET, &path, None, &[]).await?;
        if status == 404 {
            return Ok(Vec::new());
        }
        outcome(status, &body)?;
        #[derive(serde::Deserialize)]
        struct Offers {
            offers: Vec<crate::domain::loyalty::LoyaltyOffer>,
        }
        // An offer we cannot read is the programme's error, not a reason to show none.
        let o: Offers = serde_json::from_slice(&body).map_err(|e| IntegrationError::Refused(format!("offers: {e}")))?;
        Ok(o.offers)
    }
}
