//! Configuration from the environment, read once per cold start. No AWS type here: [`crate::app`]
//! builds the clients from it.
//!
//! | variable | meaning |
//! |---|---|
//! | `WEBHOOK_SECRET_ARN` | the Secrets Manager secret holding the secret set in Portal's dashboard (in AWS) |
//! | `WEBHOOK_SECRET` | instead, the secret itself (local runs only); unset or empty refuses every request |
//! | `WEBHOOK_SECRET_PREVIOUS` | with `WEBHOOK_SECRET`, the secret being rotated out, still accepted |
//! | `SHARE_KEY_ID` | the KMS key (ID, ARN or alias) that wraps each share's data key |
//! | `ACCEPTED_SHARE_KEY_ARNS` | comma-separated ARNs of earlier keys whose shares still open (default none) |
//! | `SHARES_TABLE` | DynamoDB table of current shares |
//! | `HISTORY_TABLE` | DynamoDB table of replaced shares |
//! | `AUDIT_TABLE` | DynamoDB table of audit records (exports, restores); only the CLI and eject write it |
//! | `HISTORY_RETENTION_DAYS` | opt-in pruning: days a replaced share is kept once five newer versions are (default 0: forever) |
//! | `STACK_NAME` | the `Stack` dimension of every metric (default `local`) |
//!
//! The SDK's own variables apply too, e.g. `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local and
//! `AWS_ENDPOINT_URL_KMS` for a local KMS emulator.

use crate::secret::WebhookSecrets;
use secrecy::SecretString;
use std::time::Duration;

#[derive(Debug)]
pub struct Config {
    pub secret: SecretConfig,
    pub share_key_id: String,
    /// Earlier KMS keys (ARNs) whose shares still open, after a move to a new `share_key_id`.
    pub accepted_share_key_ids: Vec<String>,
    pub tables: Tables,
}

/// Where the webhook secret is read from.
#[derive(Debug)]
pub enum SecretConfig {
    /// The ARN (or name) of a Secrets Manager secret.
    SecretsManager(String),
    /// Values given directly, for local runs.
    Environment(WebhookSecrets),
}

#[derive(Clone, Debug)]
pub struct Tables {
    pub shares: String,
    pub history: String,
    pub audit: String,
    pub history_retention: HistoryRetention,
}

/// How long a replaced share stays in history, once five newer versions are kept, before
/// DynamoDB's TTL removes it. Forever unless an operator opts in.
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
        let set = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let required = |name: &'static str| set(name).ok_or(ConfigError::Missing(name));
        let history_retention = match set("HISTORY_RETENTION_DAYS") {
            None => HistoryRetention::FOREVER,
            Some(days) => days
                .trim()
                .parse()
                .map(HistoryRetention::days)
                .map_err(|_| ConfigError::Invalid {
                    name: "HISTORY_RETENTION_DAYS",
                    reason: "not a whole number of days",
                })?,
        };
        let secret = match set("WEBHOOK_SECRET_ARN") {
            Some(_)
                if set("WEBHOOK_SECRET").is_some() || set("WEBHOOK_SECRET_PREVIOUS").is_some() =>
            {
                return Err(ConfigError::Invalid {
                    name: "WEBHOOK_SECRET_ARN",
                    reason: "set together with WEBHOOK_SECRET; use one source of the secret",
                });
            }
            Some(arn) => SecretConfig::SecretsManager(arn),
            None => SecretConfig::Environment(WebhookSecrets::new(
                set("WEBHOOK_SECRET").map(SecretString::from),
                set("WEBHOOK_SECRET_PREVIOUS").map(SecretString::from),
            )),
        };
        Ok(Self {
            secret,
            share_key_id: required("SHARE_KEY_ID")?,
            accepted_share_key_ids: accepted_keys(set("ACCEPTED_SHARE_KEY_ARNS"))?,
            tables: Tables {
                shares: required("SHARES_TABLE")?,
                history: required("HISTORY_TABLE")?,
                audit: required("AUDIT_TABLE")?,
                history_retention,
            },
        })
    }
}

/// Key ARNs only: a share records the ARN of the key that sealed it, never an alias.
fn accepted_keys(list: Option<String>) -> Result<Vec<String>, ConfigError> {
    let arns: Vec<String> = list
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|arn| !arn.is_empty())
        .map(str::to_owned)
        .collect();
    if arns
        .iter()
        .any(|arn| !(arn.starts_with("arn:") && arn.contains(":key/")))
    {
        return Err(ConfigError::Invalid {
            name: "ACCEPTED_SHARE_KEY_ARNS",
            reason: "not a comma-separated list of KMS key ARNs",
        });
    }
    Ok(arns)
}

