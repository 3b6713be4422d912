//! The consumers behind the event bus that keep no order state of their own: analytics (the
//! order facts and figures) and the ERP, CRM and loyalty integrations.

use crate::{Config, Error, init, init_tracing, wiring};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};

/// The analytics consumer's batch: one recording per order however many of its events the
/// batch holds (each reads the order as it is now), the batch's facts committed together with
/// the rows they share; a failure is reported for every message of that order.
pub async fn analytics_batch(a: &oms_shared::app::analytics::Analytics, event: SqsEvent) -> SqsBatchResponse {
    use oms_shared::app::analytics::order_of_message;
    let mut by_order: std::collections::BTreeMap<oms_shared::domain::OrderId, Vec<String>> = Default::default();
    for r in event.records {
        let id = r.message_id.clone().unwrap_or_default();
        match order_of_message(r.body.as_deref().unwrap_or_default()) {
            Some(order) => by_order.entry(order).or_default().push(id),
            None => tracing::warn!(message_id = %id, "not an order event: dropped"),
        }
    }
    let (orders, ids): (Vec<_>, Vec<_>) = by_order.into_iter().unzip();
    let results = a.record_many(&orders).await;
    let failed = ids.into_iter().zip(results).filter_map(|(ids, res)| {
        let e = res.err()?;
        tracing::warn!(error = %e, "analytics recording failed");
        Some(ids)
    });
    crate::failed_messages(failed.flatten())
}

/// The analytics consumer: integration events from the bus's rule (SQS).
pub async fn run_analytics() -> Result<(), Error> {
    let (_, ports) = init().await?;
    let a = wiring::analytics(&ports);
    let a = &a;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(analytics_batch(a, e.payload).await)
    }))
    .await
}

/// An ERP, CRM or loyalty consumer's batch: messages in parallel, failures reported by message
/// id (a malformed message is logged and dropped).
pub async fn integration_batch(
    c: &oms_shared::app::integrations::IntegrationConsumer,
    event: SqsEvent,
) -> SqsBatchResponse {
    use oms_shared::app::integrations::ConsumeError;
    let results = futures::future::join_all(event.records.into_iter().map(|r| async move {
        let id = r.message_id.clone().unwrap_or_default();
        (id, c.handle(r.body.as_deref().unwrap_or_default()).await)
    }))
    .await;
    let failed = results.into_iter().filter_map(|(id, res)| match res {
        Ok(_) => None,
        Err(ConsumeError::Malformed) => {
            tracing::warn!(message_id = %id, "not an integration event: dropped");
            None
        }
        Err(e) => {
            tracing::warn!(message_id = %id, error = %e, "integration delivery failed");
            Some(id)
        }
    });
    crate::failed_messages(failed)
}

/// An integration consumer (`CONSUMER`: erp, crm or loyalty), fed by its rule's queue.
pub async fn run_integration() -> Result<(), Error> {
    // No table: the consumer only calls its system.
    init_tracing();
    let c = wiring::integration(&Config::from_env())?;
    let c = &c;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(integration_batch(c, e.payload).await)
    }))
    .await
}
