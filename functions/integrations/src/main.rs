//! SQS consumer behind the event bus that delivers integration events to one system, named by
//! `CONSUMER`: the ERP (transaction documents, credit notes), the CRM (customer activity) or
//! the loyalty programme (points on delivery, reversed on returns). One binary, three
//! functions in the template, each with its own rule, queue and DLQ.

#[tokio::main]
async fn main() -> Result<(), oms_runtime::Error> {
    oms_runtime::run_integration().await
}
