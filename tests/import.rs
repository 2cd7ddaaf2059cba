//! `custody import --from-jsonl`: the shares of the store a customer ran before, moved in with
//! nothing lost and nothing newer replaced, through the real `custody` binary into DynamoDB Local
//! and fetched back through the real fetch binary, byte for byte.

use local_aws::cli::{Run, custody};
use local_aws::events::{DEV_SECRET, rest_event};
use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, unique};
use serde_json::{Value, json};
use std::io::Write;

/// Writes `rows` as a JSON-lines file and returns its path.
fn source(rows: &[Value]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{}.jsonl", unique("import")));
    let mut file = std::fs::File::create(&path).unwrap();
    for row in rows {
        writeln!(file, "{row}").unwrap();
    }
    path
}

async fn fetched(fetch: &Function, client: &str) -> Vec<String> {
    let body = json!({ "clientId": client }).to_string();
    let response = fetch
        .invoke(&rest_event("/backup/fetch", &body).to_string())
        .await
        .unwrap();
    let answer: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let mut shares: Vec<String> = answer["backupShares"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|share| share.as_str().unwrap().to_owned())
        .collect();
    shares.sort();
    shares
}

fn import(f: &Fixture, path: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec!["--json", "import", "--from-jsonl", path.to_str().unwrap()];
    args.extend(extra);
    custody(f, &args)
}

