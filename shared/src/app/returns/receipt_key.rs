//! A return receipt's `Idempotency-Key`, kept on the return it was applied to.

use super::ReceiveRequest;
use crate::app::AppError;
use crate::domain::returns::Rma;

/// A receipt's `Idempotency-Key` as kept on the return: `<key digest>:<request digest>`.
pub(super) struct ReceiptKey(pub(super) String);

impl ReceiptKey {
    pub(super) fn of(key: &str, req: &ReceiveRequest) -> Result<Self, AppError> {
        use sha2::{Digest, Sha256};
        if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::invalid_field("Idempotency-Key", "1-200 visible ASCII characters"));
        }
        let hex = |b: &[u8]| b.iter().take(12).map(|x| format!("{x:02x}")).collect::<String>();
        // The receipt's lines in any order are the same receipt.
        let mut lines: Vec<String> =
            req.lines.iter().map(|l| format!("{}|{}|{:?};", l.line_id, l.quantity, l.condition)).collect();
        lines.sort();
        let body = lines.concat();
        Ok(ReceiptKey(format!("{}:{}", hex(&Sha256::digest(key)), hex(&Sha256::digest(body)))))
    }

    /// True when this receipt was applied; a refusal when the key came with another body.
    pub(super) fn seen_in(&self, rma: &Rma) -> Result<bool, AppError> {
        let key = self.0.split(':').next().unwrap_or_default();
        match rma.receipt_keys.iter().find(|k| k.split(':').next() == Some(key)) {
            Some(k) if *k == self.0 => Ok(true),
            Some(_) => Err(AppError::UnprocessableField {
                kind: "idempotency-key-reused",
                detail: "Idempotency-Key: this key was already used with a different receipt".into(),
                field: "Idempotency-Key",
            }),
            None => Ok(false),
        }
    }
}
