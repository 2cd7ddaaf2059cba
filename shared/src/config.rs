//! Configuration from the environment, read once per cold start, and the AWS client built from it.
//!
//! | variable | meaning |
//! |---|---|
//! | `WEBHOOK_SECRET` | the secret set in Portal's dashboard; unset or empty refuses every request |
//! | `WEBHOOK_SECRET_PREVIOUS` | optional: the secret being rotated out, still accepted |
//! | `SHARES_TABLE` | DynamoDB table of current shares |
//! | `HISTORY_TABLE` | DynamoDB table of replaced shares |
//! | `HISTORY_RETENTION_DAYS` | days a replaced share is kept (default 30; 0 keeps it forever) |
//!
//! The SDK's own variables apply too, e.g. `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local.

use crate::secret::WebhookSecrets;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use secrecy::SecretString;
use std::time::Duration;

const DEFAULT_HISTORY_RETENTION_DAYS: u64 = 30;

#[derive(Debug)]
pub struct Config {
    pub secrets: WebhookSecrets,
    pub tables: Tables,
}

#[derive(Clone, Debug)]
pub struct Tables {
    pub shares: String,
    pub history: String,
    pub history_retention: HistoryRetention,
}

/// How long a replaced share stays in history before DynamoDB's TTL removes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryRetention {
    days: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} must be set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        name: &'static str,
        reason: &'static str,
    },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|value| !value.is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let secret = |name: &str| lookup(name).map(SecretString::from);
        let history_retention = match lookup("HISTORY_RETENTION_DAYS").filter(|v| !v.is_empty()) {
            None => HistoryRetention::days(DEFAULT_HISTORY_RETENTION_DAYS),
            Some(days) => days
                .trim()
                .parse()
                .map(HistoryRetention::days)
                .map_err(|_| ConfigError::Invalid {
                    name: "HISTORY_RETENTION_DAYS",
                    reason: "not a whole number of days",
                })?,
        };
        Ok(Self {
            secrets: WebhookSecrets::new(
                secret("WEBHOOK_SECRET"),
                secret("WEBHOOK_SECRET_PREVIOUS"),
            ),
            tables: Tables {
                shares: required("SHARES_TABLE")?,
                history: required("HISTORY_TABLE")?,
                history_retention,
            },
        })
    }
}

impl HistoryRetention {
    /// `0` keeps history forever.
    pub fn days(days: u64) -> Self {
        Self { days }
    }

    pub fn duration(self) -> Option<Duration> {
        (self.days > 0).then(|| Duration::from_secs(self.days * 24 * 60 * 60))
    }
}

/// One DynamoDB client per cold start, with time limits that keep every answer inside Portal's
/// 10 s: an attempt gives up after 2 s, an operation (3 attempts, with backoff) after 4 s.
pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    dynamodb_client_from(aws_config::defaults(BehaviorVersion::latest())).await
}

/// [`dynamodb_client`] on top of `loader`'s settings: tests use it to reach DynamoDB Local.
pub async fn dynamodb_client_from(loader: aws_config::ConfigLoader) -> aws_sdk_dynamodb::Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(4))
        .build();
    let sdk = loader
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&sdk)
}

/// JSON logs when Lambda asks for them (`AWS_LAMBDA_LOG_FORMAT=JSON`), text otherwise. The
/// level is capped at INFO at compile time (see the workspace `Cargo.toml`).
pub fn init_logging(secrets: &WebhookSecrets) {
    lambda_http::tracing::init_default_subscriber();
    if !secrets.is_configured() {
        tracing::error!("WEBHOOK_SECRET is not set: every request will be refused with 500");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    const TABLES: [(&str, &str); 2] = [("SHARES_TABLE", "shares"), ("HISTORY_TABLE", "history")];

    #[test]
    fn history_is_kept_thirty_days_by_default_and_forever_with_zero() {
        let default = config(&TABLES).unwrap();
        assert_eq!(
            default.tables.history_retention.duration(),
            Some(Duration::from_secs(30 * 86_400))
        );
        let forever = config(&[TABLES[0], TABLES[1], ("HISTORY_RETENTION_DAYS", "0")]).unwrap();
        assert_eq!(forever.tables.history_retention.duration(), None);
    }

    #[test]
    fn refuses_a_retention_that_is_not_a_number() {
        let error = config(&[TABLES[0], TABLES[1], ("HISTORY_RETENTION_DAYS", "30d")]).unwrap_err();
        assert!(matches!(
            error,
            ConfigError::Invalid {
                name: "HISTORY_RETENTION_DAYS",
                ..
            }
        ));
    }

    #[test]
    fn table_names_are_required() {
        assert!(matches!(
            config(&[TABLES[1]]),
            Err(ConfigError::Missing("SHARES_TABLE"))
        ));
        assert!(matches!(
            config(&[TABLES[0]]),
            Err(ConfigError::Missing("HISTORY_TABLE"))
        ));
    }

    #[test]
    fn an_unset_secret_leaves_the_webhook_closed() {
        assert!(!config(&TABLES).unwrap().secrets.is_configured());
        let set = config(&[TABLES[0], TABLES[1], ("WEBHOOK_SECRET", "s")]).unwrap();
        assert!(set.secrets.is_configured());
    }
}
