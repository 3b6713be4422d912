//! Local-only pages: the sandbox carrier's tracking page (the carrier link in shipment mail
//! points here when the sandbox carrier is configured) and the mail moto's SES accepted, read
//! from the MIME message the mailer built.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use oms_shared::ports::{Store, Tracked};

/// `GET /dev/track/{tracking}`: a parcel's status and dates, no personal data.
pub async fn track_page(store: &dyn Store, tracking: &str) -> Response {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let rows = match store.tracked("sandbox", tracking).await {
        Ok(Some(Tracked::Shipment(s))) => vec![
            ("Status".to_owned(), format!("{:?}", s.status)),
            ("Estimated delivery".into(), s.estimated_delivery.map(|d| d.to_string()).unwrap_or_else(|| "-".into())),
            ("Shipped".into(), s.shipped_at.map(|d| d.to_rfc2822()).unwrap_or_else(|| "-".into())),
            ("Delivered".into(), s.delivered_at.map(|d| d.to_rfc2822()).unwrap_or_else(|| "-".into())),
        ],
        Ok(Some(Tracked::Return(r))) => vec![("Return parcel".to_owned(), format!("{:?}", r.status))],
        Ok(None) => {
            return (StatusCode::NOT_FOUND, Html(format!("<h1>No parcel {}</h1>", esc(tracking)))).into_response();
        }
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let cells: String = rows.iter().map(|(k, v)| format!("<tr><th>{k}</th><td>{}</td></tr>", esc(v))).collect();
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Tracking {t}</title></head><body><h1>Sandbox carrier: {t}</h1><table>{cells}</table></body></html>",
        t = esc(tracking)
    ))
    .into_response()
}

/// The mail moto's SES has accepted, oldest first: `[{to, subject, body, html, raw}]`, parsed
/// from each raw MIME message (`body` is the text part).
pub async fn mail(moto: &str) -> anyhow::Result<serde_json::Value> {
    let data: serde_json::Value = reqwest::get(format!("{moto}/moto-api/data.json")).await?.json().await?;
    let mut out = Vec::new();
    // moto keeps SES messages under ses -> ... -> sent messages, per account and region.
    collect_mail(&data["ses"], &mut out);
    collect_mail(&data["sesv2"], &mut out);
    Ok(serde_json::Value::Array(out))
}

fn collect_mail(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(raw) = m.get("raw_data").and_then(|r| r.as_str()) {
                let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes());
                out.push(serde_json::json!({
                    "to": m.get("destinations").cloned().unwrap_or_default(),
                    "subject": parsed.as_ref().and_then(|p| p.subject()).unwrap_or_default(),
                    "body": parsed.as_ref().and_then(|p| p.body_text(0)).unwrap_or_default(),
                    "html": parsed.as_ref().and_then(|p| p.body_html(0)).unwrap_or_default(),
                    "raw": raw,
                }));
            } else if m.contains_key("subject") && (m.contains_key("destinations") || m.contains_key("destination")) {
                out.push(serde_json::json!({
                    "to": m.get("destinations").or_else(|| m.get("destination")).cloned().unwrap_or_default(),
                    "subject": m.get("subject").cloned().unwrap_or_default(),
                    "body": m.get("body").cloned().unwrap_or_default(),
                }));
            } else {
                for x in m.values() {
                    collect_mail(x, out);
                }
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                collect_mail(x, out);
            }
        }
        _ => {}
    }
}
