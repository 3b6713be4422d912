//! A small HTTP client for provider APIs: hyper + rustls (aws-lc-rs), the TLS stack the AWS
//! SDK already brings, so the build carries one of each. Built once per process.

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("request timed out")]
    Timeout,
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("bad request: {0}")]
    Build(String),
}

#[derive(Clone)]
pub struct HttpClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

pub struct HttpResponse {
    pub status: StatusCode,
    pub body: Bytes,
}

impl HttpClient {
    pub fn new(timeout: Duration) -> Result<Self, HttpError> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| HttpError::Build(e.to_string()))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(HttpClient { client: Client::builder(TokioExecutor::new()).build(https), timeout })
    }

    fn request(
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<Request<Full<Bytes>>, HttpError> {
        let mut b = Request::builder().method(method).uri(url);
        for (k, v) in headers {
            b = b.header(*k, v);
        }
        let body = match body {
            Some((ct, bytes)) => {
                b = b.header(header::CONTENT_TYPE, ct);
                Full::new(Bytes::from(bytes))
            }
            None => Full::new(Bytes::new()),
        };
        b.body(body).map_err(|e| HttpError::Build(e.to_string()))
    }

    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<HttpResponse, HttpError> {
        let req = Self::request(method, url, headers, body)?;
        let fut = async {
            let res = self.client.request(req).await.map_err(|e| HttpError::Connect(e.to_string()))?;
            let status = res.status();
            let body = res.into_body().collect().await.map_err(|e| HttpError::Connect(e.to_string()))?.to_bytes();
            Ok(HttpResponse { status, body })
        };
        tokio::time::timeout(self.timeout, fut).await.map_err(|_| HttpError::Timeout)?
    }
}

/// `application/x-www-form-urlencoded`, as Stripe expects.
pub fn form(pairs: &[(&str, String)]) -> Vec<u8> {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&").into_bytes()
}

/// Webhook deliveries: only the status line counts. The receiver's body is never read (a
/// receiver streaming an endless answer costs nothing), and the connection is dropped with it.
#[async_trait::async_trait]
impl crate::ports::WebhookSender for HttpClient {
    async fn post(&self, url: &str, headers: &[(&str, String)], body: &[u8]) -> Result<u16, String> {
        let req = Self::request(Method::POST, url, headers, Some(("application/json", body.to_vec())))
            .map_err(|e| e.to_string())?;
        match tokio::time::timeout(self.timeout, self.client.request(req)).await {
            Ok(Ok(res)) => Ok(res.status().as_u16()),
            Ok(Err(e)) => Err(HttpError::Connect(e.to_string()).to_string()),
            Err(_) => Err(HttpError::Timeout.to_string()),
        }
    }
}
