//! Configuration read from a given environment: defaults, and what is refused.

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
fn the_escrow_key_is_off_unless_named_by_one_key_arn() {
    assert_eq!(config(&TABLES).unwrap().keys.escrow_key_arn, None);
    let arn = "arn:aws:kms:eu-west-1:210987654321:key/1234abcd-12ab";
    let escrow = config(&with(("ESCROW_KEY_ARN", arn))).unwrap();
    assert_eq!(escrow.keys.escrow_key_arn.as_deref(), Some(arn));
    let two = format!("{arn},{arn}-2");
    for refused in ["alias/escrow", two.as_str()] {
        let refused = config(&with(("ESCROW_KEY_ARN", refused.to_owned().leak())));
        assert!(matches!(
            refused,
            Err(ConfigError::Invalid {
                name: "ESCROW_KEY_ARN",
                ..
            })
        ));
    }
}

#[test]
fn earlier_keys_are_accepted_only_as_key_arns() {
    let arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab";
    assert!(
        config(&TABLES)
            .unwrap()
            .keys
            .accepted_share_key_ids
            .is_empty()
    );
    let list = format!("{arn}, {arn}-2,");
    let accepted = config(&with(("ACCEPTED_SHARE_KEY_ARNS", list.leak()))).unwrap();
    assert_eq!(
        accepted.keys.accepted_share_key_ids,
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
