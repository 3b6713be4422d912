//! Invoices and credit notes: the order's list (signed in: its customer or staff) and each
//! PDF from the signed link the list and the mail carry (no sign-in).

use super::{Signed, json, order_id};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oms_shared::app::returns::Returns;
use placement::extract::{Auth, Query};
use placement::problem::Problem;
use serde::Serialize;

pub async fn list(State(r): State<Returns>, Auth(c): Auth, Path(id): Path<String>) -> Result<Response, Problem> {
    #[derive(Serialize)]
    struct List<T> {
        invoices: T,
    }
    let invoices = r.oms.list_documents(&c, &order_id(&id)?, &r.links).await?;
    Ok(json(StatusCode::OK, &List { invoices }))
}

/// A document number as issued (`INV-2026-000001`); anything else is not found.
fn number(s: &str) -> Result<&str, Problem> {
    let ok = s.len() <= 40 && !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok { Ok(s) } else { Err(Problem::from(oms_shared::app::AppError::NotFound)) }
}

pub async fn signed_pdf(
    State(r): State<Returns>,
    Path((id, n)): Path<(String, String)>,
    Query(q): Query<Signed>,
) -> Result<Response, Problem> {
    let order = order_id(&id)?;
    let n = number(&n)?;
    r.check(&oms_shared::app::invoices::document_path(&order, n), q.expires, &q.signature)?;
    let doc = r.oms.document(&order, n).await?;
    let pdf = oms_shared::app::invoices::pdf::render(&doc);
    let disposition = format!("inline; filename=\"{}.pdf\"", doc.number);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("inline")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        pdf,
    )
        .into_response())
}
