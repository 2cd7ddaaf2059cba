//! `custody import --from-jsonl`: the shares of the store a customer ran before, moved in with
//! nothing lost and nothing newer replaced, through the real `custody` binary into DynamoDB Local
//! and fetched back through the real fetch binary, byte for byte.

use crate::support::fetched;
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

/// A `CustodianBackupShare` row: id, userId, backupMethod, backupSharePairId, share, createdAt.
type SourceRow<'a> = (
    &'a str,
    i32,
    Option<&'a str>,
    Option<&'a str>,
    String,
    &'a str,
);

/// Runs `custody import --from-postgres URL` with `extra` arguments.
fn import_postgres(f: &Fixture, url: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--json", "import", "--from-postgres", url];
    args.extend(extra);
    custody(f, &args)
}

#[tokio::test]
async fn portals_own_postgres_schema_comes_in_byte_for_byte_with_every_refusal_named() {
    let f = Fixture::new().await;
    let (url, db) = local_aws::postgres::portal_database().await;
    let (alice, bob, carol) = (unique("alice"), unique("bob"), unique("carol"));
    let share = |text: &str| format!("{{\"share\":\"0x5f3c-{text}\"}}");
    let large = format!("{{\"share\":\"{}\",\"é\":\"☃\"}}", "7".repeat(200_000));
    // Carol backed up through this stack before the import: newer than her old row.
    let backup = Function::start(&binary("backup"), &f.function_env(DEV_SECRET)).await;
    let newer =
        json!({ "clientId": carol, "backupMethod": "PASSWORD", "share": share("carol-new") });
    let stored = backup
        .invoke(&rest_event("/backup", &newer.to_string()).to_string())
        .await
        .unwrap();
    assert_eq!(stored["statusCode"], 200, "{stored}");

    // Users as Portal's schema holds them; dave's clientId is empty, and erin has none at all
    // (portalex's schema had clientId optional until its 2023-11 migration).
    db.batch_execute(r#"ALTER TABLE "User" ALTER COLUMN "clientId" DROP NOT NULL"#)
        .await
        .unwrap();
    for (id, client_id) in [
        (1, Some(alice.as_str())),
        (2, Some(&bob)),
        (3, Some(&carol)),
        (4, Some("")),
        (5, None),
    ] {
        local_aws::postgres::add_user(&db, id, client_id).await;
    }
    let rows: [SourceRow; 10] = [
        // A legacy row (its method the column's default), a row per pair, Unicode and a large
        // share, carol's older row.
        ("c01", 1, None, None, share("legacy"), "2023-02-01 10:00:00"),
        (
            "c02",
            1,
            Some("GDRIVE"),
            Some("bsp_1"),
            share("gdrive-1"),
            "2024-06-01 10:00:00",
        ),
        (
            "c03",
            1,
            Some("GDRIVE"),
            Some("bsp_2"),
            share("gdrive-2"),
            "2024-07-01 10:00:00",
        ),
        (
            "c04",
            2,
            Some("PASSKEY"),
            None,
            large.clone(),
            "2024-08-01 10:00:00",
        ),
        (
            "c05",
            3,
            Some("PASSWORD"),
            None,
            share("carol-old"),
            "2024-01-01 10:00:00",
        ),
        // Two pair-less rows of one method, which the unique index admits (NULLs are distinct):
        // the newer is served, the older kept in history.
        (
            "c06",
            1,
            Some("GDRIVE"),
            None,
            share("gdrive-x"),
            "2024-05-01 10:00:00",
        ),
        (
            "c07",
            1,
            Some("GDRIVE"),
            None,
            share("gdrive-y"),
            "2024-05-02 10:00:00",
        ),
        // Rows that cannot come in: an empty share, an empty clientId, no clientId.
        (
            "c08",
            2,
            Some("ICLOUD"),
            None,
            String::new(),
            "2024-08-01 10:00:00",
        ),
        (
            "c09",
            4,
            Some("ICLOUD"),
            None,
            share("dave"),
            "2024-08-01 10:00:00",
        ),
        (
            "c10",
            5,
            Some("ICLOUD"),
            None,
            share("erin"),
            "2024-08-01 10:00:00",
        ),
    ];
    for (id, user, method, pair, share, created_at) in &rows {
        db.execute(
            r#"INSERT INTO "CustodianBackupShare" ("id", "userId", "backupMethod", "backupSharePairId", "share", "createdAt")
               VALUES ($1, $2, COALESCE($3, 'UNKNOWN'), $4, $5, $6::text::timestamp)"#,
            &[id, user, method, pair, share, created_at],
        )
        .await
        .unwrap();
    }

    let run = import_postgres(&f, &url, &[]);
    assert_eq!(
        run.code, 12,
        "refused rows never exit 0: {}{}",
        run.stdout, run.stderr
    );
    let message = run.json()["error"]["message"].as_str().unwrap().to_owned();
    for (id, reason) in [
        ("c08", "empty_field"),
        ("c09", "empty_field"),
        ("c10", "missing_field"),
    ] {
        assert!(
            message.contains(&format!("{{\"id\":\"{id}\",\"reason\":\"{reason}\"}}")),
            "{id}: {message}"
        );
    }
    // Seven rows stored, as current or (carol's, and gdrive-x if gdrive-y came first) in history.
    let count = |name: &str| {
        let at = message.find(&format!("\"{name}\":")).expect(name) + name.len() + 3;
        message[at..]
            .split([',', '}'])
            .next()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert_eq!(count("current") + count("keptOlder"), 7, "{message}");
    assert!(
        !run.stdout.contains("0x5f3c") && !run.stderr.contains("0x5f3c"),
        "a share printed"
    );

    let fetch = Function::start(&binary("backup-fetch"), &f.function_env(DEV_SECRET)).await;
    assert_eq!(
        fetched(&fetch, &alice).await,
        [
            share("gdrive-1"),
            share("gdrive-2"),
            share("gdrive-y"),
            share("legacy")
        ]
    );
    assert_eq!(fetched(&fetch, &bob).await, [large]);
    assert_eq!(fetched(&fetch, &carol).await, [share("carol-new")]);
    for (client, method) in [(&carol, "PASSWORD"), (&alice, "GDRIVE")] {
        let history = custody(&f, &["--json", "history", client, method]).json();
        assert_eq!(
            history["shares"].as_array().unwrap().len(),
            2,
            "the older share kept in history: {history}"
        );
    }

    // A second run changes nothing.
    let count = || async {
        (
            f.scan(&f.tables.shares).await.len(),
            f.scan(&f.tables.history).await.len(),
        )
    };
    let before = count().await;
    assert_eq!(import_postgres(&f, &url, &["--reason", "cutover"]).code, 12);
    assert_eq!(count().await, before);

    // One audit record a run, signed like a share's: who, when, the source and the counts.
    let runs = custody(&f, &["--json", "audit", "--imports"]);
    assert_eq!(runs.code, 0, "{}{}", runs.stdout, runs.stderr);
    let runs = runs.json()["imports"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let newest: Value = serde_json::from_str(runs[0]["reason"].as_str().unwrap()).unwrap();
    assert_eq!(runs[0]["action"], "import");
    assert_eq!(newest["reason"], "cutover");
    assert_eq!(newest["alreadyThere"], 7, "{newest}");
    assert_eq!(newest["refused"].as_array().unwrap().len(), 3);
    assert!(
        newest["source"]
            .as_str()
            .unwrap()
            .starts_with("postgres://postgres@127.0.0.1:"),
        "{newest}"
    );

    // Verified: every importable row is what its slot serves, or older than what it serves.
    let verified = import_postgres(&f, &url, &["--verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
    assert_eq!(
        (
            verified.json()["same"].as_u64(),
            verified.json()["superseded"].as_u64()
        ),
        (Some(5), Some(2)),
        "{}",
        verified.stdout
    );
    // A row changed in the source after the import is caught, and named.
    db.execute(
        r#"UPDATE "CustodianBackupShare" SET "share" = $1 WHERE "id" = 'c02'"#,
        &[&share("gdrive-1-changed")],
    )
    .await
    .unwrap();
    let mismatch = import_postgres(&f, &url, &["--verify"]);
    assert_eq!(mismatch.code, 13, "{}", mismatch.stdout);
    let message = mismatch.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("{\"id\":\"c02\",\"reason\":\"not what its slot serves\"}"),
        "{message}"
    );
    assert!(
        !message.contains("\"c03\""),
        "only the changed row: {message}"
    );
    assert!(!mismatch.stdout.contains("0x5f3c"), "a share printed");
}

#[tokio::test]
async fn an_import_from_postgres_killed_halfway_resumes_where_it_stopped() {
    let f = Fixture::new().await;
    let (url, db) = local_aws::postgres::portal_database().await;
    let client = unique("resume");
    local_aws::postgres::add_user(&db, 1, Some(&client)).await;
    const ROWS: i32 = 600;
    db.execute(
        r#"INSERT INTO "CustodianBackupShare" ("id", "userId", "backupMethod", "share")
           SELECT 'r' || lpad(n::text, 4, '0'), 1, 'M' || n, '{"share":"' || n || '"}' FROM generate_series(1, $1) n"#,
        &[&ROWS],
    )
    .await
    .unwrap();
    let checkpoint = std::env::temp_dir().join(format!("{}.checkpoint", unique("import")));
    let checkpoint_arg = checkpoint.to_str().unwrap();
    let mut env = f.function_env("not-used-by-the-cli");
    env.push(("AWS_ENDPOINT_URL_STS", local_aws::aws_emulator::endpoint()));
    env.push(("HISTORY_RETENTION_DAYS", "0"));
    let mut first = std::process::Command::new(binary("custody"))
        .args([
            "--json",
            "import",
            "--from-postgres",
            &url,
            "--checkpoint",
            checkpoint_arg,
        ])
        .env_clear()
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed (SIGKILL: nothing tidies up) once its first checkpoint is written.
    while !checkpoint.exists() {
        if let Some(status) = first.try_wait().unwrap() {
            panic!("the import ended before its first checkpoint: {status}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let place = std::fs::read_to_string(&checkpoint).unwrap();
    assert!(place.starts_with("id:r"), "{place}");

    let resumed = import_postgres(&f, &url, &["--checkpoint", checkpoint_arg]);
    assert_eq!(resumed.code, 0, "{}{}", resumed.stdout, resumed.stderr);
    let report = resumed.json();
    assert_eq!(report["resumedAfterId"], place.trim_start_matches("id:"));
    let after_kill = report["rows"].as_u64().unwrap();
    assert!(after_kill < ROWS as u64, "it resumed: {report}");
    // Every row is served, whichever run stored it.
    let verified = import_postgres(&f, &url, &["--verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
    assert_eq!(verified.json()["same"], ROWS, "{}", verified.stdout);
}

#[tokio::test]
async fn the_way_back_puts_every_share_into_portals_schema_byte_for_byte() {
    let f = Fixture::new().await;
    let (url, db) = local_aws::postgres::portal_database().await;
    let (alice, bob, carol) = (unique("alice"), unique("bob"), unique("carol"));
    let share = |text: &str| format!("{{\"share\":\"0x5f3c-{text}\",\"é\":\"☃\"}}");
    for (id, client_id) in [(1, &alice), (2, &bob)] {
        local_aws::postgres::add_user(&db, id, Some(client_id)).await;
    }
    // The old database's share of alice's PASSWORD, from before the switch.
    db.execute(
        r#"INSERT INTO "CustodianBackupShare" ("id", "userId", "backupMethod", "share", "createdAt") VALUES ('old', 1, 'PASSWORD', $1, '2024-01-01')"#,
        &[&share("alice-old")],
    )
    .await
    .unwrap();
    // What Portal stored through this stack since: carol has no User row in the old database.
    let backup = Function::start(&binary("backup"), &f.function_env(DEV_SECRET)).await;
    for (client, method, pair, text) in [
        (&alice, "PASSWORD", None, "alice-new"),
        (&alice, "GDRIVE", Some("bsp_1"), "alice-g1"),
        (&bob, "ICLOUD", None, "bob-new"),
        (&carol, "PASSKEY", None, "carol"),
    ] {
        let body = json!({ "clientId": client, "backupMethod": method, "backupSharePairId": pair, "share": share(text) });
        let stored = backup
            .invoke(&rest_event("/backup", &body.to_string()).to_string())
            .await
            .unwrap();
        assert_eq!(stored["statusCode"], 200, "{stored}");
    }

    let file = std::env::temp_dir().join(format!("{}.jsonl", unique("way-back")));
    let file_arg = file.to_str().unwrap();
    let unconfirmed = custody(&f, &["--json", "export-all", "--to-jsonl", file_arg]);
    assert_eq!(unconfirmed.code, 4, "{}", unconfirmed.stdout);
    assert!(!file.exists());
    let args = [
        "--json",
        "export-all",
        "--to-jsonl",
        file_arg,
        "--write-shares",
        "--reason",
        "way back",
    ];
    let exported = custody(&f, &args);
    assert_eq!(exported.code, 0, "{}{}", exported.stdout, exported.stderr);
    assert_eq!(exported.json()["exported"], 4, "{}", exported.stdout);
    assert!(!exported.stdout.contains("0x5f3c") && !exported.stderr.contains("0x5f3c"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(custody(&f, &args).code, 2, "never over an existing file");
    let audit = custody(&f, &["--json", "audit", &bob, "ICLOUD"]).json();
    assert_eq!(audit["records"][0]["action"], "export", "{audit}");

    let load = || {
        let psql = std::env::var("PSQL").expect("PSQL: scripts/postgres.sh sets it");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/way-back.sql");
        let output = std::process::Command::new(psql)
            .args([&url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", script])
            .stdin(std::fs::File::open(&file).unwrap())
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    let listed = load();
    assert!(
        listed.contains(&carol),
        "a clientId without a User is named: {listed}"
    );
    let shares_of = |client: String| {
        let db = &db;
        async move {
            let rows = db
                .query(
                    r#"SELECT s."backupMethod", s."backupSharePairId", s."share" FROM "CustodianBackupShare" s
                       JOIN "User" u ON u."id" = s."userId" WHERE u."clientId" = $1 ORDER BY 1"#,
                    &[&client],
                )
                .await
                .unwrap();
            rows.iter()
                .map(|row| {
                    (
                        row.get::<_, String>(0),
                        row.get::<_, Option<String>>(1),
                        row.get::<_, String>(2),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let expected_alice = vec![
        (
            "GDRIVE".to_owned(),
            Some("bsp_1".to_owned()),
            share("alice-g1"),
        ),
        ("PASSWORD".to_owned(), None, share("alice-new")),
    ];
    assert_eq!(
        shares_of(alice.clone()).await,
        expected_alice,
        "the older row replaced"
    );
    assert_eq!(
        shares_of(bob.clone()).await,
        [("ICLOUD".to_owned(), None, share("bob-new"))]
    );
    // Loading the same file again changes nothing.
    load();
    assert_eq!(shares_of(alice).await, expected_alice);
    let total: i64 = db
        .query_one(r#"SELECT count(*) FROM "CustodianBackupShare""#, &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(total, 3);
}

#[tokio::test]
async fn a_share_that_is_not_utf8_is_refused_by_its_row_and_no_checkpoint_passes_it() {
    let f = Fixture::new().await;
    // A database that keeps any byte: the share of b2 is not UTF-8.
    let (url, db) = local_aws::postgres::database_in("SQL_ASCII").await;
    db.batch_execute(local_aws::postgres::PORTAL_SCHEMA)
        .await
        .unwrap();
    let client = unique("ascii");
    local_aws::postgres::add_user(&db, 1, Some(&client)).await;
    db.batch_execute(
        r#"INSERT INTO "CustodianBackupShare" ("id", "userId", "backupMethod", "share") VALUES
             ('b1', 1, 'M1', '{"share":"0x5f3c-1"}'),
             ('b2', 1, 'M2', E'{"share":"0x5f3c-\xff\xfe"}'),
             ('b3', 1, 'M3', '{"share":"0x5f3c-3"}')"#,
    )
    .await
    .unwrap();
    let checkpoint = std::env::temp_dir().join(format!("{}.checkpoint", unique("import")));
    let args = ["--checkpoint", checkpoint.to_str().unwrap()];
    for run in 0..2 {
        let imported = import_postgres(&f, &url, &args);
        assert_eq!(
            imported.code, 12,
            "run {run}: {}{}",
            imported.stdout, imported.stderr
        );
        let message = imported.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains("{\"id\":\"b2\",\"reason\":\"not UTF-8\"}"),
            "run {run}: {message}"
        );
        assert!(!message.contains("0x5f3c") && !imported.stderr.contains("0x5f3c"));
        // The checkpoint stops before the refused row, so the second run meets it again.
        assert_eq!(std::fs::read_to_string(&checkpoint).unwrap(), "id:b1");
    }
    let verified = import_postgres(&f, &url, &["--verify"]);
    assert_eq!(verified.json()["same"], 2, "{}", verified.stdout);
}
