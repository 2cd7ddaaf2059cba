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
//! | `SHARE_KIND` | `custodian` (default): Portal's custodian shares; `client`: the app's encrypted client backup shares |
//! | `ESCROW_KEY_ARN` | a KMS key in a separate recovery account each data key is also wrapped under (default none) |
//! | `SHARES_TABLE` | DynamoDB table of current shares |
//! | `HISTORY_TABLE` | DynamoDB table of replaced shares |
//! | `AUDIT_TABLE` | DynamoDB table of audit records (exports, restores); only the CLI and eject write it |
//! | `AUDIT_KEY_ID` | KMS HMAC key that signs each audit record; needed to write or check them |
//! | `HISTORY_RETENTION_DAYS` | opt-in pruning: days a replaced share is kept once five newer versions are (default 0: forever) |
//! | `CLIENT_SHARE_CALLERS` | the client-share function only: `app` (default; the owner is a token claim) or `backend` (the Enclave MPC API; the owner is the path's `clientId`, for SigV4 callers) |
//! | `OWNER_CLAIM` | the client-share function for the app: the token claim naming a share's owner (default `sub`) |
//! | `STACK_NAME` | the `Stack` dimension of every metric (default `local`) |
//!
//! The SDK's own variables apply too, e.g. `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local and
//! `AWS_ENDPOINT_URL_KMS` for a local KMS emulator.

use crate::domain::envelope::ShareKind;
use crate::secret::WebhookSecrets;
use secrecy::SecretString;
use std::time::Duration;

mod callers;

pub use callers::Callers;

#[derive(Debug)]
pub struct Config {
    pub secret: SecretConfig,
    pub keys: ShareKeys,
    pub tables: Tables,
    /// The client-share function's callers (the app's users by default).
    pub callers: Callers,
    /// The `Stack` dimension of every metric: the CloudFormation stack, so that the template's
    /// alarms watch exactly this deployment (`local` when unset).
    pub stack_name: String,
}

/// The KMS keys around each share's data key.
#[derive(Clone, Debug)]
pub struct ShareKeys {
    /// The key that seals every new share (ID, ARN or alias).
    pub share_key_id: String,
    /// Earlier KMS keys (ARNs) whose shares still open, after a move to a new `share_key_id`;
    /// in a recovery account, the escrow key.
    pub accepted_share_key_ids: Vec<String>,
    /// The escrow key (ARN) every new data key is also wrapped under.
    pub escrow_key_arn: Option<String>,
    /// Which half of a wallet's backup these keys seal.
    pub kind: ShareKind,
    /// The HMAC key that signs each audit record (`AUDIT_KEY_ID`): needed by whoever writes or
    /// checks the audit trail (the eject and reconcile functions, the custody CLI).
    pub audit_key_id: Option<String>,
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
            keys: ShareKeys {
                share_key_id: required("SHARE_KEY_ID")?,
                accepted_share_key_ids: key_arns(
                    "ACCEPTED_SHARE_KEY_ARNS",
                    set("ACCEPTED_SHARE_KEY_ARNS"),
                )?,
                escrow_key_arn: key_arn("ESCROW_KEY_ARN", set("ESCROW_KEY_ARN"))?,
                kind: match set("SHARE_KIND").as_deref() {
                    None | Some("custodian") => ShareKind::Custodian,
                    Some("client") => ShareKind::Client,
                    Some(_) => {
                        return Err(ConfigError::Invalid {
                            name: "SHARE_KIND",
                            reason: "neither `custodian` nor `client`",
                        });
                    }
                },
                audit_key_id: set("AUDIT_KEY_ID"),
            },
            tables: Tables {
                shares: required("SHARES_TABLE")?,
                history: required("HISTORY_TABLE")?,
                audit: required("AUDIT_TABLE")?,
                history_retention,
            },
            callers: Callers::from_lookup(set)?,
            stack_name: set("STACK_NAME").unwrap_or_else(|| "local".to_owned()),
        })
    }
}

impl Config {
    /// Refuses a configuration for the other half of a wallet's backup: the custodian functions
    /// must never serve client shares, and the client-share function never custodian ones.
    pub fn require_kind(&self, kind: ShareKind) -> Result<(), ConfigError> {
        match self.keys.kind == kind {
            true => Ok(()),
            false => Err(ConfigError::Invalid {
                name: "SHARE_KIND",
                reason: match kind {
                    ShareKind::Custodian => {
                        "this function serves custodian shares: unset it or set `custodian`"
                    }
                    ShareKind::Client => "this function serves client backup shares: set `client`",
                },
            }),
        }
    }
}

/// Key ARNs only: a share records the ARN of the key that sealed it, never an alias (and a key in
/// another account is named by its ARN).
fn key_arns(name: &'static str, list: Option<String>) -> Result<Vec<String>, ConfigError> {
    let arns: Vec<String> = list
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|arn| !arn.is_empty())
        .map(str::to_owned)
        .collect();
    if arns.iter().any(|arn| !is_key_arn(arn)) {
        return Err(ConfigError::Invalid {
            name,
            reason: "not a comma-separated list of KMS key ARNs",
        });
    }
    Ok(arns)
}

/// A KMS key's ARN (not its ID or an alias): what a share records of the key that sealed it.
pub fn is_key_arn(text: &str) -> bool {
    text.starts_with("arn:") && text.contains(":key/")
}

/// At most one key ARN.
fn key_arn(name: &'static str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    let mut arns = key_arns(name, value)?;
    if arns.len() > 1 {
        return Err(ConfigError::Invalid {
            name,
            reason: "not one KMS key ARN",
        });
    }
    Ok(arns.pop())
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
mod tests;
