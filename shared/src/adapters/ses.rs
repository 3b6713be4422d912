//! `Mailer` over SES v2, sending through a configuration set (bounces, complaints, metrics).
//! The message is built here as MIME (`mail-builder`: text and HTML alternatives, and the
//! one-click unsubscribe headers of marketing mail) and sent as a raw message, so what the
//! customer receives is what tests parse.

use crate::ports::{Mail, MailError, Mailer};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};
use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;

#[derive(Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
    /// Shown beside the address in `From` (the shop's brand).
    display_name: Option<String>,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: impl Into<String>, configuration_set: Option<String>) -> Self {
        SesMailer { client, from: from.into(), display_name: None, configuration_set }
    }

    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }
}

/// The MIME message: From, To, Subject, a Message-ID on the sender's domain, text and HTML
/// alternatives, attachments, and `List-Unsubscribe` (+ `-Post`, RFC 8058) when the mail has an unsubscribe
/// link.
pub fn mime(from: &str, display_name: Option<&str>, mail: &Mail) -> Result<Vec<u8>, MailError> {
    let domain = from.rsplit_once('@').map(|(_, d)| d.trim_end_matches('>')).unwrap_or("localhost");
    let m = MessageBuilder::new();
    let mut m = match display_name {
        Some(name) => m.from((name, from)),
        None => m.from(from),
    };
    m = m
        .to(mail.to.as_str())
        .subject(mail.subject.as_str())
        .message_id(format!("{}@{domain}", ulid::Ulid::new()))
        .text_body(mail.text.as_str())
        .html_body(mail.html.as_str());
    for a in &mail.attachments {
        m = m.attachment(a.content_type, a.filename.as_str(), a.bytes.as_slice());
    }
    if let Some(url) = &mail.unsubscribe {
        m = m
            .header("List-Unsubscribe", Raw::new(format!("<{url}>")))
            .header("List-Unsubscribe-Post", Raw::new("List-Unsubscribe=One-Click"));
    }
    m.write_to_vec().map_err(|e| MailError::Rejected(e.to_string()))
}

#[async_trait::async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let raw = RawMessage::builder()
            .data(Blob::new(mime(&self.from, self.display_name.as_deref(), mail)?))
            .build()
            .map_err(|e| MailError::Rejected(e.to_string()))?;
        let tag = MessageTag::builder()
            .name("category")
            .value(mail.category)
            .build()
            .map_err(|e| MailError::Rejected(e.to_string()))?;
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().raw(raw).build())
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
