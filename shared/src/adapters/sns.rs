//! Amazon SNS as the message channel: an SMS is a `Publish` to the phone number (transactional,
//! after `CheckIfPhoneNumberIsOptedOut`: SNS keeps the numbers that replied STOP); a push is a
//! `Publish` to the device's platform endpoint, made from its token with
//! `CreatePlatformEndpoint` (idempotent for the same token) under the configured platform
//! application (FCM).

use crate::domain::messaging::MessageChannel;
use crate::ports::{MessageError, MessageSender, OutboundMessage};
use aws_sdk_sns::types::MessageAttributeValue;

pub struct SnsMessages {
    client: aws_sdk_sns::Client,
    /// The platform application push endpoints are made under; `None`: push is not set up.
    push_application: Option<String>,
}

impl SnsMessages {
    pub fn new(client: aws_sdk_sns::Client, push_application: Option<String>) -> Self {
        SnsMessages { client, push_application }
    }
}

fn transient(e: impl std::fmt::Display) -> MessageError {
    MessageError::Transient(e.to_string())
}

#[async_trait::async_trait]
impl MessageSender for SnsMessages {
    async fn send(&self, m: &OutboundMessage) -> Result<(), MessageError> {
        match m.channel {
            MessageChannel::Sms => {
                let out = self.client.check_if_phone_number_is_opted_out().phone_number(&m.to).send().await;
                if out.map_err(transient)?.is_opted_out() {
                    return Err(MessageError::OptedOut);
                }
                let kind = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("Transactional")
                    .build()
                    .map_err(|e| MessageError::Rejected(e.to_string()))?;
                self.client
                    .publish()
                    .phone_number(&m.to)
                    .message(&m.body)
                    .message_attributes("AWS.SNS.SMS.SMSType", kind)
                    .send()
                    .await
                    .map_err(transient)?;
                Ok(())
            }
            MessageChannel::Push => {
                let Some(app) = &self.push_application else {
                    return Err(MessageError::Rejected("push is not set up (PUSH_PLATFORM_APPLICATION_ARN)".into()));
                };
                let endpoint = self
                    .client
                    .create_platform_endpoint()
                    .platform_application_arn(app)
                    .token(&m.to)
                    .send()
                    .await
                    .map_err(transient)?
                    .endpoint_arn
                    .ok_or_else(|| transient("no endpoint returned"))?;
                let fcm = serde_json::json!({"notification": {"title": m.title, "body": m.body}});
                let message = serde_json::json!({"default": m.body, "GCM": fcm.to_string()});
                self.client
                    .publish()
                    .target_arn(endpoint)
                    .message_structure("json")
                    .message(message.to_string())
                    .send()
                    .await
                    .map_err(transient)?;
                Ok(())
            }
        }
    }
}
