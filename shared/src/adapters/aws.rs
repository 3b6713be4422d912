//! AWS client construction: one config loader, endpoints overridable per service from env so
//! the same binaries run against DynamoDB Local and moto. Built once per process (Lambda init).

use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the shared AWS config. With `AWS_ENDPOINT_URL`-style overrides absent this is the
/// normal Lambda environment; locally, `local_credentials` supplies fake static keys.
pub async fn load_config(local_credentials: bool) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if local_credentials {
        loader = loader.region(aws_config::Region::new("us-east-1")).credentials_provider(
            aws_sdk_dynamodb::config::Credentials::new("local", "local", None, None, "oms-local"),
        );
    }
    loader.load().await
}

/// A DynamoDB client, pointed at `DYNAMODB_ENDPOINT` when given.
pub fn dynamodb_client(conf: &SdkConfig, endpoint: Option<&str>) -> aws_sdk_dynamodb::Client {
    let mut b = aws_sdk_dynamodb::config::Builder::from(conf);
    if let Some(e) = endpoint {
        b = b.endpoint_url(e);
    }
    aws_sdk_dynamodb::Client::from_conf(b.build())
}

/// An SQS client, pointed at `SQS_ENDPOINT` when given (moto locally).
pub fn sqs_client(conf: &SdkConfig, endpoint: Option<&str>) -> aws_sdk_sqs::Client {
    let mut b = aws_sdk_sqs::config::Builder::from(conf);
    if let Some(e) = endpoint {
        b = b.endpoint_url(e);
    }
    aws_sdk_sqs::Client::from_conf(b.build())
}

/// An SES v2 client, pointed at `SES_ENDPOINT` when given (moto locally).
pub fn ses_client(conf: &SdkConfig, endpoint: Option<&str>) -> aws_sdk_sesv2::Client {
    let mut b = aws_sdk_sesv2::config::Builder::from(conf);
    if let Some(e) = endpoint {
        b = b.endpoint_url(e);
    }
    aws_sdk_sesv2::Client::from_conf(b.build())
}

/// An SNS client (SMS and push), pointed at `SNS_ENDPOINT` when given (moto locally).
pub fn sns_client(conf: &SdkConfig, endpoint: Option<&str>) -> aws_sdk_sns::Client {
    let mut b = aws_sdk_sns::config::Builder::from(conf);
    if let Some(e) = endpoint {
        b = b.endpoint_url(e);
    }
    aws_sdk_sns::Client::from_conf(b.build())
}

/// An EventBridge client, pointed at `EVENTS_ENDPOINT` when given (moto locally).
pub fn eventbridge_client(conf: &SdkConfig, endpoint: Option<&str>) -> aws_sdk_eventbridge::Client {
    let mut b = aws_sdk_eventbridge::config::Builder::from(conf);
    if let Some(e) = endpoint {
        b = b.endpoint_url(e);
    }
    aws_sdk_eventbridge::Client::from_conf(b.build())
}

/// A DynamoDB client whose every request feeds `meter` (benchmarks only).
pub fn dynamodb_client_metered(
    conf: &SdkConfig,
    endpoint: Option<&str>,
    meter: std::sync::Arc<super::dynamo::meter::CapacityMeter>,
) -> aws_sdk_dynamodb::Client {
    let mut b =
        aws_sdk_dynamodb::config::Builder::from(conf).interceptor(super::dynamo::meter::MeterInterceptor(meter));
    if let Some(e) = endpoint {
        b = b.endpoint_url(e);
    }
    aws_sdk_dynamodb::Client::from_conf(b.build())
}
