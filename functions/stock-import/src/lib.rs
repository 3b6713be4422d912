//! Stock files from the warehouse system: the WMS (or an operator) puts a CSV under `stock/`
//! in the stock-import bucket, the bucket's notification invokes this function, and every row
//! applies through the stock use cases (`oms_shared::app::stock_import`). The report (rows
//! applied, ignored as already applied, failed with their line and field) is written beside it
//! under `reports/` with the same name and `.json`. A file delivered twice changes nothing the
//! second time (each row's sequence); an S3 or store failure fails the invocation (retried,
//! then the event goes to the DLQ; the file stays in the bucket).

use aws_lambda_events::event::s3::S3Event;
use oms_shared::app::Oms;
use oms_shared::app::stock_import::MAX_IMPORT_BYTES;
use serde_json::{Value, json};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
pub struct StockImport {
    pub oms: Oms,
    pub s3: aws_sdk_s3::Client,
}

/// Where a file's report goes: `stock/2026/counts.csv` → `reports/2026/counts.csv.json`.
pub fn report_key(key: &str) -> String {
    format!("reports/{}.json", key.strip_prefix("stock/").unwrap_or(key))
}

impl StockImport {
    /// Every file of an S3 event; returns each file's report by key.
    pub async fn handle(&self, event: S3Event) -> Result<Value, Error> {
        let mut out = serde_json::Map::new();
        for r in event.records {
            let (Some(bucket), Some(key)) = (r.s3.bucket.name, r.s3.object.key) else { continue };
            let key = oms_runtime::form_decode(&key);
            if !key.starts_with("stock/") {
                continue;
            }
            let obj = self.s3.get_object().bucket(&bucket).key(&key).send().await?;
            let report = if obj.content_length().unwrap_or(0) > MAX_IMPORT_BYTES as i64 {
                json!({"error": format!("a stock file is at most {MAX_IMPORT_BYTES} bytes")})
            } else {
                let bytes = obj.body.collect().await?.into_bytes();
                match self.oms.import_stock(&bytes).await {
                    Ok(r) => serde_json::to_value(r)?,
                    // A file refused whole (too many rows) is reported; a store failure retries.
                    Err(e @ oms_shared::app::AppError::Invalid { .. }) => json!({"error": e.to_string()}),
                    Err(e) => return Err(e.to_string().into()),
                }
            };
            let body = serde_json::to_vec_pretty(&report)?;
            self.s3
                .put_object()
                .bucket(&bucket)
                .key(report_key(&key))
                .content_type("application/json")
                .body(body.into())
                .send()
                .await?;
            tracing::info!(key = %key, "stock file reported");
            out.insert(key, report);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reports_sit_beside_their_file() {
        assert_eq!(super::report_key("stock/2026/counts.csv"), "reports/2026/counts.csv.json");
    }
}
