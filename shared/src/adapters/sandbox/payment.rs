//! Sandbox payment gateway for local runs and tests: deterministic, offline, with Stripe's
//! test token names where one exists.
//!
//! | token | behaviour |
//! |---|---|
//! | `tok_visa`, `tok_mastercard`, `tok_amex` | authorizes |
//! | `tok_chargeDeclined` | declines (card_declined) |
//! | `tok_chargeDeclinedInsufficientFunds` | declines (insufficient_funds) |
//! | `tok_transientError` | first attempt per idempotency key fails transiently, then authorizes |
//! | `tok_timeoutAfterSuccess` | authorizes, but the first response is lost (timeout); a retry with the same key returns the same authorization |

use crate::domain::Money;
use crate::ports::{Authorization, AuthorizeRequest, PaymentError, PaymentGateway};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentState {
    /// Authorized; `captured` so far (partial captures allowed up to the authorized amount).
    Authorized {
        amount: Money,
        captured: i64,
    },
    /// The final capture happened; the rest of the authorization is released.
    Captured {
        captured: i64,
    },
    Voided,
}

#[derive(Default)]
pub struct SandboxPayments {
    by_key: Mutex<HashMap<String, String>>,
    intents: Mutex<HashMap<String, IntentState>>,
    refunds: Mutex<HashMap<String, (String, Money)>>,
    attempts: Mutex<HashMap<String, u32>>,
    capture_keys: Mutex<std::collections::HashSet<String>>,
    /// Every call, for tests: (operation, authorization id or token, amount).
    pub calls: Mutex<Vec<(String, String, i64)>>,
}

impl SandboxPayments {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn state(&self, authorization_id: &str) -> Option<IntentState> {
        self.intents.lock().ok()?.get(authorization_id).cloned()
    }

    /// Authorizations still open (neither captured nor voided).
    pub fn open_authorizations(&self) -> usize {
        self.intents
            .lock()
            .map(|m| m.values().filter(|s| matches!(s, IntentState::Authorized { .. })).count())
            .unwrap_or(0)
    }

    /// Total captured over every payment.
    pub fn captured_total(&self) -> i64 {
        self.intents
            .lock()
            .map(|m| {
                m.values()
                    .map(|s| match s {
                        IntentState::Authorized { captured, .. } | IntentState::Captured { captured } => *captured,
                        IntentState::Voided => 0,
                    })
                    .sum()
            })
            .unwrap_or(0)
    }

    pub fn refunded_total(&self) -> i64 {
        self.refunds.lock().map(|m| m.values().map(|(_, a)| a.amount()).sum()).unwrap_or(0)
    }

    fn record(&self, op: &str, id: &str, amount: i64) {
        if let Ok(mut c) = self.calls.lock() {
            c.push((op.to_owned(), id.to_owned(), amount));
        }
    }

