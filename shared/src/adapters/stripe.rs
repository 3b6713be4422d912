//! `PaymentGateway` over a Stripe-style PaymentIntents API: manual capture, idempotency keys
//! on every call, card data never seen (tokens only). Errors map to declined (a business
//! outcome), transient (retry with the same key) or rejected.

use super::http::{HttpClient, HttpError, form};
use crate::domain::Money;
use crate::ports::{Authorization, AuthorizeRequest, PaymentError, PaymentGateway};
use http::Method;
use serde::Deserialize;

pub struct StripeGateway {
    http: HttpClient,
    base: String,
    secret_key: String,
}

#[derive(Deserialize)]
struct Intent {
    id: String,
    status: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ApiError,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    decline_code: Option<String>,
}

#[derive(Deserialize)]
struct Refund {
    id: String,
}

impl StripeGateway {
    pub fn new(http: HttpClient, base: impl Into<String>, secret_key: impl Into<String>) -> Self {
        StripeGateway { http, base: base.into().trim_end_matches('/').to_owned(), secret_key: secret_key.into() }
    }

    async fn post(&self, path: &str, params: &[(&str, String)], key: &str) -> Result<bytes::Bytes, PaymentError> {
        let headers = [("authorization", format!("Bearer {}", self.secret_key)), ("idempotency-key", key.to_owned())];
        let res = self
            .http
            .send(
                Method::POST,
                &format!("{}{path}", self.base),
                &headers,
                Some(("application/x-www-form-urlencoded", form(params))),
            )
            .await
            .map_err(|e| match e {
                HttpError::Timeout | HttpError::Connect(_) => PaymentError::Transient(e.to_string()),
                HttpError::Build(m) => PaymentError::Rejected(m),
            })?;
        if res.status.is_success() {
            return Ok(res.body);
        }
        let err = serde_json::from_slice::<ErrorBody>(&res.body).ok().map(|b| b.error);
        let code = err
            .as_ref()
            .and_then(|e| e.decline_code.clone().or_else(|| e.code.clone()))
            .unwrap_or_else(|| res.status.to_string());
        Err(match (res.status.as_u16(), err.as_ref().map(|e| e.kind.as_str())) {
            (402, _) | (_, Some("card_error")) => PaymentError::Declined(code),
            (429, _) | (500..=599, _) | (_, Some("api_error")) => PaymentError::Transient(code),
            _ => PaymentError::Rejected(code),
        })
    }
}

fn parse<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T, PaymentError> {
    serde_json::from_slice(b).map_err(|e| PaymentError::Transient(format!("unexpected response: {e}")))
}

#[async_trait::async_trait]
impl PaymentGateway for StripeGateway {
    async fn authorize(&self, req: &AuthorizeRequest) -> Result<Authorization, PaymentError> {
        let params = [
            ("amount", req.amount.amount().to_string()),
            ("currency", req.amount.currency().as_str().to_ascii_lowercase()),
            ("capture_method", "manual".to_owned()),
            ("confirm", "true".to_owned()),
            ("payment_method_data[type]", "card".to_owned()),
            ("payment_method_data[card][token]", req.token.clone()),
            ("metadata[order_id]", req.order_id.to_string()),
        ];
        let intent: Intent = parse(&self.post("/v1/payment_intents", &params, &req.idempotency_key).await?)?;
        match intent.status.as_str() {
            "requires_capture" | "succeeded" => Ok(Authorization { id: intent.id }),
            "requires_action" => Err(PaymentError::Declined("authentication_required".into())),
            other => Err(PaymentError::Declined(other.to_owned())),
        }
    }

    async fn capture(
        &self,
        authorization_id: &str,
        amount: &Money,
        key: &str,
        final_capture: bool,
    ) -> Result<(), PaymentError> {
        // Split shipments capture per shipment (Stripe multicapture); the last one is final.
        let params = [("amount_to_capture", amount.amount().to_string()), ("final_capture", final_capture.to_string())];
        let intent: Intent =
            parse(&self.post(&format!("/v1/payment_intents/{authorization_id}/capture"), &params, key).await?)?;
        match intent.status.as_str() {
            "succeeded" | "requires_capture" => Ok(()),
            other => Err(PaymentError::Rejected(format!("capture left intent {other}"))),
        }
    }

    async fn void(&self, authorization_id: &str, key: &str) -> Result<(), PaymentError> {
        match self.post(&format!("/v1/payment_intents/{authorization_id}/cancel"), &[], key).await {
            Ok(_) => Ok(()),
            // Cancelling a cancelled intent is what a retry does.
            Err(PaymentError::Rejected(code)) if code == "payment_intent_unexpected_state" => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn refund(&self, authorization_id: &str, amount: &Money, key: &str) -> Result<String, PaymentError> {
        let params = [("payment_intent", authorization_id.to_owned()), ("amount", amount.amount().to_string())];
        let r: Refund = parse(&self.post("/v1/refunds", &params, key).await?)?;
        Ok(r.id)
    }
}