/// The `Stack` dimension of every metric: the CloudFormation stack, so that the template's alarms
/// watch exactly this deployment.
pub fn stack_name() -> String {
    std::env::var("STACK_NAME")
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "local".to_owned())
}

impl HistoryRetention {
    pub const FOREVER: Self = Self { days: 0 };

    /// `0` keeps history forever.
    pub fn days(days: u64) -> Self {
        Self { days }
    }

    pub fn duration(self) -> Option<Duration> {
        (self.days > 0).then(|| Duration::from_secs(self.days * 24 * 60 * 60))
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

    const TABLES: [(&str, &str); 4] = [
        ("SHARES_TABLE", "shares"),
        ("HISTORY_TABLE", "history"),
        ("SHARE_KEY_ID", "alias/custodian-backup"),
        ("AUDIT_TABLE", "audit"),
    ];

    fn with(extra: (&'static str, &'static str)) -> Vec<(&'static str, &'static str)> {
        let mut vars = TABLES.to_vec();
        vars.push(extra);
        vars
    }

    #[test]
    fn history_is_kept_forever_by_default_and_pruned_only_when_opted_into() {
        let default = config(&TABLES).unwrap();
        assert_eq!(default.tables.history_retention.duration(), None);
        let forever = config(&with(("HISTORY_RETENTION_DAYS", "0"))).unwrap();
        assert_eq!(forever.tables.history_retention.duration(), None);
        let pruned = config(&with(("HISTORY_RETENTION_DAYS", "30"))).unwrap();
        assert_eq!(
            pruned.tables.history_retention.duration(),
            Some(Duration::from_secs(30 * 86_400))
        );
    }

    #[test]
    fn earlier_keys_are_accepted_only_as_key_arns() {
        let arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab";
        assert!(config(&TABLES).unwrap().accepted_share_key_ids.is_empty());
        let list = format!("{arn}, {arn}-2,");
        let accepted = config(&with(("ACCEPTED_SHARE_KEY_ARNS", list.leak()))).unwrap();
        assert_eq!(
            accepted.accepted_share_key_ids,
            [arn.to_owned(), format!("{arn}-2")]
        );
        let alias = config(&with(("ACCEPTED_SHARE_KEY_ARNS", "alias/old")));
        assert!(matches!(
            alias,
            Err(ConfigError::Invalid {
                name: "ACCEPTED_SHARE_KEY_ARNS",
                ..
            })
        ));
    }

    #[test]
    fn refuses_a_retention_that_is_not_a_number() {
        let error = config(&with(("HISTORY_RETENTION_DAYS", "30d"))).unwrap_err();
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
        for (missing, _) in TABLES {
            let others: Vec<_> = TABLES
                .into_iter()
                .filter(|(name, _)| *name != missing)
                .collect();
            assert!(
                matches!(config(&others), Err(ConfigError::Missing(name)) if name == missing),
                "{missing}"
            );
        }
    }

    fn environment_secrets(config: Config) -> WebhookSecrets {
        match config.secret {
            SecretConfig::Environment(secrets) => secrets,
            SecretConfig::SecretsManager(_) => panic!("expected the environment secret"),
        }
    }

    #[test]
    fn an_unset_secret_leaves_the_webhook_closed() {
        assert!(!environment_secrets(config(&TABLES).unwrap()).is_configured());
        let set = config(&with(("WEBHOOK_SECRET", "s"))).unwrap();
        assert!(environment_secrets(set).is_configured());
    }

    #[test]
    fn secrets_manager_is_the_one_source_when_named() {
        let arn = "arn:aws:secretsmanager:eu-west-1:1:secret:w";
        let managed = config(&with(("WEBHOOK_SECRET_ARN", arn)));
        assert!(matches!(managed.unwrap().secret, SecretConfig::SecretsManager(id) if id == arn));
        let mut both = with(("WEBHOOK_SECRET_ARN", arn));
        both.push(("WEBHOOK_SECRET", "s"));
        let both = config(&both);
        assert!(matches!(
            both,
            Err(ConfigError::Invalid {
                name: "WEBHOOK_SECRET_ARN",
                ..
            })
        ));
    }
}
