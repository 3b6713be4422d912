//! `Mailer` over SES v2, sending through a configuration set (bounces, complaints, metrics).

use crate::ports::{Mail, MailError, Mailer};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};

#[derive(Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>, configuration_set: Option<String>) -> Self {
        SesMailer { client, from: from.into(), configuration_set }
    }
}

fn content(s: &str) -> Result<Content, MailError> {
    Content::builder().data(s).charset("UTF-8").build().map_err(|e| MailError::Rejected(e.to_string()))
}

#[async_trait::async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(Body::builder().text(content(&mail.text)?).html(content(&mail.html)?).build())
            .build();
        let tag = MessageTag::builder()
            .name("category")
            .value(mail.category)
            .build()
            .map_err(|e| MailError::Rejected(e.to_string()))?;
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .email_tags(tag)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                let throttled = e
                    .as_service_error()
                    .is_some_and(|s| s.is_too_many_requests_exception() || s.is_limit_exceeded_exception());
                let msg = aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string();
                if throttled || e.as_service_error().is_none() {
                    MailError::Transient(msg)
                } else {
                    MailError::Rejected(msg)
                }
            })
    }
}
