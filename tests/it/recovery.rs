//! Recovery drills against DynamoDB Local and the KMS emulator:
//! - a share is recoverable without this project's code: `tools/recover/decrypt_share.py`, which
//!   follows `docs/envelope.md` alone, opens what the store sealed, current and replaced, byte for
//!   byte, through KMS or with a data key released beforehand, and fails closed on an altered item;
//! - `custody dump` from one stack's tables and `custody load` into fresh ones carry every share
//!   across still sealed, and the real fetch binary on the new tables returns each byte for byte.

use crate::support::{fetched, put_row};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use custodian_backup::domain::Backup;
use custodian_backup::store::ShareWriter;
use custodian_backup::store::dynamodb::portable::item_from_json;
use custodian_backup::store::dynamodb::{Item, schema};
use local_aws::cli::{Run, custody};
use local_aws::events::{DEV_SECRET, rest_event};
use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, aws_emulator, dynamodb_local, repo_root, unique};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
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
    store_two_versions_of(f, client, None).await
}

/// [`store_two_versions`] of one backup share pair's slot (the method's pair-less one without).
async fn store_two_versions_of(f: &Fixture, client: &str, pair: Option<&str>) -> (Item, Item) {
    for share in [FIRST, SECOND] {
        let mut body = json!({ "clientId": client, "backupMethod": BACKUP_METHOD, "share": share });
        if let Some(pair) = pair {
            body["backupSharePairId"] = pair.into();
        }
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
async fn the_standalone_recipe_opens_a_backup_share_pairs_shares_too() {
    let f = Fixture::new().await;
    let (current, replaced) = store_two_versions_of(&f, &unique("cli-pair"), Some("bsp_é#1")).await;
    let slot = match &current[schema::BACKUP_METHOD] {
        AttributeValue::S(slot) => slot.clone(),
        other => panic!("{other:?}"),
    };
    assert!(slot.ends_with("\u{1f}bsp_é#1"), "{slot:?}");
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

/// Two clients, both curves each, one share replaced (so history holds it) and one exported (so
/// the audit table holds a record); returns each client's current shares by backupMethod.
async fn a_stack_in_use(f: &Fixture) -> Vec<(String, Vec<(&'static str, String)>)> {
    let mut clients = Vec::new();
    for n in 0..2 {
        let client = unique(&format!("drill-{n}"));
        let mut current = Vec::new();
        for method in ["GDRIVE-SECP256K1", "GDRIVE-ED25519"] {
            for version in 0..=n {
                let share =
                    format!("{{\"share\":\"0x5f3c-{client}-{method}-v{version}\",\"é\":\"☃\"}}");
                let body = json!({ "clientId": client, "backupMethod": method, "share": share });
                let backup = Backup::from_json(body.to_string().as_bytes()).unwrap();
                f.store.put_share(&backup).await.unwrap();
                if version == n {
                    current.push((method, share));
                }
            }
        }
        clients.push((client, current));
    }
    let (client, _) = &clients[0];
    let exported = custody(
        f,
        &[
            "export",
            client,
            "GDRIVE-SECP256K1",
            "--print-share",
            "--reason",
            "drill",
        ],
    );
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    clients
}

fn dump_path() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique("custody-dump"));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("shares.jsonl")
}

/// `f`'s function environment with `SHARE_KEY_ID` pointed at `key_id` instead of `f`'s key.
fn with_share_key<'a>(f: &'a Fixture, key_id: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut env = f.function_env(DEV_SECRET);
    for (name, value) in env.iter_mut() {
        if *name == "SHARE_KEY_ID" {
            *value = key_id;
        }
    }
    env
}

/// `custody` on `f`'s tables, with `args` and `--json`.
fn custody_json(f: &Fixture, args: &[&str]) -> Run {
    let args: Vec<&str> = ["--json"].iter().chain(args).copied().collect();
    custody(f, &args)
}

#[tokio::test]
async fn a_dump_loaded_into_fresh_tables_serves_every_share_byte_for_byte() {
    let old = Fixture::new().await;
    let clients = a_stack_in_use(&old).await;
    let file = dump_path();
    let path = file.to_str().unwrap();
    let dumped = custody_json(&old, &["dump", "--out", path]);
    assert_eq!(dumped.code, 0, "{}", dumped.stderr);
    let manifest = dumped.json();
    assert_eq!(
        manifest["items"],
        json!({ "shares": 4, "history": 2, "audit": 2 }),
        "{manifest}"
    );
    assert_eq!(manifest["kmsKeyIds"], json!([old.key_id]), "{manifest}");
    // A point in time per page, and it says so; written as scanned, with progress on stderr.
    let (started, finished) = (
        manifest["startedAt"].as_str().unwrap(),
        manifest["finishedAt"].as_str().unwrap(),
    );
    assert!(started <= finished, "{manifest}");
    assert!(
        manifest["consistency"]
            .as_str()
            .unwrap()
            .contains("not a snapshot across tables")
    );
    assert_eq!(
        manifest["bytes"].as_u64(),
        Some(std::fs::metadata(&file).unwrap().len())
    );
    assert!(
        dumped.stderr.contains("dump: history 2 items"),
        "{}",
        dumped.stderr
    );
    // Still sealed: no share in the file, and only its owner may read it.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains("0x5f3c"),
        "a share in plain text in the dump"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let new = Fixture::new().await;
    let loaded = custody_json(&new, &["load", path]);
    assert_eq!(loaded.code, 0, "{}", loaded.stderr);
    // Four shares, two kept versions, one audit record and its share's head.
    let expected = json!({ "lines": 8, "written": 8, "alreadyThere": 0, "different": 0, "verified": 8, "conflicts": [] });
    assert_eq!(loaded.json(), expected);
    for run in [&dumped, &loaded] {
        let output = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !output.contains("0x5f3c"),
            "dump or load printed a share:\n{output}"
        );
    }
    let again = custody_json(&new, &["load", path]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["written"], 0, "a second load writes nothing");
    assert_eq!(again.json()["alreadyThere"], 8);

    // The new stack's fetch function, with the old key (retained, or its replica): every share.
    let env = with_share_key(&new, &old.key_id);
    let fetch = Function::start(&binary("backup-fetch"), &env).await;
    for (client, current) in &clients {
        let mut expected: Vec<String> = current.iter().map(|(_, share)| share.clone()).collect();
        expected.sort();
        assert_eq!(fetched(&fetch, client).await, expected, "{client}");
    }
    // History and the audit trail came along.
    let (client, _) = &clients[1];
    let history = custody_json(&new, &["history", client, "GDRIVE-SECP256K1"]);
    assert_eq!(history.json()["shares"].as_array().map(Vec::len), Some(2));
    let (client, _) = &clients[0];
    let audit = custody_json(&new, &["audit", client, "GDRIVE-SECP256K1"]);
    assert_eq!(audit.json()["records"][0]["reason"], "drill");
}

