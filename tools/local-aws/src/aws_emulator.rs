//! KMS and Secrets Manager on loopback: `moto_server`, a maintained emulator of the AWS APIs,
//! installed by `scripts/tools.sh aws-emulator`. The functions run their real KMS and Secrets
//! Manager code against it through `AWS_ENDPOINT_URL_KMS` and `AWS_ENDPOINT_URL_SECRETS_MANAGER`.

use std::sync::OnceLock;

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

pub async fn kms_client() -> aws_sdk_kms::Client {
    let sdk = crate::local_sdk_config().await;
    aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(&sdk)
            .endpoint_url(endpoint())
            .build(),
    )
}

pub async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    let sdk = crate::local_sdk_config().await;
    aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(&sdk)
            .endpoint_url(endpoint())
            .build(),
    )
}

/// A new symmetric KMS key; returns its ARN.
pub async fn create_share_key() -> String {
    let key = kms_client()
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

/// A new Secrets Manager secret holding `value` as `AWSCURRENT`; returns its ARN.
pub async fn create_webhook_secret(value: &str) -> String {
    secrets_client()
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
    secrets_client()
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
    secrets_client()
        .await
        .delete_secret()
        .secret_id(arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("the emulator deletes the secret");
}
