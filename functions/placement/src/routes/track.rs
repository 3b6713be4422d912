//! Public parcel tracking, without sign-in: JSON for storefronts and apps, and a page the
//! shipment mail links to. No personal data: status, carrier scans and the estimated delivery.

use super::*;
use oms_shared::app::public_tracking::{PublicTracking, valid_tracking_number};

pub async fn public_tracking(
    State(oms): State<AppState>,
    Path(number): Path<String>,
    Query(super::NoQuery {}): Query<super::NoQuery>,
) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &oms.public_tracking(&number).await?))
}

/// The page's query: other parameters (a campaign tag on a mail link) are ignored.
#[derive(Deserialize)]
pub struct TrackQuery {
    number: Option<String>,
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1a1a1a}\
main{max-width:40rem;margin:2rem auto;padding:0 1rem}form{display:flex;gap:.5rem;flex-wrap:wrap;align-items:end}\
label{display:block;font-weight:600}input{font:inherit;padding:.4rem .5rem;border:1px solid #555;border-radius:4px}\
button{font:inherit;padding:.4rem 1rem;border:2px solid #0b57a4;background:#0b57a4;color:#fff;border-radius:4px}\
section{background:#fff;border:1px solid #ccc;border-radius:6px;padding:1rem;margin-top:1.5rem}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd}\
.alert{color:#8a1c1c;font-weight:600}dt{font-weight:600}dd{margin:0 0 .5rem}";

fn words(s: &str) -> String {
    let s = s.replace('_', " ");
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn result_html(t: &PublicTracking) -> String {
    let kind = if t.kind == "return" { "Return parcel" } else { "Parcel" };
    let mut out = format!(
        "<section aria-labelledby=\"result-h\" id=\"result\"><h2 id=\"result-h\">{kind} {}: {}</h2><dl>",
        t.tracking_number,
        words(&t.status)
    );
    out.push_str(&format!("<dt>Carrier</dt><dd>{}</dd>", words(&t.carrier)));
    if let Some(d) = t.estimated_delivery.filter(|_| t.delivered_at.is_none()) {
        out.push_str(&format!("<dt>Estimated delivery</dt><dd id=\"estimate\">{}</dd>", d.format("%A %-d %B %Y")));
    }
    if let Some(d) = t.delivered_at {
        out.push_str(&format!("<dt>Delivered</dt><dd>{}</dd>", d.format("%Y-%m-%d %H:%M UTC")));
    }
    out.push_str("</dl>");
    if t.events.is_empty() {
        out.push_str("<p id=\"no-events\">The carrier has not scanned the parcel yet.</p>");
    } else {
        out.push_str("<table id=\"events\"><caption>Carrier scans</caption><thead><tr><th scope=\"col\">When (UTC)</th><th scope=\"col\">What</th></tr></thead><tbody>");
        for e in &t.events {
            out.push_str(&format!("<tr><td>{}</td><td>{}</td></tr>", e.at.format("%Y-%m-%d %H:%M"), words(&e.status)));
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
    out
}

/// The tracking page: a form, and the parcel's status when a number is given. Only values the
/// server produced (statuses, dates, a validated tracking number) are written into the page.
pub async fn track_page(State(oms): State<AppState>, Query(q): Query<TrackQuery>) -> Response {
    let number = q.number.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let (status, value, body) = match number {
        None => (StatusCode::OK, String::new(), String::new()),
        Some(n) if !valid_tracking_number(n) => (
            StatusCode::BAD_REQUEST,
            String::new(),
            "<p class=\"alert\" role=\"alert\">A tracking number has 1 to 64 letters, digits or dashes.</p>".to_owned(),
        ),
        Some(n) => match oms.public_tracking(n).await {
            Ok(t) => (StatusCode::OK, n.to_owned(), result_html(&t)),
            Err(AppError::NotFound) => (
                StatusCode::NOT_FOUND,
                n.to_owned(),
                "<p class=\"alert\" role=\"alert\">We found no parcel with that tracking number.</p>".to_owned(),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "tracking page");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    n.to_owned(),
                    "<p class=\"alert\" role=\"alert\">Tracking is unavailable right now. Please try again.</p>"
                        .to_owned(),
                )
            }
        },
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Track a parcel</title><style>{STYLE}</style></head><body><main><h1>Track a parcel</h1>\
<form method=\"get\" action=\"track\"><div><label for=\"number\">Tracking number</label>\
<input id=\"number\" name=\"number\" value=\"{value}\" required maxlength=\"64\" autocomplete=\"off\" spellcheck=\"false\"></div>\
<button type=\"submit\">Track</button></form>{body}</main></body></html>"
    );
    let csp =
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp)),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        page,
    )
        .into_response()
}
