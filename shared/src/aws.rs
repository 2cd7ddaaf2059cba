//! What every AWS SDK client shares: the time limits of [`crate::budget`], and errors reduced to
//! a code that can be logged (the full error can carry request data, and so a share).

use crate::budget;
use aws_config::BehaviorVersion;
pub use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
// The smithy types every SDK crate re-exports: one helper serves DynamoDB, KMS and Secrets Manager.
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// The AWS settings every client shares, on top of `loader`'s (tests point it at local
/// emulators): each answer stays inside Portal's wait.
pub async fn sdk_config(loader: aws_config::ConfigLoader) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(budget::SDK_ATTEMPT)
        .operation_attempt_timeout(budget::SDK_ATTEMPT)
        .operation_timeout(budget::SDK_OPERATION)
        .build();
    loader
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(budget::SDK_MAX_ATTEMPTS))
        .load()
        .await
}

/// The environment's settings (Lambda's role, region and `AWS_ENDPOINT_URL_*`), with the limits.
pub async fn sdk_config_from_env() -> SdkConfig {
    sdk_config(aws_config::defaults(BehaviorVersion::latest())).await
}

/// An SDK error reduced to its code or kind.
pub fn error_detail<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> String {
    match error {
        SdkError::ServiceError(service) => service.err().code().unwrap_or("unknown service error"),
        SdkError::TimeoutError(_) => "timeout",
        SdkError::DispatchFailure(_) => "dispatch failure",
        SdkError::ResponseError(_) => "unreadable response",
        SdkError::ConstructionFailure(_) => "request construction failure",
        _ => "unknown error",
    }
    .to_owned()
}
