//! Creates what `make run` and `sam local` need in the local emulators: the shares, history and
//! audit tables of `template.yaml` in DynamoDB Local, and the KMS keys (under the aliases in
//! `SHARE_KEY_ID` and `AUDIT_KEY_ID`, the audit key an HMAC one) in the emulator; with `CLIENT_SHARES_TABLE`, `CLIENT_SHARE_HISTORY_TABLE`,
//! `CLIENT_SHARE_AUDIT_TABLE` and `CLIENT_SHARE_KEY_ID` set, the client-share tables and key too.
//! Reads `DYNAMODB_ENDPOINT`, `AWS_EMULATOR_ENDPOINT` and those names; leaves whatever exists
//! alone.

use local_aws::{aws_emulator, dynamodb_local, template};

#[tokio::main]
async fn main() {
    let client = dynamodb_local::client().await;
    let existing = client
        .list_tables()
        .send()
        .await
        .expect("DynamoDB Local answers")
        .table_names
        .unwrap_or_default();
    let mut tables = vec![
        ("SharesTable", "SHARES_TABLE"),
        ("HistoryTable", "HISTORY_TABLE"),
        ("AuditTable", "AUDIT_TABLE"),
    ];
    let mut keys = vec!["SHARE_KEY_ID"];
    if std::env::var_os("CLIENT_SHARES_TABLE").is_some() {
        tables.extend([
            ("ClientBackupSharesTable", "CLIENT_SHARES_TABLE"),
            (
                "ClientBackupShareHistoryTable",
                "CLIENT_SHARE_HISTORY_TABLE",
            ),
            ("ClientBackupShareAuditTable", "CLIENT_SHARE_AUDIT_TABLE"),
        ]);
        keys.push("CLIENT_SHARE_KEY_ID");
    }
    for (logical_id, variable) in tables {
        let name = required(variable);
        if existing.contains(&name) {
            println!("table {name} exists");
        } else {
            template::create_table(&client, &template::table(logical_id), &name).await;
            println!("table {name} created from template.yaml ({logical_id})");
        }
    }
    for variable in keys {
        key_under_alias(&required(variable), aws_emulator::create_share_key()).await;
    }
    key_under_alias(&required("AUDIT_KEY_ID"), aws_emulator::create_audit_key()).await;
}

/// A key in the emulator under `alias`, made by `create` if there is none.
async fn key_under_alias(alias: &str, create: impl Future<Output = String>) {
    assert!(
        alias.starts_with("alias/"),
        "{alias}: a key alias is needed here"
    );
    let kms = aws_emulator::patient_kms_client().await;
    let aliases = kms
        .list_aliases()
        .send()
        .await
        .expect("the emulator answers");
    if aliases
        .aliases()
        .iter()
        .any(|a| a.alias_name() == Some(alias))
    {
        println!("KMS key {alias} exists");
    } else {
        let key = create.await;
        kms.create_alias()
            .alias_name(alias)
            .target_key_id(&key)
            .send()
            .await
            .expect("the emulator creates the alias");
        println!("KMS key {alias} created in the emulator");
    }
}

fn required(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| panic!("{variable} must be set"))
}
