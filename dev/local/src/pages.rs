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

/// The SMS and push messages SNS (moto) accepted, oldest first: `{"channel", "to", "body"}`
/// (push: the device token and the notification's title and body).
pub async fn messages(moto: &str) -> anyhow::Result<serde_json::Value> {
    let data: serde_json::Value = reqwest::get(format!("{moto}/moto-api/data.json")).await?.json().await?;
    let sns = &data["sns"];
    let mut out = Vec::new();
    for m in sns["SMS"].as_array().into_iter().flatten() {
        out.push(serde_json::json!({"channel": "sms", "to": m["phone_number"], "body": m["message"]}));
    }
    for e in sns["PlatformEndpoint"].as_array().into_iter().flatten() {
        for raw in e["messages"].as_object().into_iter().flat_map(|m| m.values()) {
            let msg: serde_json::Value = serde_json::from_str(raw.as_str().unwrap_or("{}")).unwrap_or_default();
            let fcm: serde_json::Value = serde_json::from_str(msg["GCM"].as_str().unwrap_or("{}")).unwrap_or_default();
            out.push(serde_json::json!({"channel": "push", "to": e["token"], "title": fcm["notification"]["title"],
                "body": fcm["notification"]["body"]}));
        }
    }
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

/// `GET /console/...`: the agent console's static files (`console/` at the repository root; on
/// AWS the same files are served from S3 behind CloudFront, decision 12). `config.json` tells
/// the page how to sign in: here with a dev token from `POST /dev/token`.
pub async fn console_file(path: &str) -> Response {
    if path == "config.json" {
        return (
            [("content-type", "application/json"), ("cache-control", "no-store")],
            r#"{"auth":"dev","apiBase":""}"#,
        )
            .into_response();
    }
    let path = if path.is_empty() { "index.html" } else { path };
    // Plain names only: no parent directories, no hidden files, no absolute paths.
    let safe = path.split('/').all(|seg| {
        !seg.is_empty() && !seg.starts_with('.') && seg.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    });
    let root = std::env::var("OMS_CONSOLE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../console"));
    let file = root.join(path);
    let bytes = match safe.then_some(()).map(|_| std::fs::read(&file)) {
        Some(Ok(b)) => b,
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    let kind = match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    };
    ([("content-type", kind), ("cache-control", "no-cache")], bytes).into_response()
}

/// `POST /dev/inbound-mail`: a raw RFC 5322 message as SES receiving would store it in S3; the
/// same use case the inbound-mail function runs puts it on its case.
pub async fn inbound_mail(oms: &oms_shared::app::Oms, raw: &[u8]) -> Response {
    // Locally nothing verified the sender (no SES receiving): the From address is trusted.
    match oms.inbound_mail(raw, false).await {
        Ok((case, order)) => {
            (StatusCode::ACCEPTED, axum::Json(serde_json::json!({"caseId": case, "orderId": order}))).into_response()
        }
        Err(e) => placement::problem::Problem::from(e).into_response(),
    }
}
