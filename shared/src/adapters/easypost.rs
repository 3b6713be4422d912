//! `Carrier` over an EasyPost-style shipments API: create a shipment to get rates, buy a rate,
//! fetch the PDF label, refund (void) the label. Money arrives as decimal strings and is parsed
//! into minor units without floats.

use super::http::{HttpClient, HttpError};
use crate::domain::{Currency, Money};
use crate::ports::{Carrier, CarrierError, Label, LabelSource, Parcel, Rate};
use base64::Engine;
use http::Method;
use serde::Deserialize;
use serde_json::json;

/// The carrier name shipments and webhook routes use.
pub const NAME: &str = "easypost";

pub struct EasyPostCarrier {
    http: HttpClient,
    base: String,
    api_key: String,
}

#[derive(Deserialize)]
struct Shipment {
    id: String,
    #[serde(default)]
    rates: Vec<ApiRate>,
    #[serde(default)]
    tracking_code: Option<String>,
    #[serde(default)]
    postage_label: Option<PostageLabel>,
    #[serde(default)]
    selected_rate: Option<ApiRate>,
}

#[derive(Deserialize)]
struct ApiRate {
    id: String,
    service: String,
    rate: String,
    currency: String,
    #[serde(default)]
    delivery_days: Option<u32>,
}

#[derive(Deserialize)]
struct PostageLabel {
    #[serde(default)]
    label_pdf_url: Option<String>,
    #[serde(default)]
    label_url: Option<String>,
}

/// "5.49" in a currency with two minor digits -> 549.
pub fn parse_decimal(amount: &str, currency: Currency) -> Option<Money> {
    let exp = usize::from(currency.minor_unit_exponent());
    let (whole, frac) = amount.trim().split_once('.').unwrap_or((amount.trim(), ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > exp
    {
        return None;
    }
    let frac = format!("{frac:0<exp$}");
    let minor: i64 = format!("{whole}{frac}").parse().ok()?;
    Money::new(minor, currency).ok()
}

impl EasyPostCarrier {
    pub fn new(http: HttpClient, base: impl Into<String>, api_key: impl Into<String>) -> Self {
        EasyPostCarrier { http, base: base.into().trim_end_matches('/').to_owned(), api_key: api_key.into() }
    }

    fn auth(&self) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:", self.api_key)))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        key: Option<&str>,
    ) -> Result<bytes::Bytes, CarrierError> {
        let mut headers = vec![("authorization", self.auth())];
        if let Some(k) = key {
            headers.push(("idempotency-key", k.to_owned()));
        }
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        let res = self
            .http
            .send(method, &url, &headers, body.map(|b| ("application/json", b.to_string().into_bytes())))
            .await
            .map_err(|e| match e {
                HttpError::Timeout | HttpError::Connect(_) => CarrierError::Transient(e.to_string()),
                HttpError::Build(m) => CarrierError::Rejected(m),
            })?;
        match res.status.as_u16() {
            200..=299 => Ok(res.body),
            429 | 500..=599 => Err(CarrierError::Transient(format!("carrier answered {}", res.status))),
            _ => {
                let msg = serde_json::from_slice::<serde_json::Value>(&res.body)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| res.status.to_string());
                Err(CarrierError::Rejected(msg))
            }
        }
    }
}

fn parse<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T, CarrierError> {
    serde_json::from_slice(b).map_err(|e| CarrierError::Transient(format!("unexpected response: {e}")))
}

/// EasyPost parcels: weight in ounces (1 oz = 28.349523125 g, rounded up, in integers) and,
/// when measured, length, width and height in inches (rounded up to a tenth).
fn parcel_json(parcel: &Parcel) -> serde_json::Value {
    let mut p = json!({"weight": (u64::from(parcel.weight_grams) * 1_000_000).div_ceil(28_349_523)});
    if let Some([l, w, h]) = parcel.dimensions_mm {
        let inches = |mm: u32| (f64::from(mm) / 2.54).ceil() / 10.0;
        p["length"] = json!(inches(l));
        p["width"] = json!(inches(w));
        p["height"] = json!(inches(h));
    }
    p
}