#[tokio::test]
async fn a_dump_that_changed_is_refused_before_anything_is_written() {
    let old = Fixture::new().await;
    a_stack_in_use(&old).await;
    let file = dump_path();
    let path = file.to_str().unwrap();
    assert_eq!(custody_json(&old, &["dump", "--out", path]).code, 0);
    let text = std::fs::read_to_string(&file).unwrap();
    let one_line_less: String = text
        .lines()
        .skip(1)
        .map(|line| format!("{line}\n"))
        .collect();
    for (what, changed) in [
        ("one byte changed", text.replacen("\"S\"", "\"N\"", 1)),
        ("a line removed", one_line_less),
    ] {
        std::fs::write(&file, changed).unwrap();
        let new = Fixture::new().await;
        let refused = custody_json(&new, &["load", path]);
        assert_eq!(refused.code, 8, "{what}: {}", refused.stdout);
        assert_eq!(refused.json()["error"]["code"], "dump_corrupt", "{what}");
        for table in [&new.tables.shares, &new.tables.history, &new.tables.audit] {
            assert!(
                new.scan(table).await.is_empty(),
                "{what}: {table} was written"
            );
        }
    }
}

#[tokio::test]
async fn a_load_never_overwrites_a_different_share_already_there() {
    let old = Fixture::new().await;
    let clients = a_stack_in_use(&old).await;
    let file = dump_path();
    let path = file.to_str().unwrap();
    assert_eq!(custody_json(&old, &["dump", "--out", path]).code, 0);
    let new = Fixture::new().await;
    let (client, _) = &clients[0];
    let body =
        json!({ "clientId": client, "backupMethod": "GDRIVE-SECP256K1", "share": "already here" });
    new.store
        .put_share(&Backup::from_json(body.to_string().as_bytes()).unwrap())
        .await
        .unwrap();
    let before = new.scan(&new.tables.shares).await;

    let conflicted = custody_json(&new, &["load", path]);
    assert_eq!(conflicted.code, 9, "{}", conflicted.stdout);
    assert_eq!(conflicted.json()["error"]["code"], "load_conflict");
    // Each conflicting key is named, not just counted.
    let message = conflicted.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    let named =
        json!({ "table": "shares", "clientId": client, "backupMethod": "GDRIVE-SECP256K1" });
    assert!(
        message.contains(&format!("\"conflicts\":[{named}]")),
        "{message}"
    );
    let output = format!("{}{}", conflicted.stdout, conflicted.stderr);
    assert!(
        !output.contains("0x5f3c") && !output.contains("already here"),
        "{output}"
    );
    let after = new.scan(&new.tables.shares).await;
    assert!(
        before.iter().all(|item| after.contains(item)),
        "the share already there was replaced"
    );
    assert_eq!(after.len(), 4, "every other current share was loaded");
}

#[tokio::test]
async fn after_a_move_to_a_new_key_shares_of_an_accepted_earlier_key_still_open() {
    let f = Fixture::new().await;
    let clients = a_stack_in_use(&f).await;
    let (client, current) = &clients[0];
    let new_key = aws_emulator::create_share_key().await;
    let fetch_with = |accepted: &'static str| {
        let mut env = with_share_key(&f, &new_key);
        env.push(("ACCEPTED_SHARE_KEY_ARNS", accepted));
        env
    };
    let body = json!({ "clientId": client }).to_string();
    let event = rest_event("/backup/fetch", &body).to_string();
    let old_key: &'static str = f.key_id.clone().leak();
    let accepting = Function::start(&binary("backup-fetch"), &fetch_with(old_key)).await;
    let response = accepting.invoke(&event).await.unwrap();
    let answer: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(response["statusCode"], 200, "{answer}");
    let mut fetched: Vec<&str> = answer["backupShares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|share| share.as_str().unwrap())
        .collect();
    fetched.sort();
    let mut expected: Vec<&str> = current.iter().map(|(_, share)| share.as_str()).collect();
    expected.sort();
    assert_eq!(fetched, expected);
    // Without the earlier key in the list, a share it sealed is one wrapped by a foreign key. AWS
    // KMS answers IncorrectKeyException (500 stored_share_unreadable); the emulator answers
    // AccessDeniedException (503: no share of the client opened). Either way: refused, and
    // nothing returned.
    let strict = Function::start(&binary("backup-fetch"), &fetch_with("")).await;
    let response = strict.invoke(&event).await.unwrap();
    let status = response["statusCode"].as_u64();
    assert!(matches!(status, Some(500 | 503)), "{response}");
    assert!(!response.to_string().contains("0x5f3c"), "{response}");
}

