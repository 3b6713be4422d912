//! Batch stock files from the warehouse system (CSV on S3 → the stock-import function, or the
//! runner's `/dev/stock-import`): each row a count (`onHand`) or an adjustment (`delta` with a
//! `reason`), applied through the same use cases as the stock routes. Every row carries the
//! WMS's `sequence`, so a file delivered twice (S3 events are at least once) or a row older than
//! the last applied changes nothing: the dedupe is the count's own condition. A bad row is
//! reported with its line and field and the others still apply; holds and allocations stay
//! through every row, as through the routes.

use super::catalog::{StockAdjustmentInput, StockInput};
use super::{AppError, Oms};
use crate::domain::inventory::CountReason;
use crate::domain::{LocationId, Sku};
use serde::{Deserialize, Serialize};

/// The largest file and the most rows one import takes.
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_IMPORT_ROWS: usize = 20_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Row {
    sku: String,
    location_id: String,
    // Numbers as text, read strictly (decimal digits only: no `0x`, exponents or separators).
    #[serde(default)]
    on_hand: Option<String>,
    #[serde(default)]
    delta: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    sequence: Option<String>,
    #[serde(default)]
    safety_stock: Option<String>,
}

/// A whole number in decimal digits (an optional leading `-`); empty is none.
fn number(line: u64, field: &'static str, v: &Option<String>) -> Result<Option<i64>, RowError> {
    let Some(t) = v.as_deref().map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(row_error(line, Some(field), "a whole number in decimal digits"));
    }
    t.parse().map(Some).map_err(|_| row_error(line, Some(field), "a whole number in decimal digits"))
}

/// A row not applied: its line in the file (the header is line 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RowError {
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub error: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub rows: usize,
    pub applied: usize,
    /// Rows at or below the sequence already applied (a file delivered again, or late).
    pub ignored: usize,
    pub failed: Vec<RowError>,
}

fn row_error(line: u64, field: Option<&str>, error: impl Into<String>) -> RowError {
    RowError { line, field: field.map(str::to_owned), error: error.into() }
}

impl Oms {
    /// Applies a CSV stock file (header `sku,locationId,onHand,delta,reason,sequence,safetyStock`;
    /// `onHand` or `delta` with `reason` per row; `sequence` required). A file that is not CSV
    /// or too large is refused whole; a bad row is reported and skipped.
    #[tracing::instrument(skip_all, fields(bytes = bytes.len()))]
    pub async fn import_stock(&self, bytes: &[u8]) -> Result<ImportReport, AppError> {
        if bytes.len() > MAX_IMPORT_BYTES {
            return Err(AppError::invalid(format!("a stock file is at most {MAX_IMPORT_BYTES} bytes")));
        }
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes);
        let mut report = ImportReport::default();
        for (i, rec) in reader.deserialize::<Row>().enumerate() {
            let line = rec.as_ref().err().and_then(|e| e.position()).map_or(i as u64 + 2, |p| p.line());
            report.rows += 1;
            if report.rows > MAX_IMPORT_ROWS {
                return Err(AppError::invalid(format!("a stock file has at most {MAX_IMPORT_ROWS} rows")));
            }
            let row = match rec {
                Ok(r) => r,
                Err(e) => {
                    report.failed.push(row_error(line, None, format!("not a stock row: {e}")));
                    continue;
                }
            };
            match self.import_row(row, line).await {
                Ok(true) => report.applied += 1,
                Ok(false) => report.ignored += 1,
                Err(e) => report.failed.push(e),
            }
        }
        tracing::info!(
            rows = report.rows,
            applied = report.applied,
            ignored = report.ignored,
            failed = report.failed.len(),
            "stock file imported"
        );
        Ok(report)
    }

    /// One row: `Ok(true)` applied, `Ok(false)` ignored (its sequence was already applied).
    async fn import_row(&self, row: Row, line: u64) -> Result<bool, RowError> {
        let sku = Sku::parse(&row.sku).map_err(|e| row_error(line, Some("sku"), e.to_string()))?;
        let location =
            LocationId::parse(&row.location_id).map_err(|e| row_error(line, Some("locationId"), e.to_string()))?;
        let (on_hand, delta) = (number(line, "onHand", &row.on_hand)?, number(line, "delta", &row.delta)?);
        let safety_stock = number(line, "safetyStock", &row.safety_stock)?;
        let Some(sequence) = number(line, "sequence", &row.sequence)? else {
            return Err(row_error(line, Some("sequence"), "every row needs the WMS's sequence number"));
        };
        let sequence = u64::try_from(sequence).map_err(|_| row_error(line, Some("sequence"), "not negative"))?;
        // The field a refusal names, or the row's quantity (a count below what orders hold).
        let quantity = if on_hand.is_some() { "onHand" } else { "delta" };
        let problem = |e: AppError| {
            let field = match &e {
                AppError::Invalid { field: Some(f), .. } => f.clone(),
                AppError::UnprocessableField { field, .. } => (*field).to_owned(),
                AppError::NotFound | AppError::Unprocessable { kind: "unknown-location", .. } => {
                    "locationId".to_owned()
                }
                _ => quantity.to_owned(),
            };
            let field = Some(field);
            let why = match &e {
                AppError::NotFound => "no stock of this SKU at this location to adjust".to_owned(),
                e => e.to_string(),
            };
            RowError { line, field, error: why }
        };
        let dto = match (on_hand, delta) {
            (Some(on_hand), None) => {
                if row.reason.is_some() {
                    return Err(row_error(line, Some("reason"), "a count has no reason (it is a count)"));
                }
                let input = StockInput {
                    on_hand: Some(on_hand),
                    shards: None,
                    sequence: Some(sequence),
                    safety_stock,
                    channel_safety_stock: None,
                    reorder_point: None,
                    reorder_quantity: None,
                };
                self.set_stock(sku, location, input).await.map_err(problem)?
            }
            (None, Some(delta)) => {
                let reason = row.reason.as_deref().unwrap_or("");
                let reason: CountReason = serde_json::from_value(serde_json::Value::String(reason.to_owned()))
                    .ok()
                    .filter(|r| !matches!(r, CountReason::Count))
                    .ok_or_else(|| {
                        row_error(line, Some("reason"), "cycle_count, damaged, found, theft, received or other")
                    })?;
                if safety_stock.is_some() {
                    return Err(row_error(line, Some("safetyStock"), "set safety stock with a count"));
                }
                let input = StockAdjustmentInput { delta, reason, sequence: Some(sequence) };
                self.adjust_stock(sku, location, input).await.map_err(problem)?
            }
            (Some(_), Some(_)) => {
                return Err(row_error(
                    line,
                    Some("onHand"),
                    "give onHand (a count) or delta (an adjustment), not both",
                ));
            }
            (None, None) => {
                return Err(row_error(line, Some("onHand"), "give onHand (a count) or delta (an adjustment)"));
            }
        };
        Ok(!dto.ignored)
    }
}
