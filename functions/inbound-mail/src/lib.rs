//! Mail to the support address: SES receiving stores each message in S3 (`inbound/`), the
//! bucket's notification invokes this function, and the message goes onto the case its subject
//! names or a new inquiry on the order it names (`oms_shared::app::conversations`). A message
//! that names no order of its sender, or whose sender SES could not verify (DMARC, spam and
//! virus verdict headers), is left in the bucket (expired by its lifecycle) and logged by key,
//! never by address; a store or S3 failure fails the invocation (S3 retries).

use aws_lambda_events::event::s3::S3Event;
use oms_shared::app::inbound::MAX_RAW_BYTES;
use oms_shared::app::{AppError, Oms};
use serde_json::{Value, json};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
pub struct InboundMail {
    pub oms: Oms,
    pub s3: aws_sdk_s3::Client,
    /// Only senders SES verified (DMARC pass, spam and virus scans passed) write on a case;
    /// on unless `INBOUND_REQUIRE_VERIFIED_SENDER=false`.
    pub require_verified: bool,
}

/// An S3 event key as stored (event keys are URL-encoded, spaces as `+`).
pub use oms_runtime::form_decode as decode_key;

impl InboundMail {
    /// Every message of an S3 event: `placed` (on a case), `unmatched` (left in the bucket).
    pub async fn handle(&self, event: S3Event) -> Result<Value, Error> {
        let (mut placed, mut unmatched) = (0, 0);
        for r in event.records {
            let (Some(bucket), Some(key)) = (r.s3.bucket.name, r.s3.object.key) else { continue };
            let key = decode_key(&key);
            let obj = self.s3.get_object().bucket(&bucket).key(&key).send().await?;
            if obj.content_length().unwrap_or(0) > MAX_RAW_BYTES as i64 {
                tracing::warn!(key = %key, "inbound mail too large for a case; left in the bucket");
                unmatched += 1;
                continue;
            }
            let raw = obj.body.collect().await?.into_bytes();
            match self.oms.inbound_mail(&raw, self.require_verified).await {
                Ok((case, order)) => {
                    tracing::info!(key = %key, case_id = %case, order_id = %order, "inbound mail on its case");
                    placed += 1;
                }
                Err(e @ (AppError::Invalid { .. } | AppError::Unprocessable { .. })) => {
                    tracing::warn!(key = %key, reason = %e, "inbound mail names no order of its sender; left in the bucket");
                    unmatched += 1;
                }
                Err(e) => return Err(e.to_string().into()),
            }
        }
        Ok(json!({"placed": placed, "unmatched": unmatched}))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn event_keys_are_decoded() {
        assert_eq!(super::decode_key("inbound/a+b%2Bc%3D"), "inbound/a b+c=");
        assert_eq!(super::decode_key("x%"), "x%");
    }
}