/// One of a client's shares is sealed under a key the fetch function can no longer use. The
/// emulator answers it as AWS KMS answers a key whose policy no longer grants the caller
/// (`AccessDeniedException`); a disabled, pending-deletion or deleted key fails the same way, as
/// a KMS error that is not an integrity failure.
#[tokio::test]
async fn a_share_under_an_unusable_key_never_blocks_the_clients_other_shares() {
    let f = Fixture::new().await;
    let client = unique("unusable-key");
    let under_old_key = "{\"share\":\"0x5f3c-under-the-old-key\"}";
    let under_new_key = "{\"share\":\"0x5f3c-under-the-new-key\"}";
    let body =
        json!({ "clientId": client, "backupMethod": "GDRIVE-SECP256K1", "share": under_old_key });
    f.store
        .put_share(&Backup::from_json(body.to_string().as_bytes()).unwrap())
        .await
        .unwrap();
    let new_key = aws_emulator::create_share_key().await;
    let body =
        json!({ "clientId": client, "backupMethod": "GDRIVE-ED25519", "share": under_new_key });
    let backup = Function::start(&binary("backup"), &with_share_key(&f, &new_key)).await;
    let stored = backup
        .invoke(&rest_event("/backup", &body.to_string()).to_string())
        .await
        .unwrap();
    assert_eq!(stored["statusCode"], 200, "{stored}");

    // The old key is not usable: the other share comes back, and the one left out is counted.
    let fetch_event =
        rest_event("/backup/fetch", &json!({ "clientId": client }).to_string()).to_string();
    let fetch = Function::start(&binary("backup-fetch"), &with_share_key(&f, &new_key)).await;
    let response = fetch.invoke(&fetch_event).await.unwrap();
    let answer: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(response["statusCode"], 200, "{answer}");
    assert_eq!(answer["backupShares"], json!([under_new_key]));
    let logs = fetch
        .output_when(|logs| {
            logs.contains("\"unopened\":1") && logs.contains("StoredSharesUnopened")
        })
        .await;
    assert!(
        logs.contains("a stored share's key could not be used"),
        "{logs}"
    );
    assert!(logs.contains("StoredSharesUnopened"), "the metric: {logs}");
    assert!(!logs.contains("0x5f3c"), "{logs}");

    // No key usable: nothing opens, and the answer is a 503 worth retrying, never an empty 200
    // that would read as "no backup".
    let neither = aws_emulator::create_share_key().await;
    let fetch = Function::start(&binary("backup-fetch"), &with_share_key(&f, &neither)).await;
    let response = fetch.invoke(&fetch_event).await.unwrap();
    let answer: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(response["statusCode"], 503, "{answer}");
    assert_eq!(answer["error"]["code"], "storage_unavailable");
    assert!(!response.to_string().contains("0x5f3c"), "{response}");
}