#[tokio::test]
async fn a_stores_rows_come_in_byte_for_byte_refusals_named_and_nothing_newer_replaced() {
    let f = Fixture::new().await;
    let (alice, bob, carol) = (unique("alice"), unique("bob"), unique("carol"));
    let large = format!("{{\"share\":\"{}\",\"é\":\"☃\"}}", "7".repeat(200_000));
    let share = |text: &str| format!("{{\"share\":\"0x5f3c-{text}\"}}");
    // Carol backed up through this stack before the import: newer than her old row.
    let backup = Function::start(
        &binary("backup"),
        &f.function_env(local_aws::events::DEV_SECRET),
    )
    .await;
    let newer =
        json!({ "clientId": carol, "backupMethod": "PASSWORD", "share": share("carol-new") });
    let stored = backup
        .invoke(&rest_event("/backup", &newer.to_string()).to_string())
        .await
        .unwrap();
    assert_eq!(stored["statusCode"], 200, "{stored}");
    let rows = [
        // A legacy row without a backup method, a row per pair, Unicode and a large share.
        json!({ "id": "r1", "clientId": alice, "backupMethod": null, "share": share("legacy"), "createdAt": "2023-02-01T10:00:00Z" }),
        json!({ "id": "r2", "clientId": alice, "backupMethod": "GDRIVE", "backupSharePairId": "bsp_1", "share": share("gdrive-1"), "createdAt": "2024-06-01T10:00:00Z" }),
        json!({ "id": "r3", "clientId": alice, "backupMethod": "GDRIVE", "backupSharePairId": "bsp_2", "share": share("gdrive-2"), "createdAt": "2024-07-01T10:00:00Z" }),
        json!({ "id": "r4", "clientId": bob, "backupMethod": "PASSKEY", "share": large, "createdAt": "2024-08-01T10:00:00Z" }),
        json!({ "id": "r5", "clientId": carol, "backupMethod": "PASSWORD", "share": share("carol-old"), "createdAt": "2024-01-01T10:00:00Z" }),
        // A duplicate of r2; then rows that cannot come in.
        json!({ "id": "r6", "clientId": alice, "backupMethod": "GDRIVE", "backupSharePairId": "bsp_1", "share": share("gdrive-1"), "createdAt": "2024-06-01T10:00:00Z" }),
        json!({ "id": "r7", "clientId": bob, "backupMethod": "ICLOUD", "share": "", "createdAt": "2024-08-01T10:00:00Z" }),
        json!({ "id": "r8", "clientId": null, "backupMethod": "ICLOUD", "share": share("orphan"), "createdAt": "2024-08-01T10:00:00Z" }),
        json!({ "id": "r9", "clientId": bob, "share": share("undated") }),
    ];
    let path = source(&rows);
    // And a line that is not UTF-8 (line 10).
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(b"{\"id\": \"r10\", \"share\": \"\xff\xfe\"}\n")
        .unwrap();
    let run = import(&f, &path, &[]);
    assert_eq!(
        run.code, 12,
        "refused rows never exit 0: {}{}",
        run.stdout, run.stderr
    );
    let report = run.json();
    let message = report["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("\"line\":10,\"reason\":\"not UTF-8\""),
        "{message}"
    );
    for (id, reason) in [
        ("r7", "empty_field"),
        ("r8", "missing_field"),
        ("r9", "createdAt"),
    ] {
        assert!(
            message.contains(id) && message.contains(reason),
            "{id}: {message}"
        );
    }
    assert!(
        !run.stdout.contains("0x5f3c") && !run.stderr.contains("0x5f3c"),
        "a share printed"
    );

    let fetch = Function::start(&binary("backup-fetch"), &f.function_env(DEV_SECRET)).await;
    assert_eq!(
        fetched(&fetch, &alice).await,
        [share("gdrive-1"), share("gdrive-2"), share("legacy")]
    );
    assert_eq!(fetched(&fetch, &bob).await, [large]);
    assert_eq!(
        fetched(&fetch, &carol).await,
        [share("carol-new")],
        "the newer share stored through /backup stays current"
    );
    let history = custody(&f, &["--json", "history", &carol, "PASSWORD"]).json();
    assert_eq!(
        history["shares"].as_array().unwrap().len(),
        2,
        "the old row kept in history: {history}"
    );

    // A second run changes nothing.
    let before = (
        f.scan(&f.tables.shares).await.len(),
        f.scan(&f.tables.history).await.len(),
    );
    let again = import(&f, &path, &[]);
    assert_eq!(again.code, 12);
    let after = (
        f.scan(&f.tables.shares).await.len(),
        f.scan(&f.tables.history).await.len(),
    );
    assert_eq!(before, after);

    // Verified: every importable row is what its slot serves, or older than what it serves.
    let verified = import(&f, &path, &["--verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
    assert_eq!(verified.json()["same"], 5, "{}", verified.stdout);
    assert_eq!(verified.json()["superseded"], 1, "{}", verified.stdout);
    // A row changed in the source after the import is caught, and named.
    let mut changed = rows.to_vec();
    changed[1]["share"] = share("gdrive-1-changed").into();
    let mismatch = import(&f, &source(&changed), &["--verify"]);
    assert_eq!(mismatch.code, 13, "{}", mismatch.stdout);
    let message = mismatch.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("\"id\":\"r2\""), "{message}");
    assert!(
        !message.contains("\"r3\""),
        "only the changed row: {message}"
    );
    assert!(!mismatch.stdout.contains("0x5f3c"), "a share printed");
}

#[tokio::test]
async fn a_killed_import_resumes_after_its_checkpoint() {
    let f = Fixture::new().await;
    let client = unique("resume");
    let rows: Vec<Value> = (0..6)
        .map(|n| json!({ "id": format!("r{n}"), "clientId": client, "backupMethod": format!("M{n}"), "share": format!("{{\"share\":\"{n}\"}}"), "createdAt": "2024-01-01T00:00:00Z" }))
        .collect();
    let path = source(&rows);
    let checkpoint = std::env::temp_dir().join(format!("{}.checkpoint", unique("import")));
    // Killed after line 4: the checkpoint says so, and the share of line 5 was never stored.
    std::fs::write(&checkpoint, "4").unwrap();
    let run = import(&f, &path, &["--checkpoint", checkpoint.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["resumedAfter"], 4);
    assert_eq!(run.json()["current"], 2, "lines 5 and 6 only");
    assert_eq!(std::fs::read_to_string(&checkpoint).unwrap(), "6");
    let run = import(&f, &path, &[]);
    assert_eq!(
        (
            run.json()["current"].as_u64(),
            run.json()["alreadyThere"].as_u64()
        ),
        (Some(4), Some(2))
    );
}
