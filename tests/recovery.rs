//! A share is recoverable without this project's code: `tools/recover/decrypt_share.py`, which
//! follows `docs/envelope.md` alone, opens what the store sealed, current and replaced, byte for
//! byte, through the KMS emulator or with a data key released beforehand, and fails closed on an
//! altered item.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use custodian_backup::domain::Backup;
use custodian_backup::store::ShareWriter;
use custodian_backup::store::dynamodb::{Item, schema};
use local_aws::{Fixture, aws_emulator, dynamodb_local, repo_root, unique};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Non-ASCII and escapes in the identifiers and the share: the associated data and the bytes
/// must come out exactly as the Rust code wrote them.
const BACKUP_METHOD: &str = "GDRIVE-SECP256K1-é☃";
const FIRST: &str = "{\"share\":\"0x5f3c-first\",\"note\":\"é ☃ 😀 \\\"q\\\" \\\\ \\n\"}";
const SECOND: &str = "{\"share\":\"0x5f3c-second\"}";

/// The item as `aws dynamodb get-item --output json` prints it.
fn get_item_json(item: &Item) -> String {
    let attributes: Map<String, Value> = item
        .iter()
        .map(|(name, value)| {
            let value = match value {
                AttributeValue::S(text) => json!({ "S": text }),
                AttributeValue::N(number) => json!({ "N": number }),
                AttributeValue::B(bytes) => json!({ "B": BASE64_STANDARD.encode(bytes.as_ref()) }),
                other => panic!("{name} is not S, N or B: {other:?}"),
            };
            (name.clone(), value)
        })
        .collect();
    json!({ "Item": attributes }).to_string()
}

/// Runs the recipe on `item` with only the AWS environment a person would have.
fn recipe(item: &Item, extra_args: &[&str]) -> Output {
    let python = repo_root().join(".tools/aws-emulator/bin/python3");
    let script = repo_root().join("tools/recover/decrypt_share.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg("-")
        .args(extra_args)
        .env_clear()
        .env("AWS_ENDPOINT_URL_KMS", aws_emulator::endpoint())
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .envs(dynamodb_local::LOCAL_CREDENTIALS)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the recipe runs (scripts/tools.sh aws-emulator installs its Python)");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(get_item_json(item).as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn opened(output: &Output) -> &str {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the recipe failed: {stderr}");
    std::str::from_utf8(&output.stdout).expect("UTF-8")
}

async fn store_two_versions(f: &Fixture, client: &str) -> (Item, Item) {
    for share in [FIRST, SECOND] {
        let body = json!({ "clientId": client, "backupMethod": BACKUP_METHOD, "share": share });
        let backup = Backup::from_json(body.to_string().as_bytes()).unwrap();
        f.store.put_share(&backup).await.unwrap();
    }
    let of_client = |items: Vec<Item>| {
        items
            .into_iter()
            .find(|item| item.get(schema::CLIENT_ID) == Some(&AttributeValue::S(client.into())))
            .expect("the client's item")
    };
    let current = of_client(f.scan(&f.tables.shares).await);
    let replaced = of_client(f.scan(&f.tables.history).await);
    (current, replaced)
}

#[tokio::test]
async fn the_standalone_recipe_opens_current_and_replaced_shares_byte_for_byte() {
    let f = Fixture::new().await;
    let (current, replaced) = store_two_versions(&f, &unique("cli-é")).await;
    assert_eq!(opened(&recipe(&current, &[])), SECOND);
    assert_eq!(opened(&recipe(&replaced, &[])), FIRST);
}

#[tokio::test]
async fn with_a_data_key_released_beforehand_the_recipe_calls_nothing() {
    let f = Fixture::new().await;
    let client = unique("cli");
    let (current, _) = store_two_versions(&f, &client).await;
    // What `aws kms decrypt` prints as Plaintext.
    let encrypted = match &current[schema::ENCRYPTED_DATA_KEY] {
        AttributeValue::B(bytes) => bytes.clone(),
        other => panic!("{other:?}"),
    };
    let released = aws_emulator::kms_client()
        .await
        .decrypt()
        .ciphertext_blob(Blob::new(encrypted.into_inner()))
        .encryption_context("clientId", client.as_str())
        .encryption_context("backupMethod", BACKUP_METHOD)
        .send()
        .await
        .unwrap();
    let data_key = BASE64_STANDARD.encode(released.plaintext.unwrap().as_ref());
    let mut offline = current.clone();
    // A key ID KMS does not know: the recipe must not need KMS at all.
    offline.insert(
        schema::KMS_KEY_ID.into(),
        AttributeValue::S("arn:aws:kms:us-east-1:000000000000:key/gone".into()),
    );
    assert_eq!(
        opened(&recipe(&offline, &["--data-key", &data_key])),
        SECOND
    );
}

#[tokio::test]
async fn the_recipe_fails_closed_on_an_altered_or_moved_item() {
    let f = Fixture::new().await;
    let (current, _) = store_two_versions(&f, &unique("cli")).await;
    let mut flipped = current.clone();
    if let Some(AttributeValue::B(bytes)) = flipped.get(schema::SEALED_SHARE) {
        let mut bytes = bytes.clone().into_inner();
        bytes[0] ^= 1;
        flipped.insert(
            schema::SEALED_SHARE.into(),
            AttributeValue::B(Blob::new(bytes)),
        );
    }
    let mut moved = current.clone();
    moved.insert(
        schema::CLIENT_ID.into(),
        AttributeValue::S("someone-else".into()),
    );
    for (what, item) in [("altered", flipped), ("moved", moved)] {
        let output = recipe(&item, &[]);
        assert!(!output.status.success(), "{what}: the recipe opened it");
        assert!(
            output.stdout.is_empty(),
            "{what}: the recipe printed something"
        );
    }
}
