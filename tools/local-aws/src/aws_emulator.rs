//! KMS and Secrets Manager on loopback: `moto_server`, a maintained emulator of the AWS APIs,
//! installed by `scripts/tools.sh aws-emulator`. The functions run their real KMS and Secrets
//! Manager code against it through `AWS_ENDPOINT_URL_KMS` and `AWS_ENDPOINT_URL_SECRETS_MANAGER`.

use std::sync::OnceLock;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;

/// The endpoint of a running emulator, starting one for this test binary if needed.
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| match std::env::var("AWS_EMULATOR_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => {
            let server = crate::repo_root().join(".tools/aws-emulator/bin/moto_server");
            assert!(
                server.is_file(),
                "the AWS emulator is not installed at {}: run `make test` (or scripts/tools.sh aws-emulator)",
                server.display()
            );
            crate::start_watched("moto_server", |port| {
                format!("{} -H 127.0.0.1 -p {port}", server.display())
            })
        }
    })
}

/// A KMS client with the functions' own time budgets: what the code under test is given.
pub async fn kms_client() -> aws_sdk_kms::Client {
    kms_client_with(None).await
}

/// A Secrets Manager client with the functions' own time budgets.
pub async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    secrets_client_with(None).await
}

/// A KMS client for arranging a test or a local stack, not for the code under test. moto loads a
/// service's code on its first request, which on a busy machine outlasts the functions' 4 s
/// budget; setup waits for it rather than failing a test that has not started yet.
pub async fn patient_kms_client() -> aws_sdk_kms::Client {
    kms_client_with(Some(SETUP_PATIENCE)).await
}

/// A Secrets Manager client for arranging a test: see [`patient_kms_client`].
pub async fn patient_secrets_client() -> aws_sdk_secretsmanager::Client {
    secrets_client_with(Some(SETUP_PATIENCE)).await
}

const SETUP_PATIENCE: Duration = Duration::from_secs(60);

async fn kms_client_with(patience: Option<Duration>) -> aws_sdk_kms::Client {
    let sdk = sdk_config(patience).await;
    aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(&sdk)
            .endpoint_url(endpoint())
            .build(),
    )
}

async fn secrets_client_with(patience: Option<Duration>) -> aws_sdk_secretsmanager::Client {
    let sdk = sdk_config(patience).await;
    aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(&sdk)
            .endpoint_url(endpoint())
            .build(),
    )
}

/// The functions' SDK configuration, or the same with `patience` for every call.
async fn sdk_config(patience: Option<Duration>) -> aws_config::SdkConfig {
    let sdk = crate::local_sdk_config().await;
    match patience {
        None => sdk,
        Some(wait) => sdk
            .to_builder()
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(wait)
                    .operation_attempt_timeout(wait)
                    .build(),
            )
            .build(),
    }
}

/// A new symmetric KMS key; returns its ARN.
pub async fn create_share_key() -> String {
    let key = patient_kms_client()
        .await
        .create_key()
        .description("custodian backup shares (tests)")
        .send()
        .await
        .expect("the emulator creates a KMS key");
    key.key_metadata
        .and_then(|metadata| metadata.arn)
        .expect("a new key has an ARN")
}

/// A KMS client of the emulator's `region` (each Region holds its own keys, as in AWS).
pub async fn kms_client_in(region: &'static str) -> aws_sdk_kms::Client {
    let client = patient_kms_client().await;
    aws_sdk_kms::Client::from_conf(
        client
            .config()
            .to_builder()
            .region(aws_sdk_kms::config::Region::from_static(region))
            .build(),
    )
}

/// A new HMAC key for signing audit records, as the template's `AuditKey`; returns its ARN.
pub async fn create_audit_key() -> String {
    let key = patient_kms_client()
        .await
        .create_key()
        .description("custodian backup audit records (tests)")
        .key_spec(aws_sdk_kms::types::KeySpec::Hmac256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .expect("the emulator creates an HMAC key");
    key.key_metadata
        .and_then(|metadata| metadata.arn)
        .expect("a new key has an ARN")
}

/// A new Secrets Manager secret holding `value` as `AWSCURRENT`; returns its ARN.
pub async fn create_webhook_secret(value: &str) -> String {
    patient_secrets_client()
        .await
        .create_secret()
        .name(crate::unique("webhook-secret"))
        .secret_string(value)
        .send()
        .await
        .expect("the emulator creates a secret")
        .arn
        .expect("a new secret has an ARN")
}

/// Rotates the secret as `aws secretsmanager put-secret-value` does: `value` becomes
/// `AWSCURRENT` and the value it replaces `AWSPREVIOUS`.
pub async fn rotate_webhook_secret(arn: &str, value: &str) {
    patient_secrets_client()
        .await
        .put_secret_value()
        .secret_id(arn)
        .secret_string(value)
        .send()
        .await
        .expect("the emulator stores a new secret version");
}

/// Deletes the secret at once: every later read of it fails, as after access is revoked.
pub async fn delete_webhook_secret(arn: &str) {
    patient_secrets_client()
        .await
        .delete_secret()
        .secret_id(arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("the emulator deletes the secret");
}