#[async_trait::async_trait]
impl Carrier for EasyPostCarrier {
    fn name(&self) -> &str {
        NAME
    }

    async fn rates(&self, parcel: &Parcel) -> Result<Vec<Rate>, CarrierError> {
        let address = |a: &crate::domain::Address| {
            json!({"name": a.name, "street1": a.line1, "street2": a.line2, "city": a.city, "state": a.region,
                   "zip": a.postal_code, "country": a.country.as_str(), "phone": a.phone})
        };
        let body = json!({"shipment": {
            "reference": parcel.reference,
            "to_address": address(&parcel.to),
            "from_address": address(&parcel.from),
            // EasyPost weights are ounces: 1 oz = 28.349523125 g, rounded up, in integers.
            "parcel": parcel_json(parcel),
            "options": {"label_format": "PDF"}
        }});
        let shp: Shipment = parse(
            &self
                .call(Method::POST, "/v2/shipments", Some(body), Some(&format!("rates-{}", parcel.shipment_id)))
                .await?,
        )?;
        Ok(shp
            .rates
            .into_iter()
            .filter_map(|r| {
                let currency = Currency::parse(&r.currency).ok()?;
                Some(Rate {
                    carrier: NAME.to_owned(),
                    // The purchase needs both ids.
                    id: format!("{}:{}", shp.id, r.id),
                    service: r.service,
                    cost: parse_decimal(&r.rate, currency)?,
                    transit_days: r.delivery_days.unwrap_or(5),
                })
            })
            .collect())
    }

    async fn buy_label(&self, _parcel: &Parcel, rate: &Rate, key: &str) -> Result<Label, CarrierError> {
        let (shipment_id, rate_id) =
            rate.id.split_once(':').ok_or_else(|| CarrierError::Rejected("rate id without shipment".into()))?;
        let shp: Shipment = parse(
            &self
                .call(
                    Method::POST,
                    &format!("/v2/shipments/{shipment_id}/buy"),
                    Some(json!({"rate": {"id": rate_id}})),
                    Some(key),
                )
                .await?,
        )?;
        let tracking = shp.tracking_code.ok_or_else(|| CarrierError::Transient("no tracking code yet".into()))?;
        let url = shp
            .postage_label
            .and_then(|l| l.label_pdf_url.or(l.label_url))
            .ok_or_else(|| CarrierError::Transient("no label document yet".into()))?;
        Ok(Label {
            carrier: NAME.to_owned(),
            id: shp.id,
            tracking_number: tracking,
            service: shp.selected_rate.as_ref().map(|r| r.service.clone()).unwrap_or_else(|| rate.service.clone()),
            document_url: Some(url),
            estimated_delivery_days: shp.selected_rate.and_then(|r| r.delivery_days).unwrap_or(rate.transit_days),
        })
    }

    /// The label PDF from the URL the purchase returned (EasyPost keeps it).
    async fn label_document(&self, label: &LabelSource) -> Result<Vec<u8>, CarrierError> {
        let url =
            label.document_url.as_deref().ok_or_else(|| CarrierError::Rejected("no label document URL".into()))?;
        Ok(self.call(Method::GET, url, None, None).await?.to_vec())
    }

    async fn void_label(&self, label_id: &str) -> Result<(), CarrierError> {
        match self.call(Method::POST, &format!("/v2/shipments/{label_id}/refund"), Some(json!({})), None).await {
            Ok(_) => Ok(()),
            // Already refunded: what a retry sees.
            Err(CarrierError::Rejected(m)) if m.contains("already") => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_become_minor_units() {
        assert_eq!(parse_decimal("5.49", Currency::USD).unwrap().amount(), 549);
        assert_eq!(parse_decimal("5.5", Currency::USD).unwrap().amount(), 550);
        assert_eq!(parse_decimal("12", Currency::USD).unwrap().amount(), 1200);
        assert!(parse_decimal("5.499", Currency::USD).is_none());
        assert!(parse_decimal("-1.00", Currency::USD).is_none());
        assert!(parse_decimal("abc", Currency::USD).is_none());
    }
}
