//! Wiring, once per cold start: environment → [`Config`] → AWS clients → the store and the
//! authenticator a function serves with. Nothing here answers a request.

use crate::audit_key::AuditKey;
use crate::aws;
use crate::budget;
use crate::config::{Callers, Config, ConfigError, SecretConfig, ShareKeys, Tables};
use crate::domain::envelope::ShareKind;
use crate::kms::ShareKey;
use crate::secret::{Authenticator, ManagedSecret};
use crate::store::dynamodb::DynamoDbStore;
use aws_config::SdkConfig;

/// What `/backup` and `/backup/fetch` need to answer requests.
pub struct Webhook {
    pub store: DynamoDbStore,
    pub authenticator: Authenticator,
    /// The metrics' `Stack` dimension ([`crate::http::runtime::serve`]).
    pub stack_name: String,
}

/// What the eject, client-share and reconcile functions serve with: the store of the half they
/// serve, who may call (the client-share function's), and the metrics' `Stack` dimension.
pub struct Served {
    pub store: DynamoDbStore,
    pub callers: Callers,
    pub stack_name: String,
}

/// Logs as one line of text per event, at INFO and above (lower levels are compiled out).
pub fn init_tracing() {
    lambda_http::tracing::init_default_subscriber();
}

impl Webhook {
    /// Reads the configuration, builds the AWS clients and reads the webhook secret, all during
    /// init, before the first request waits.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        config.require_kind(ShareKind::Custodian)?;
        Ok(Self::new(config, &aws::sdk_config_from_env().await).await)
    }

    pub async fn new(config: Config, aws: &SdkConfig) -> Self {
        let stack_name = config.stack_name;
        let store = store(config.keys, config.tables, aws);
        let authenticator = match config.secret {
            SecretConfig::Environment(secrets) => {
                if !secrets.is_configured() {
                    tracing::error!(
                        "neither WEBHOOK_SECRET_ARN nor WEBHOOK_SECRET is set: every request will be refused with 500"
                    );
                }
                Authenticator::Environment(secrets)
            }
            SecretConfig::SecretsManager(secret_id) => {
                let managed =
                    ManagedSecret::new(aws_sdk_secretsmanager::Client::new(aws), secret_id);
                // On failure each request tries again (rate-limited); the error is logged. The
                // first request's connections open meanwhile (each is a TLS handshake in AWS), for
                // no longer than the read itself may take.
                let warm_up = tokio::time::timeout(budget::SECRET_READ, store.open_connections());
                let _ = tokio::join!(managed.load(), warm_up);
                Authenticator::SecretsManager(managed)
            }
        };
        Self {
            store,
            authenticator,
            stack_name,
        }
    }
}

/// What a function without the webhook secret serves with, of the `kind` of share it serves (a
/// function wired to the other half's tables refuses to start). The environment is read once.
pub async fn served_from_env(kind: ShareKind) -> Result<Served, ConfigError> {
    let config = Config::from_env()?;
    config.require_kind(kind)?;
    let aws = aws::sdk_config_from_env().await;
    Ok(Served {
        store: store(config.keys, config.tables, &aws),
        callers: config.callers,
        stack_name: config.stack_name,
    })
}

/// The store over `aws`'s clients, configured from the environment (the CLI also calls STS).
pub fn store_with(aws: &SdkConfig) -> Result<DynamoDbStore, ConfigError> {
    let config = Config::from_env()?;
    Ok(store(config.keys, config.tables, aws))
}

/// The store over `aws`'s DynamoDB and KMS.
pub fn store(keys: ShareKeys, tables: Tables, aws: &SdkConfig) -> DynamoDbStore {
    let key = ShareKey::new(aws_sdk_kms::Client::new(aws), keys.share_key_id)
        .accepting(keys.accepted_share_key_ids)
        .escrowing(keys.escrow_key_arn)
        .of_kind(keys.kind);
    let audit_key = keys
        .audit_key_id
        .map(|key_id| AuditKey::new(aws_sdk_kms::Client::new(aws), key_id));
    DynamoDbStore::new(aws_sdk_dynamodb::Client::new(aws), tables, key).signing_audit(audit_key)
}
