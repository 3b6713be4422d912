//! Inbound support mail (S3 object created by SES receiving): `inbound_mail::InboundMail`.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), oms_runtime::Error> {
    let (_cfg, ports) = oms_runtime::init().await?;
    let oms = oms_runtime::wiring::oms(&ports);
    let require_verified = std::env::var("INBOUND_REQUIRE_VERIFIED_SENDER").map(|v| v != "false").unwrap_or(true);
    let handler = inbound_mail::InboundMail { oms, s3: oms_runtime::s3_client().await, require_verified };
    let h = &handler;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<aws_lambda_events::event::s3::S3Event>| async move {
        h.handle(e.payload).await
    }))
    .await
}
