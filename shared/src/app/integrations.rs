//! The ERP, CRM and loyalty consumers: each behind its own queue on the bus (its rule passes
//! the types it needs), each message an integration event in the bus's envelope; what a
//! consumer sends is computed by `domain::integrations` and keyed so a redelivery changes
//! nothing at the receiver.

use crate::domain::events::DomainEvent;
use crate::domain::integrations::{crm_activity, erp_documents, loyalty_transactions};
use crate::ports::{Crm, Erp, IntegrationError, Loyalty};
use std::sync::Arc;

/// Which system a consumer delivers to.
#[derive(Clone)]
pub enum Target {
    Erp(Arc<dyn Erp>),
    Crm(Arc<dyn Crm>),
    Loyalty(Arc<dyn Loyalty>),
}

impl Target {
    pub fn name(&self) -> &'static str {
        match self {
            Target::Erp(_) => "erp",
            Target::Crm(_) => "crm",
            Target::Loyalty(_) => "loyalty",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// Not an integration event: dropped (a retry would not make it one).
    #[error("not an integration event")]
    Malformed,
    #[error(transparent)]
    Delivery(#[from] IntegrationError),
}

#[derive(Clone)]
pub struct IntegrationConsumer {
    pub target: Target,
}

impl IntegrationConsumer {
    /// Delivers one queue message; returns how many calls it made.
    #[tracing::instrument(skip_all, fields(target = self.target.name()))]
    pub async fn handle(&self, body: &str) -> Result<usize, ConsumeError> {
        #[derive(serde::Deserialize)]
        struct Envelope {
            detail: DomainEvent,
        }
        let e = serde_json::from_str::<Envelope>(body).map_err(|_| ConsumeError::Malformed)?.detail;
        let mut sent = 0;
        match &self.target {
            Target::Erp(erp) => {
                for doc in erp_documents(&e) {
                    erp.put_document(&doc).await?;
                    sent += 1;
                }
            }
            Target::Crm(crm) => {
                crm.record_activity(&crm_activity(&e)).await?;
                sent += 1;
            }
            Target::Loyalty(loyalty) => {
                for t in loyalty_transactions(&e) {
                    loyalty.post_transaction(&t).await?;
                    sent += 1;
                }
            }
        }
        tracing::info!(event_type = %e.kind, order_id = %e.order_id, sent, "integration event delivered");
        Ok(sent)
    }
}
