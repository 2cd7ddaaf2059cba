//! Creates what `make run` needs in the local emulators: the shares, history and audit tables of
//! `template.yaml` in DynamoDB Local, and the KMS key (under the alias in `SHARE_KEY_ID`) in the
//! emulator. Reads `DYNAMODB_ENDPOINT`, `AWS_EMULATOR_ENDPOINT`, `SHARES_TABLE`, `HISTORY_TABLE`,
//! `AUDIT_TABLE` and `SHARE_KEY_ID`; leaves whatever exists alone.

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
    for (logical_id, variable) in [
        ("SharesTable", "SHARES_TABLE"),
        ("HistoryTable", "HISTORY_TABLE"),
        ("AuditTable", "AUDIT_TABLE"),
    ] {
        let name = required(variable);
        if existing.contains(&name) {
            println!("table {name} exists");
        } else {
            template::create_table(&client, &template::table(logical_id), &name).await;
            println!("table {name} created from template.yaml ({logical_id})");
        }
    }

    let alias = required("SHARE_KEY_ID");
    assert!(
        alias.starts_with("alias/"),
        "SHARE_KEY_ID must be an alias here"
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
        .any(|a| a.alias_name() == Some(alias.as_str()))
    {
        println!("KMS key {alias} exists");
    } else {
        let key = aws_emulator::create_share_key().await;
        kms.create_alias()
            .alias_name(&alias)
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