    fn attempt(&self, key: &str) -> u32 {
        let mut a = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let n = a.entry(key.to_owned()).or_insert(0);
        *n += 1;
        *n
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[async_trait::async_trait]
impl PaymentGateway for SandboxPayments {
    async fn authorize(&self, req: &AuthorizeRequest) -> Result<Authorization, PaymentError> {
        self.record("authorize", &req.token, req.amount.amount());
        if let Some(id) = lock(&self.by_key).get(&req.idempotency_key).cloned() {
            return Ok(Authorization { id });
        }
        let attempt = self.attempt(&req.idempotency_key);
        match req.token.as_str() {
            "tok_chargeDeclined" => return Err(PaymentError::Declined("card_declined".into())),
            "tok_chargeDeclinedInsufficientFunds" => return Err(PaymentError::Declined("insufficient_funds".into())),
            "tok_transientError" if attempt == 1 => return Err(PaymentError::Transient("processing_error".into())),
            t if !t.starts_with("tok_") => return Err(PaymentError::Rejected("no such token".into())),
            _ => {}
        }
        let id = format!("pi_sbx_{}", ulid::Ulid::new().to_string().to_lowercase());
        lock(&self.by_key).insert(req.idempotency_key.clone(), id.clone());
        lock(&self.intents).insert(id.clone(), IntentState::Authorized { amount: req.amount, captured: 0 });
        if req.token == "tok_timeoutAfterSuccess" && attempt == 1 {
            return Err(PaymentError::Transient("timeout".into()));
        }
        Ok(Authorization { id })
    }

    async fn capture(
        &self,
        authorization_id: &str,
        amount: &Money,
        key: &str,
        final_capture: bool,
    ) -> Result<(), PaymentError> {
        self.record("capture", authorization_id, amount.amount());
        if lock(&self.capture_keys).contains(key) {
            return Ok(());
        }
        let mut intents = lock(&self.intents);
        match intents.get(authorization_id).cloned() {
            Some(IntentState::Authorized { amount: auth, captured }) if captured + amount.amount() <= auth.amount() => {
                let captured = captured + amount.amount();
                let next = if final_capture || captured == auth.amount() {
                    IntentState::Captured { captured }
                } else {
                    IntentState::Authorized { amount: auth, captured }
                };
                intents.insert(authorization_id.to_owned(), next);
                lock(&self.capture_keys).insert(key.to_owned());
                Ok(())
            }
            Some(IntentState::Authorized { .. }) => Err(PaymentError::Rejected("amount exceeds authorization".into())),
            Some(other) => Err(PaymentError::Rejected(format!("cannot capture: {other:?}"))),
            None => Err(PaymentError::Rejected("no such payment intent".into())),
        }
    }

    async fn void(&self, authorization_id: &str, _key: &str) -> Result<(), PaymentError> {
        self.record("void", authorization_id, 0);
        let mut intents = lock(&self.intents);
        match intents.get(authorization_id) {
            Some(IntentState::Authorized { captured: 0, .. }) | Some(IntentState::Voided) => {
                intents.insert(authorization_id.to_owned(), IntentState::Voided);
                Ok(())
            }
            Some(IntentState::Authorized { captured, .. }) => {
                // Releasing what is left of a partly captured authorization.
                let captured = *captured;
                intents.insert(authorization_id.to_owned(), IntentState::Captured { captured });
                Ok(())
            }
            Some(IntentState::Captured { .. }) => {
                Err(PaymentError::Rejected("already captured: refund instead".into()))
            }
            None => Err(PaymentError::Rejected("no such payment intent".into())),
        }
    }

    async fn refund(&self, authorization_id: &str, amount: &Money, key: &str) -> Result<String, PaymentError> {
        self.record("refund", authorization_id, amount.amount());
        if let Some((id, _)) = lock(&self.refunds).get(key) {
            return Ok(id.clone());
        }
        match lock(&self.intents).get(authorization_id) {
            Some(IntentState::Captured { captured }) | Some(IntentState::Authorized { captured, .. })
                if *captured >= amount.amount() => {}
            _ => return Err(PaymentError::Rejected("nothing captured to refund".into())),
        }
        let id = format!("re_sbx_{}", ulid::Ulid::new().to_string().to_lowercase());
        lock(&self.refunds).insert(key.to_owned(), (id.clone(), *amount));
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, OrderId};

    fn req(token: &str, key: &str) -> AuthorizeRequest {
        AuthorizeRequest {
            token: token.into(),
            amount: Money::new(1000, Currency::USD).unwrap(),
            idempotency_key: key.into(),
            order_id: OrderId::generate(),
        }
    }

    #[tokio::test]
    async fn same_key_returns_the_same_authorization() {
        let p = SandboxPayments::new();
        let a = p.authorize(&req("tok_visa", "k")).await.unwrap();
        assert_eq!(p.authorize(&req("tok_visa", "k")).await.unwrap(), a);
        assert_eq!(p.open_authorizations(), 1);
    }

    #[tokio::test]
    async fn decline_transient_and_timeout_tokens_behave_as_documented() {
        let p = SandboxPayments::new();
        assert!(matches!(p.authorize(&req("tok_chargeDeclined", "a")).await, Err(PaymentError::Declined(_))));
        assert!(matches!(p.authorize(&req("tok_transientError", "b")).await, Err(PaymentError::Transient(_))));
        assert!(p.authorize(&req("tok_transientError", "b")).await.is_ok());
        assert!(matches!(p.authorize(&req("tok_timeoutAfterSuccess", "c")).await, Err(PaymentError::Transient(_))));
        let again = p.authorize(&req("tok_timeoutAfterSuccess", "c")).await.unwrap();
        assert_eq!(p.open_authorizations(), 2, "the timed-out authorization is the one returned on retry: {again:?}");
    }

    #[tokio::test]
    async fn void_then_capture_is_rejected() {
        let p = SandboxPayments::new();
        let a = p.authorize(&req("tok_visa", "k")).await.unwrap();
        p.void(&a.id, "v").await.unwrap();
        p.void(&a.id, "v").await.unwrap();
        assert!(p.capture(&a.id, &Money::new(1000, Currency::USD).unwrap(), "c", true).await.is_err());
    }

    #[tokio::test]
    async fn partial_captures_add_up_and_repeat_keys_capture_once() {
        let p = SandboxPayments::new();
        let a = p.authorize(&req("tok_visa", "k")).await.unwrap();
        let m = |v| Money::new(v, Currency::USD).unwrap();
        p.capture(&a.id, &m(400), "c1", false).await.unwrap();
        p.capture(&a.id, &m(400), "c1", false).await.unwrap();
        assert_eq!(p.captured_total(), 400);
        p.capture(&a.id, &m(600), "c2", true).await.unwrap();
        assert_eq!(p.captured_total(), 1000);
        assert!(p.capture(&a.id, &m(1), "c3", true).await.is_err());
    }
}