/// The `result` of a `/backup` answer.
fn result(response: &Value) -> String {
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    body["result"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_identical_re_backup_after_a_key_move_seals_the_share_again_under_the_new_key() {
    let f = Fixture::new().await;
    let client = unique("key-move");
    let share = "{\"share\":\"0x5f3c-sealed-twice\"}";
    let body = json!({ "clientId": client, "backupMethod": "GDRIVE-SECP256K1", "share": share });
    f.store
        .put_share(&Backup::from_json(body.to_string().as_bytes()).unwrap())
        .await
        .unwrap();
    let new_key = aws_emulator::create_share_key().await;
    let mut env = with_share_key(&f, &new_key);
    let old_key: &'static str = f.key_id.clone().leak();
    env.push(("ACCEPTED_SHARE_KEY_ARNS", old_key));
    let backup = Function::start(&binary("backup"), &env).await;
    let event = rest_event("/backup", &body.to_string()).to_string();
    let first = backup.invoke(&event).await.unwrap();
    assert_eq!(first["statusCode"], 200, "{first}");
    assert_eq!(result(&first), "replaced", "sealed again");
    let again = backup.invoke(&event).await.unwrap();
    assert_eq!(result(&again), "unchanged");

    // The copy under the old key is in history; the current one opens with the new key alone.
    let history = custody_json(&f, &["history", &client, "GDRIVE-SECP256K1"]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    let versions = history.json()["shares"].as_array().unwrap().clone();
    assert_eq!(versions.len(), 2, "{}", history.stdout);
    assert_eq!(
        versions[0]["shareSha256"], versions[1]["shareSha256"],
        "the same share, twice sealed"
    );
    let fetch = Function::start(&binary("backup-fetch"), &with_share_key(&f, &new_key)).await;
    let fetch_event =
        rest_event("/backup/fetch", &json!({ "clientId": client }).to_string()).to_string();
    let response = fetch.invoke(&fetch_event).await.unwrap();
    let answer: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(response["statusCode"], 200, "{answer}");
    assert_eq!(answer["backupShares"], json!([share]));
}

/// The runbook for a damaged table (docs/recovery.md): dump the damaged tables, restore them to a
/// point before the damage, point the stack at the restored ones, merge the dump into them.
#[tokio::test]
async fn a_restore_then_a_merge_of_the_damaged_tables_loses_no_share_acknowledged_after_the_restore_point()
 {
    let live = Fixture::new().await;
    let client = unique("merge");
    let late = unique("merge-late");
    let share = |text: &str| format!("{{\"share\":\"0x5f3c-{text}\"}}");
    let backup = |client: &str, method: &str, text: &str| {
        let body = json!({ "clientId": client, "backupMethod": method, "share": share(text) });
        Backup::from_json(body.to_string().as_bytes()).unwrap()
    };
    live.store
        .put_share(&backup(&client, "GDRIVE-SECP256K1", "secp-1"))
        .await
        .unwrap();
    live.store
        .put_share(&backup(&client, "GDRIVE-ED25519", "ed-1"))
        .await
        .unwrap();
    // The restore point: a restored table holds exactly this.
    let restore_point = dump_path();
    let restore_point = restore_point.to_str().unwrap();
    assert_eq!(
        custody_json(&live, &["dump", "--out", restore_point]).code,
        0
    );
    // Acknowledged after the restore point: two replacements, a new client, an export.
    for text in ["secp-2", "secp-3"] {
        live.store
            .put_share(&backup(&client, "GDRIVE-SECP256K1", text))
            .await
            .unwrap();
    }
    live.store
        .put_share(&backup(&late, "GDRIVE-SECP256K1", "late-1"))
        .await
        .unwrap();
    // A row left unreadable (a rolled-back format), set aside by the next share: the merge
    // keeps it as it is, never current, and a second merge finds it there.
    let mut newer_format = current_item_of(&live, &late, "GDRIVE-SECP256K1").await;
    newer_format.insert(schema::SEAL_FORMAT.into(), AttributeValue::N("99".into()));
    put_row(&live.client, &live.tables.shares, newer_format).await;
    live.store
        .put_share(&backup(&late, "GDRIVE-SECP256K1", "late-2"))
        .await
        .unwrap();
    let export = [
        "export",
        &client,
        "GDRIVE-SECP256K1",
        "--print-share",
        "--reason",
        "after",
    ];
    assert_eq!(custody(&live, &export).code, 0);
    // The damage: a bad script deletes a current row.
    let key = HashMap::from([
        ("clientId".to_owned(), AttributeValue::S(client.clone())),
        (
            "backupMethod".to_owned(),
            AttributeValue::S("GDRIVE-ED25519".to_owned()),
        ),
    ]);
    live.client
        .delete_item()
        .table_name(&live.tables.shares)
        .set_key(Some(key))
        .send()
        .await
        .unwrap();

    // 1. Dump the damaged tables. 2. Restore (here: fresh tables loaded from the restore point).
    let damaged = dump_path();
    let damaged = damaged.to_str().unwrap();
    assert_eq!(custody_json(&live, &["dump", "--out", damaged]).code, 0);
    let restored = Fixture::new().await;
    assert_eq!(custody_json(&restored, &["load", restore_point]).code, 0);
    // The stack switched to the restored tables, Portal stores its newest share there before
    // the merge: version 2 here, below the damaged table's version 3, and still the newest.
    let switched =
        Function::start(&binary("backup"), &with_share_key(&restored, &live.key_id)).await;
    let body =
        json!({ "clientId": client, "backupMethod": "GDRIVE-SECP256K1", "share": share("secp-4") });
    let stored = switched
        .invoke(&rest_event("/backup", &body.to_string()).to_string())
        .await
        .unwrap();
    assert_eq!(stored["statusCode"], 200, "{stored}");
    // 3. Merge the damaged dump into the restored tables.
    let merged = custody_json(&restored, &["load", "--merge", damaged]);
    assert_eq!(merged.code, 0, "{}{}", merged.stdout, merged.stderr);
    let report = merged.json();
    assert_eq!(
        report["current"], 1,
        "the late client; secp-3 is older than secp-4 whatever its version: {report}"
    );
    assert_eq!(
        report["audit"], 2,
        "the export's record and its share's head: {report}"
    );
    assert_eq!(report["verified"], report["lines"], "{report}");
    assert!(!merged.stdout.contains("0x5f3c") && !merged.stderr.contains("0x5f3c"));

    // Every share: the newest current, the deleted row back from the restore, the late client.
    let env = with_share_key(&restored, &live.key_id);
    let fetch = Function::start(&binary("backup-fetch"), &env).await;
    for (who, expected) in [
        (&client, vec![share("ed-1"), share("secp-4")]),
        (&late, vec![share("late-2")]),
    ] {
        assert_eq!(fetched(&fetch, who).await, expected, "{who}");
    }
    let history = custody_json(&restored, &["history", &client, "GDRIVE-SECP256K1"]).json();
    let versions = history["shares"].as_array().unwrap();
    assert_eq!(
        versions.len(),
        4,
        "secp-4 current, secp-1 kept once (not twice), secp-2 and secp-3 kept: {history}"
    );
    assert_eq!(versions[0]["current"], true, "{history}");
    let audit = custody_json(&restored, &["audit", &client, "GDRIVE-SECP256K1"]);
    assert_eq!(
        audit.code, 0,
        "the merged audit trail still verifies: {}",
        audit.stdout
    );
    assert_eq!(audit.json()["records"][0]["reason"], "after");

    // Running it twice changes nothing.
    let before = (
        restored.scan(&restored.tables.shares).await,
        restored.scan(&restored.tables.history).await,
    );
    let again = custody_json(&restored, &["load", "--merge", damaged]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    assert_eq!(
        again.json()["alreadyThere"],
        again.json()["lines"],
        "{}",
        again.stdout
    );
    let after = (
        restored.scan(&restored.tables.shares).await,
        restored.scan(&restored.tables.history).await,
    );
    assert_eq!(before, after);
}

/// `client`'s current item for `method`, as the shares table holds it.
async fn current_item_of(f: &Fixture, client: &str, method: &str) -> Item {
    let is = |item: &Item, name: &str, value: &str| {
        item.get(name) == Some(&AttributeValue::S(value.into()))
    };
    f.scan(&f.tables.shares)
        .await
        .into_iter()
        .find(|item| is(item, schema::CLIENT_ID, client) && is(item, schema::BACKUP_METHOD, method))
        .expect("the client's current item")
}

/// An escrow key in another Region (a recovery Region) wraps each data key through its own
/// Region's KMS: the wrap is there, and opens there.
#[tokio::test]
async fn an_escrow_key_in_another_region_wraps_every_share() {
    let f = Fixture::new().await;
    let recovery_region = aws_emulator::kms_client_in("eu-west-1").await;
    let escrow = recovery_region
        .create_key()
        .description("escrow key in the recovery Region (tests)")
        .send()
        .await
        .unwrap()
        .key_metadata
        .and_then(|metadata| metadata.arn)
        .unwrap();
    assert!(escrow.contains(":eu-west-1:"), "{escrow}");
    let client = unique("escrow-region");
    let mut env = f.function_env(DEV_SECRET);
    env.push(("ESCROW_KEY_ARN", &escrow));
    let backup = Function::start(&binary("backup"), &env).await;
    let body = json!({ "clientId": client, "backupMethod": BACKUP_METHOD, "share": "{\"share\":\"0x5f3c\"}" });
    let stored = backup
        .invoke(&rest_event("/backup", &body.to_string()).to_string())
        .await
        .unwrap();
    assert_eq!(result(&stored), "created", "{stored}");
    let item = current_item_of(&f, &client, BACKUP_METHOD).await;
    assert_eq!(
        item[schema::ESCROW_KEY_ID],
        AttributeValue::S(escrow.clone()),
        "the wrap is missing"
    );
    let wrapped = item[schema::ESCROWED_DATA_KEY].as_b().unwrap().clone();
    let opened = recovery_region
        .decrypt()
        .key_id(&escrow)
        .ciphertext_blob(wrapped)
        .encryption_context("clientId", &client)
        .encryption_context("backupMethod", BACKUP_METHOD)
        .send()
        .await
        .expect("the escrow wrap opens in the recovery Region");
    assert_eq!(opened.plaintext.unwrap().as_ref().len(), 32);
}

/// With an escrow key (docs/envelope.md) each data key is also wrapped under it, and that wrap
/// alone opens the share: through the standalone recipe, and through a recovery stack's fetch
/// that accepts the escrow key and never uses the key that sealed the share. (The emulator keeps
/// both keys in one account; what lets the escrow key sit in another account is the two
/// policies, which tests/it/template.rs and tests/it/deployed.rs check.)
#[tokio::test]
async fn with_an_escrow_key_a_share_opens_through_the_escrow_wrap_alone() {
    let f = Fixture::new().await;
    let escrow = aws_emulator::create_share_key().await;
    let client = unique("escrow");
    let share = "{\"share\":\"0x5f3c-escrowed\",\"é\":\"☃\"}";
    let mut env = f.function_env(DEV_SECRET);
    env.push(("ESCROW_KEY_ARN", &escrow));
    let backup = Function::start(&binary("backup"), &env).await;
    let body = json!({ "clientId": client, "backupMethod": BACKUP_METHOD, "share": share });
    let stored = backup
        .invoke(&rest_event("/backup", &body.to_string()).to_string())
        .await
        .unwrap();
    assert_eq!(result(&stored), "created", "{stored}");
    let item = current_item_of(&f, &client, BACKUP_METHOD).await;
    assert_eq!(
        item[schema::ESCROW_KEY_ID],
        AttributeValue::S(escrow.clone())
    );

    // The main wrap made useless: only the escrow wrap can release the data key.
    let mut escrow_only = item.clone();
    escrow_only.insert(
        schema::ENCRYPTED_DATA_KEY.into(),
        AttributeValue::B(Blob::new(vec![0x5a; 184])),
    );
    escrow_only.insert(
        schema::KMS_KEY_ID.into(),
        AttributeValue::S("arn:aws:kms:us-east-1:000000000000:key/gone".into()),
    );
    assert_eq!(opened(&recipe(&escrow_only, &["--escrow"])), share);
    assert!(
        !recipe(&escrow_only, &[]).status.success(),
        "the main wrap is gone"
    );

    // A recovery stack: its own ShareKey, the escrow key accepted, the copy loaded as it was.
    put_row(&f.client, &f.tables.shares, escrow_only).await;
    let recovery_key = aws_emulator::create_share_key().await;
    let mut recovery = with_share_key(&f, &recovery_key);
    recovery.push(("ACCEPTED_SHARE_KEY_ARNS", &escrow));
    let fetch = Function::start(&binary("backup-fetch"), &recovery).await;
    let fetch_event =
        rest_event("/backup/fetch", &json!({ "clientId": client }).to_string()).to_string();
    let response = fetch.invoke(&fetch_event).await.unwrap();
    let answer: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(response["statusCode"], 200, "{answer}");
    assert_eq!(answer["backupShares"], json!([share]));
}

/// The escrow key refusing (deleted, its policy changed, its account unreachable) never costs a
/// share: it is stored with its main wrap, the miss is logged and counted, and the next backup of
/// the same share adds the escrow wrap.
#[tokio::test]
async fn an_escrow_key_that_refuses_never_costs_a_backup_and_the_next_one_adds_the_wrap() {
    let f = Fixture::new().await;
    let client = unique("escrow-refused");
    let share = "{\"share\":\"0x5f3c-escrow-refused\"}";
    let body = json!({ "clientId": client, "backupMethod": BACKUP_METHOD, "share": share });
    let event = rest_event("/backup", &body.to_string()).to_string();
    let unknown = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000";
    let mut env = f.function_env(DEV_SECRET);
    env.push(("ESCROW_KEY_ARN", unknown));
    let refused = Function::start(&binary("backup"), &env).await;
    let stored = refused.invoke(&event).await.unwrap();
    assert_eq!(stored["statusCode"], 200, "{stored}");
    assert_eq!(result(&stored), "created");
    let item = current_item_of(&f, &client, BACKUP_METHOD).await;
    assert!(!item.contains_key(schema::ESCROWED_DATA_KEY));
    assert_eq!(f.share_in(&item).await, share);
    let logs = refused
        .output_when(|logs| logs.contains("EscrowWrapsMissed"))
        .await;
    assert!(logs.contains("the escrow wrap failed"), "{logs}");
    assert!(!logs.contains("0x5f3c"), "{logs}");

    let escrow = aws_emulator::create_share_key().await;
    let mut env = f.function_env(DEV_SECRET);
    env.push(("ESCROW_KEY_ARN", &escrow));
    let backup = Function::start(&binary("backup"), &env).await;
    let again = backup.invoke(&event).await.unwrap();
    assert_eq!(
        result(&again),
        "replaced",
        "sealed again, with the escrow wrap"
    );
    let item = current_item_of(&f, &client, BACKUP_METHOD).await;
    assert_eq!(item[schema::ESCROW_KEY_ID], AttributeValue::S(escrow));
    assert_eq!(opened(&recipe(&item, &["--escrow"])), share);
    assert_eq!(result(&backup.invoke(&event).await.unwrap()), "unchanged");

    // A share that has its escrow wrap never loses it: not to a re-backup under a new key while
    // the escrow key refuses, nor to a reseal, which refuses to write without the wrap.
    let new_key = aws_emulator::create_share_key().await;
    let old_key = f.key_id.clone();
    let mut moved = with_share_key(&f, &new_key);
    moved.extend([
        ("ACCEPTED_SHARE_KEY_ARNS", old_key.as_str()),
        ("ESCROW_KEY_ARN", unknown),
    ]);
    let refusing = Function::start(&binary("backup"), &moved).await;
    assert_eq!(result(&refusing.invoke(&event).await.unwrap()), "unchanged");
    let operator = [
        ("ACCEPTED_SHARE_KEY_ARNS", old_key.as_str()),
        ("ESCROW_KEY_ARN", unknown),
    ];
    let reseal = custody_under(&f, &new_key, &operator, &["reseal", "--key", &old_key]);
    assert_eq!(reseal.code, 5, "{}", reseal.stdout);
    assert!(
        reseal.stdout.contains("escrow_wrap_failed"),
        "{}",
        reseal.stdout
    );
    let kept = current_item_of(&f, &client, BACKUP_METHOD).await;
    assert_eq!(kept, item, "nothing was written");
}

/// `custody` on `f`'s tables with `SHARE_KEY_ID` = `key_id` and `extra` variables, `--json`.
fn custody_under(f: &Fixture, key_id: &str, extra: &[(&str, &str)], args: &[&str]) -> Run {
    let mut env = with_share_key(f, key_id);
    env.push(("AWS_ENDPOINT_URL_STS", aws_emulator::endpoint()));
    env.push(("HISTORY_RETENTION_DAYS", "0"));
    env.extend(extra.iter().copied());
    let args: Vec<&str> = ["--json"].iter().chain(args).copied().collect();
    local_aws::cli::custody_with(&env, &args)
}

/// After a key move, `custody reseal --key OLD` seals every current share under the new key
/// without Portal re-sending one: the fetch then opens every share with the new key alone (the
/// old one out of AcceptedShareKeyArns), each old copy is in history, each reseal is audited,
/// and a second run changes nothing. `--without-escrow-wrap` gives every share its escrow wrap.
#[tokio::test]
async fn custody_reseal_moves_every_current_share_under_a_retired_key_to_todays_keys() {
    let f = Fixture::new().await;
    let clients = a_stack_in_use(&f).await;
    let old_key = f.key_id.clone();
    let new_key = aws_emulator::create_share_key().await;
    let accepting = [("ACCEPTED_SHARE_KEY_ARNS", old_key.as_str())];
    // One share Portal already re-sent under the new key: not one to reseal.
    let (client, current) = &clients[1];
    let (method, _) = current[0];
    let resent = "{\"share\":\"0x5f3c-resent-under-the-new-key\"}";
    let body = json!({ "clientId": client, "backupMethod": method, "share": resent });
    let mut env = with_share_key(&f, &new_key);
    env.extend(accepting);
    let backup = Function::start(&binary("backup"), &env).await;
    let stored = backup
        .invoke(&rest_event("/backup", &body.to_string()).to_string())
        .await
        .unwrap();
    assert_eq!(result(&stored), "replaced", "{stored}");

    let reseal = ["reseal", "--key", old_key.as_str(), "--reason", "key move"];
    let run = custody_under(&f, &new_key, &accepting, &reseal);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["resealed"], 3, "{report}");
    assert_eq!(report["notSelected"], 1, "{report}");
    assert_eq!(report["failed"], json!([]), "{report}");
    assert!(!run.stdout.contains("0x5f3c") && !run.stderr.contains("0x5f3c"));
    let again = custody_under(&f, &new_key, &accepting, &reseal);
    assert_eq!(again.json()["resealed"], 0, "{}", again.stdout);
    assert_eq!(again.json()["notSelected"], 4, "{}", again.stdout);

    // The old key can go: every share opens with the new key alone, byte for byte.
    let fetch = Function::start(&binary("backup-fetch"), &with_share_key(&f, &new_key)).await;
    for (n, (client, current)) in clients.iter().enumerate() {
        let event = rest_event("/backup/fetch", &json!({ "clientId": client }).to_string());
        let response = fetch.invoke(&event.to_string()).await.unwrap();
        let answer: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        assert_eq!(response["statusCode"], 200, "{answer}");
        let mut fetched: Vec<String> = answer["backupShares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|share| share.as_str().unwrap().to_owned())
            .collect();
        fetched.sort();
        let mut expected: Vec<String> = current.iter().map(|(_, s)| s.clone()).collect();
        if n == 1 {
            expected[0] = resent.to_owned();
        }
        expected.sort();
        assert_eq!(fetched, expected);
    }
    // The sealed-again share's earlier copy is in history, and the reseal is audited first.
    let (client, _) = &clients[0];
    let history = custody_json(&f, &["history", client, "GDRIVE-SECP256K1"]);
    let versions = history.json()["shares"].as_array().unwrap().clone();
    assert_eq!(versions[0]["shareSha256"], versions[1]["shareSha256"]);
    let audit = custody_json(&f, &["audit", client, "GDRIVE-ED25519"]);
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    assert_eq!(
        audit.json()["records"][0]["action"],
        "reseal",
        "{}",
        audit.stdout
    );
    assert_eq!(audit.json()["records"][0]["reason"], "key move");

    // An escrow key added later: every share stored before gains its escrow wrap.
    let escrow = aws_emulator::create_share_key().await;
    let escrowing = [("ESCROW_KEY_ARN", escrow.as_str())];
    let refused = custody_under(&f, &new_key, &[], &["reseal", "--without-escrow-wrap"]);
    assert_eq!(refused.code, 2, "needs ESCROW_KEY_ARN: {}", refused.stdout);
    let wrap = custody_under(
        &f,
        &new_key,
        &escrowing,
        &["reseal", "--without-escrow-wrap"],
    );
    assert_eq!(wrap.code, 0, "{}", wrap.stderr);
    assert_eq!(wrap.json()["resealed"], 4, "{}", wrap.stdout);
    for item in f.scan(&f.tables.shares).await {
        assert_eq!(
            item[schema::ESCROW_KEY_ID],
            AttributeValue::S(escrow.clone())
        );
        assert_eq!(item[schema::KMS_KEY_ID], AttributeValue::S(new_key.clone()));
    }
}

/// Writes `items` as DynamoDB writes a full point-in-time export of `table` in DynamoDB JSON
/// (its developer guide, "DynamoDB table export output format"): under
/// `<dir>/exports/AWSDynamoDB/<ExportId>/`, a summary, a manifest of data files, and the items
/// as gzip JSON lines `{"Item": ...}`, split over two data files as partitions are.
fn write_export(dir: &std::path::Path, table: &str, items: &[Item], export_time: &str) {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    let export_id = unique("01733216400000");
    let export_dir = dir.join("exports/AWSDynamoDB").join(&export_id);
    std::fs::create_dir_all(export_dir.join("data")).unwrap();
    let table_arn = format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}");
    let mut manifest_files = String::new();
    let half = items.len() / 2;
    for (n, part) in [&items[..half], &items[half..]].into_iter().enumerate() {
        let name = format!("{export_id}-part{n}.json.gz");
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        for item in part {
            gz.write_all(get_item_json(item).as_bytes()).unwrap();
            gz.write_all(b"\n").unwrap();
        }
        std::fs::write(export_dir.join("data").join(&name), gz.finish().unwrap()).unwrap();
        let key = format!("exports/AWSDynamoDB/{export_id}/data/{name}");
        let entry =
            json!({ "itemCount": part.len(), "md5Checksum": "", "etag": "", "dataFileS3Key": key });
        manifest_files.push_str(&format!("{entry}\n"));
    }
    std::fs::write(export_dir.join("manifest-files.json"), manifest_files).unwrap();
    let summary = json!({
        "version": "2020-06-30",
        "exportArn": format!("{table_arn}/export/{export_id}"),
        "startTime": export_time, "endTime": export_time, "exportTime": export_time,
        "tableArn": table_arn, "s3Bucket": "exports-bucket", "s3Prefix": "exports",
        "manifestFilesS3Key": format!("exports/AWSDynamoDB/{export_id}/manifest-files.json"),
        "itemCount": items.len(), "outputFormat": "DYNAMODB_JSON", "exportType": "FULL_EXPORT",
    });
    std::fs::write(
        export_dir.join("manifest-summary.json"),
        summary.to_string(),
    )
    .unwrap();
}

/// `custody dump --from-export` makes the same dump from point-in-time exports of the three
/// tables as a scan would, says they are one instant, and its dump loads and serves every share;
/// an export with an item missing is refused with no manifest written, so it cannot be loaded.
#[tokio::test]
async fn a_dump_from_point_in_time_exports_is_the_scan_dump_as_of_one_instant() {
    let old = Fixture::new().await;
    let clients = a_stack_in_use(&old).await;
    let exports = std::env::temp_dir().join(unique("exports"));
    let at = "2026-12-03T09:00:00.000Z";
    for table in [&old.tables.shares, &old.tables.history, &old.tables.audit] {
        write_export(&exports, table, &old.scan(table).await, at);
    }
    let from_export = dump_path();
    let exported = custody_json(
        &old,
        &[
            "dump",
            "--from-export",
            exports.to_str().unwrap(),
            "--out",
            from_export.to_str().unwrap(),
        ],
    );
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    let manifest = exported.json();
    assert_eq!(
        manifest["items"],
        json!({ "shares": 4, "history": 2, "audit": 2 })
    );
    assert!(
        manifest["consistency"]
            .as_str()
            .unwrap()
            .contains("same exportTime"),
        "{manifest}"
    );
    assert_eq!(manifest["fromExports"].as_array().unwrap().len(), 3);
    assert_eq!(manifest["fromExports"][0]["exportTime"], at);
    let scanned = dump_path();
    let scan = custody_json(&old, &["dump", "--out", scanned.to_str().unwrap()]);
    assert_eq!(scan.code, 0, "{}", scan.stderr);
    // The same (table, item) lines, in whatever order: attribute order is not meaning.
    let entries = |path: &std::path::Path| -> Vec<(String, Item)> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|line| {
                let entry: Value = serde_json::from_str(line).unwrap();
                let item = item_from_json(&entry["item"]).expect("an item");
                (entry["table"].as_str().unwrap().to_owned(), item)
            })
            .collect()
    };
    let (exported_entries, scanned_entries) = (entries(&from_export), entries(&scanned));
    assert_eq!(exported_entries.len(), scanned_entries.len());
    for entry in &exported_entries {
        assert!(
            scanned_entries.contains(entry),
            "{entry:?} is not in the scan"
        );
    }

    let new = Fixture::new().await;
    let loaded = custody_json(&new, &["load", from_export.to_str().unwrap()]);
    assert_eq!(loaded.code, 0, "{}", loaded.stderr);
    assert_eq!(loaded.json()["verified"], 8);
    let fetch = Function::start(&binary("backup-fetch"), &with_share_key(&new, &old.key_id)).await;
    let (client, current) = &clients[1];
    let event = rest_event("/backup/fetch", &json!({ "clientId": client }).to_string());
    let response = fetch.invoke(&event.to_string()).await.unwrap();
    let answer: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let mut fetched: Vec<&str> = answer["backupShares"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|share| share.as_str().unwrap())
        .collect();
    fetched.sort();
    let mut expected: Vec<&str> = current.iter().map(|(_, share)| share.as_str()).collect();
    expected.sort();
    assert_eq!(fetched, expected);

    // An export that lost an item: refused, and no manifest, so `load` cannot take the file.
    let incomplete = std::env::temp_dir().join(unique("exports-incomplete"));
    let mut shares = old.scan(&old.tables.shares).await;
    shares.pop();
    write_export(&incomplete, &old.tables.shares, &shares, at);
    let manifest_files = std::fs::read_dir(incomplete.join("exports/AWSDynamoDB"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let summary_path = manifest_files.join("manifest-summary.json");
    let mut summary: Value =
        serde_json::from_str(&std::fs::read_to_string(&summary_path).unwrap()).unwrap();
    summary["itemCount"] = json!(4);
    std::fs::write(&summary_path, summary.to_string()).unwrap();
    for table in [&old.tables.history, &old.tables.audit] {
        write_export(&incomplete, table, &old.scan(table).await, at);
    }
    let out = dump_path();
    let refused = custody_json(
        &old,
        &[
            "dump",
            "--from-export",
            incomplete.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(refused.code, 8, "{}", refused.stdout);
    assert_eq!(refused.json()["error"]["code"], "dump_corrupt");
    let mut manifest_of_out = out.as_os_str().to_owned();
    manifest_of_out.push(".manifest.json");
    assert!(!std::path::Path::new(&manifest_of_out).exists());
    assert!(
        !out.exists(),
        "the partial dump is removed, so a retry can write"
    );
}
