//! The operator's jobs, through the real `custody` CLI binary against DynamoDB Local and the
//! KMS/STS emulator: list, history, restore, export and audit round trips, their errors and exit
//! codes, and that no output but an export's ever holds a share. The eject function's own
//! checks run with the `events/` files in `binaries.rs`; here it is driven with its audit trail.

use crate::support::put_row;
use aws_sdk_dynamodb::types::AttributeValue;
use custodian_backup::domain::Owner;
use custodian_backup::domain::Stored;
use custodian_backup::domain::custody::{ExpectCurrent, Kept};
use custodian_backup::domain::{Backup, BackupMethod, ClientId};
use custodian_backup::store::{Custody, ShareExporter, ShareReader, ShareWriter};
use local_aws::cli::{Run, custody, custody_with};
use local_aws::events::iam_event;
use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, aws_emulator, unique};
use serde_json::{Value, json};
use std::collections::HashMap;

const METHOD: &str = "GDRIVE-SECP256K1";

/// Three successive shares of METHOD (versions 1, 2, 3) in its pair-less slot, as the release
/// before pairs kept them, and one of PASSKEY-ED25519 (in its pair's slot).
struct Client {
    id: String,
    shares: Vec<String>,
    other: String,
}

async fn client_with_history(f: &Fixture) -> Client {
    let id = unique("operator-client");
    let share = |n: &str| format!(r#"{{"share":"0x{n}-{id}","backupSharePairId":"bsp_{n}"}}"#);
    let shares = vec![share("a1"), share("b2"), share("c3")];
    for (i, (text, pair)) in shares
        .iter()
        .zip(["bsp_a1", "bsp_b2", "bsp_c3"])
        .enumerate()
    {
        // Each pair replaced the one before, as the release before pairs stored them: the
        // history `restore --pair-id` brings a displaced pair back from.
        let body = json!({ "clientId": id, "backupMethod": METHOD, "share": text, "backupSharePairId": pair });
        let stored = f.put_before_pairs(&body).await;
        assert_eq!(
            stored,
            if i == 0 {
                Stored::Created
            } else {
                Stored::Replaced
            }
        );
    }
    let other = share("d4");
    put(f, &id, "PASSKEY-ED25519", &other).await;
    Client { id, shares, other }
}

async fn put(f: &Fixture, client_id: &str, method: &str, share: &str) -> Stored {
    let body = json!({ "clientId": client_id, "backupMethod": method, "share": share });
    let backup = Backup::from_json(body.to_string().as_bytes()).expect("a valid backup");
    f.store.put_share(&backup).await.expect("stored")
}

/// Fails if `run` shows any of `shares` anywhere.
fn assert_reveals_none(run: &Run, shares: &[&String]) {
    for share in shares {
        let marker = share.split('"').nth(3).expect("a share body");
        assert!(
            !run.stdout.contains(marker) && !run.stderr.contains(marker),
            "output shows a share:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
}

fn sha256(text: &str) -> String {
    custodian_backup::domain::Share::from(text.to_owned()).sha256_hex()
}

#[tokio::test]
async fn list_and_history_show_versions_hashes_and_sizes_and_never_a_share() {
    let f = Fixture::new().await;
    let c = client_with_history(&f).await;
    let all: Vec<&String> = c.shares.iter().chain([&c.other]).collect();

    let list = custody(&f, &["--json", "list", &c.id]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert_reveals_none(&list, &all);
    let listed = list.json();
    assert_eq!(listed["clientId"], c.id.as_str());
    let shares = listed["shares"].as_array().unwrap();
    let methods: Vec<_> = shares.iter().map(|s| &s["backupMethod"]).collect();
    assert_eq!(methods, [METHOD, "PASSKEY-ED25519"]);
    assert_eq!(shares[0]["version"], 3);
    assert_eq!(shares[0]["shareSha256"], sha256(&c.shares[2]));
    assert_eq!(shares[0]["shareBytes"], c.shares[2].len());
    assert_eq!(shares[0]["current"], true);
    assert!(
        shares[0]["storedAt"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z'))
    );

    let history = custody(&f, &["--json", "history", &c.id, METHOD]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    assert_reveals_none(&history, &all);
    let versions = history.json()["shares"].as_array().unwrap().clone();
    let numbers: Vec<_> = versions
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1], "newest first");
    for (version, share) in versions.iter().zip(c.shares.iter().rev()) {
        assert_eq!(version["shareSha256"], sha256(share));
    }
    assert_eq!(versions[0]["current"], true);
    assert_eq!(versions[1]["current"], false);
    assert!(versions[1]["replacedAt"].is_string());
    assert!(
        versions[1]["expiresAt"].is_null(),
        "kept forever by default"
    );

    // The tables people read: the same facts, still no share.
    let table = custody(&f, &["history", &c.id, METHOD]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert_reveals_none(&table, &all);
    assert_eq!(table.stdout.lines().count(), 4, "{}", table.stdout);
    assert!(table.stdout.contains(&sha256(&c.shares[0])));
}

#[tokio::test]
async fn export_needs_its_confirmation_flag_and_writes_the_audit_record_first() {
    let f = Fixture::new().await;
    let c = client_with_history(&f).await;

    let refused = custody(&f, &["export", &c.id, METHOD]);
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--print-share"),
        "{}",
        refused.stderr
    );
    assert_reveals_none(&refused, &c.shares.iter().collect::<Vec<_>>());
    let audit = custody(&f, &["--json", "audit", &c.id, METHOD]);
    assert_eq!(
        audit.json()["records"],
        json!([]),
        "nothing exported, nothing recorded"
    );

    let exported = custody(
        &f,
        &[
            "export",
            &c.id,
            METHOD,
            "--print-share",
            "--reason",
            "TICKET-42 eject",
        ],
    );
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    assert_eq!(
        exported.stdout,
        format!("{}\n", c.shares[2]),
        "the share alone, on stdout"
    );
    assert!(exported.stderr.contains("version 3"), "{}", exported.stderr);

    let old = custody(
        &f,
        &[
            "--json",
            "export",
            &c.id,
            METHOD,
            "--version",
            "1",
            "--print-share",
        ],
    );
    assert_eq!(old.code, 0, "{}", old.stderr);
    let old = old.json();
    assert_eq!(old["share"], c.shares[0].as_str());
    assert_eq!(old["version"], 1);
    assert_eq!(old["current"], false);

    let audit = custody(&f, &["--json", "audit", &c.id, METHOD]);
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    assert_reveals_none(&audit, &c.shares.iter().collect::<Vec<_>>());
    let records = audit.json()["records"].as_array().unwrap().clone();
    assert_eq!(records.len(), 2, "{records:?}");
    let (newest, first) = (&records[0], &records[1]);
    assert_eq!(newest["shareVersion"], 1);
    assert_eq!(first["shareVersion"], 3);
    assert_eq!(first["action"], "export");
    assert_eq!(first["via"], "cli");
    assert_eq!(first["reason"], "TICKET-42 eject");
    assert_eq!(first["shareSha256"], sha256(&c.shares[2]));
    let actor = first["actor"].as_str().unwrap();
    assert!(
        actor.starts_with("arn:aws:"),
        "the caller from STS: {actor}"
    );
    // The other method's trail is its own.
    let other = custody(&f, &["--json", "audit", &c.id, "PASSKEY-ED25519"]);
    assert_eq!(other.json()["records"], json!([]));
}

#[tokio::test]
async fn restore_brings_back_a_kept_share_keeps_the_one_it_replaces_and_is_safe_to_repeat() {
    let f = Fixture::new().await;
    let c = client_with_history(&f).await;
    let client_id = ClientId::parse(&c.id).unwrap();
    let method = BackupMethod::parse(METHOD).unwrap();

    let restored = custody(
        &f,
        &[
            "--json",
            "restore",
            &c.id,
            METHOD,
            "1",
            "--expect-current",
            "3",
            "--reason",
            "bad re-backup",
        ],
    );
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    assert_reveals_none(&restored, &c.shares.iter().collect::<Vec<_>>());
    assert_eq!(
        restored.json(),
        json!({ "result": "restored", "from": 1, "version": 4, "clientId": c.id, "backupMethod": METHOD })
    );
    // What Portal's /backup/fetch now returns: the first share, and the other method's.
    let mut current: Vec<String> = f
        .store
        .current_shares(&client_id)
        .await
        .unwrap()
        .shares
        .into_iter()
        .map(|s| s.share.expose_secret().to_owned())
        .collect();
    current.sort();
    let mut expected = vec![c.shares[0].clone(), c.other.clone()];
    expected.sort();
    assert_eq!(current, expected);

    // The share it replaced (version 3) is in history, whole.
    let history = f.scan(&f.tables.history).await;
    let kept = history
        .iter()
        .find(|item| {
            item.get("version")
                .and_then(|v| v.as_n().ok())
                .map(String::as_str)
                == Some("3")
        })
        .expect("version 3 kept");
    assert_eq!(f.share_in(kept).await, c.shares[2]);

    let again = custody(
        &f,
        &[
            "--json",
            "restore",
            &c.id,
            METHOD,
            "1",
            "--expect-current",
            "4",
        ],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["result"], "alreadyCurrent");
    assert_eq!(again.json()["version"], 4);
    let of_current = custody(&f, &["--json", "restore", &c.id, METHOD, "4", "--force"]);
    assert_eq!(of_current.json()["result"], "alreadyCurrent");

    let versions = custody(&f, &["--json", "history", &c.id, METHOD]).json();
    let versions = versions["shares"].as_array().unwrap();
    assert_eq!(
        versions.len(),
        4,
        "a repeated restore changes nothing: {versions:?}"
    );
    assert_eq!(versions[0]["restoredFrom"], 1);
    assert_eq!(versions[0]["shareSha256"], sha256(&c.shares[0]));

    // Portal's next backup replaces the restored share as usual, and keeps it in history.
    assert_eq!(
        put(&f, &c.id, METHOD, r#"{"share":"0xe5"}"#).await,
        Stored::Replaced
    );
    let owner = Owner::new(&client_id, &method, None);
    let after = f.store.history(owner).await.unwrap();
    assert_eq!(
        after.iter().map(|r| r.version).collect::<Vec<_>>(),
        [5, 4, 3, 2, 1]
    );

    // One audit record: the restore that changed something.
    let audit = custody(&f, &["--json", "audit", &c.id, METHOD]).json();
    let records = audit["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["action"], "restore");
    assert_eq!(records[0]["reason"], "bad re-backup");
}

#[tokio::test]
async fn unknown_clients_methods_and_versions_are_clear_errors_with_their_exit_codes() {
    let f = Fixture::new().await;
    let c = client_with_history(&f).await;
    let nobody = unique("nobody");
    let cases: [(&[&str], i32, &str); 7] = [
        (&["list", &nobody], 3, "unknown_client"),
        (&["history", &nobody, METHOD], 3, "unknown_client"),
        (
            &["history", &c.id, "ICLOUD-SECP256K1"],
            3,
            "unknown_backup_method",
        ),
        (
            &["restore", &c.id, METHOD, "9", "--force"],
            3,
            "unknown_version",
        ),
        (
            &["export", &c.id, METHOD, "--version", "9", "--print-share"],
            3,
            "unknown_version",
        ),
        (
            &["export", &nobody, METHOD, "--print-share"],
            3,
            "unknown_client",
        ),
        (&["list", ""], 2, "invalid_argument"),
    ];
    for (args, code, error) in cases {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        let run = custody(&f, &with_json);
        assert_eq!(run.code, code, "{args:?}: {}{}", run.stdout, run.stderr);
        let body = run.json();
        assert_eq!(body["error"]["code"], error, "{args:?}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().len() > 20,
            "{body}"
        );
        let plain = custody(&f, args);
        assert_eq!(plain.code, code);
        assert!(plain.stderr.starts_with("custody: "), "{}", plain.stderr);
        assert!(plain.stdout.is_empty(), "{}", plain.stdout);
    }
    // Nothing was changed or recorded by any of them.
    let history = custody(&f, &["--json", "history", &c.id, METHOD]).json();
    assert_eq!(history["shares"].as_array().unwrap().len(), 3);
    assert_eq!(
        custody(&f, &["--json", "audit", &c.id, METHOD]).json()["records"],
        json!([])
    );

    // Usage errors are clap's (exit 2); a missing table name is a configuration error (exit 1).
    assert_eq!(
        custody(&f, &["restore", &c.id, METHOD, "latest", "--force"]).code,
        2
    );
    let unconfigured = custody_with(&[("HISTORY_RETENTION_DAYS", "0")], &["list", &c.id]);
    assert_eq!(unconfigured.code, 1);
    assert!(unconfigured.stderr.contains("SHARE_KEY_ID"));
}

#[tokio::test]
async fn the_eject_binary_returns_the_current_share_to_an_iam_caller_and_records_who_asked() {
    let f = Fixture::new().await;
    let c = client_with_history(&f).await;
    let eject = Function::start(&binary("eject"), &f.function_env("unused")).await;
    let arn = "arn:aws:sts::123456789012:assumed-role/wallet-backend/eject-worker";
    let request = |client: &str, method: &str, caller: Option<&str>, http_method: &str| {
        let resource = "/clients/{clientId}/custodian-shares/{backupMethod}";
        let parameters = [("clientId", client), ("backupMethod", method)];
        iam_event(http_method, resource, &parameters, caller, None).to_string()
    };
    let answer = |outcome: Result<Value, Value>| {
        let response = outcome.expect("no function error");
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        (response["statusCode"].as_u64().unwrap(), body)
    };

    let (status, body) = answer(
        eject
            .invoke(&request(&c.id, METHOD, Some(arn), "GET"))
            .await,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["share"], c.shares[2].as_str());
    assert_eq!(body["version"], 3);

    let refusals = [
        (
            request(&c.id, METHOD, None, "GET"),
            403,
            "no_caller_identity",
        ),
        (
            request(&c.id, METHOD, Some(arn), "POST"),
            405,
            "method_not_allowed",
        ),
        (
            request(&unique("nobody"), METHOD, Some(arn), "GET"),
            404,
            "unknown_client",
        ),
        (
            request(&c.id, "ICLOUD-SECP256K1", Some(arn), "GET"),
            404,
            "unknown_backup_method",
        ),
    ];
    for (event, expected, code) in refusals {
        let (status, body) = answer(eject.invoke(&event).await);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (expected, Some(code)),
            "{body}"
        );
        assert!(body.get("share").is_none());
    }

    let audit = custody(&f, &["--json", "audit", &c.id, METHOD]).json();
    let records = audit["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "only the answered request: {records:?}");
    assert_eq!(records[0]["actor"], arn);
    assert_eq!(records[0]["via"], "eject-endpoint");
    assert_eq!(records[0]["shareVersion"], 3);

    let logs = eject
        .output_when(|logs| logs.matches("\"message\":\"request\"").count() >= 5)
        .await;
    for share in &c.shares {
        assert!(
            !logs.contains(share.split('"').nth(3).unwrap()),
            "logs show a share:\n{logs}"
        );
    }
    assert!(logs.contains(arn), "the log line names the caller:\n{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restores_racing_portals_backups_lose_no_share() {
    let f = Fixture::new().await;
    let c = client_with_history(&f).await;
    let client_id = ClientId::parse(&c.id).unwrap();
    let method = BackupMethod::parse(METHOD).unwrap();
    let owner = Owner::new(&client_id, &method, None);
    let actor = custodian_backup::domain::custody::Actor {
        arn: "arn:aws:iam::123456789012:user/operator".into(),
        via: custodian_backup::domain::custody::Via::Cli,
        reason: None,
    };
    let fresh: Vec<String> = (0..10)
        .map(|n| format!(r#"{{"share":"0xf{n}"}}"#))
        .collect();
    let kept = [Kept::Version(1), Kept::Version(2)];
    let restores = (0..10).map(|n| {
        f.store
            .restore(owner, &kept[n % 2], ExpectCurrent::Anything, &actor)
    });
    let backups = fresh.iter().map(|share| put(&f, &c.id, METHOD, share));
    let (restored, _) = tokio::join!(
        futures_util::future::join_all(restores),
        futures_util::future::join_all(backups)
    );
    for result in restored {
        result.expect("a restore racing backups ends, one way or the other, without error");
    }
    // Every share ever acknowledged is current or kept, and each version is one share.
    let versions = f.store.history(owner).await.unwrap();
    let kept: std::collections::BTreeSet<_> =
        versions.iter().map(|v| v.share_sha256.clone()).collect();
    for share in c.shares.iter().chain(&fresh) {
        assert!(kept.contains(&sha256(share)), "a share was lost: {share}");
    }
    let numbers: Vec<u64> = versions.iter().map(|v| v.version).collect();
    let every: Vec<u64> = (1..=numbers[0]).rev().collect();
    assert_eq!(numbers, every, "every version kept once, newest first");
}

#[tokio::test]
async fn a_restore_never_displaces_a_share_that_changed_since_the_operator_looked() {
    let f = Fixture::new().await;
    let c = client_with_history(&f).await;
    let client_id = ClientId::parse(&c.id).unwrap();
    let fetched = || async {
        let found = f.store.current_shares(&client_id).await.unwrap();
        found
            .shares
            .into_iter()
            .find(|s| s.backup_method.as_str() == METHOD)
            .map(|s| s.share.expose_secret().to_owned())
    };

    // Neither the current version seen nor --force: clap refuses (usage, exit 2).
    assert_eq!(custody(&f, &["restore", &c.id, METHOD, "1"]).code, 2);
    // Portal stores a newer, good share (version 4) while the operator decides.
    let newer = r#"{"share":"0xnewer-good-share"}"#;
    assert_eq!(put(&f, &c.id, METHOD, newer).await, Stored::Replaced);
    let stale = custody(
        &f,
        &[
            "--json",
            "restore",
            &c.id,
            METHOD,
            "1",
            "--expect-current",
            "3",
        ],
    );
    assert_eq!(stale.code, 7, "{}{}", stale.stdout, stale.stderr);
    assert_eq!(stale.json()["error"]["code"], "current_changed");
    assert_eq!(fetched().await.as_deref(), Some(newer), "nothing displaced");
    let none = custody(
        &f,
        &[
            "--json",
            "restore",
            &c.id,
            METHOD,
            "1",
            "--expect-current",
            "none",
        ],
    );
    assert_eq!(none.code, 7);

    // By the pair id Portal sent with it: version 2's share comes back, above version 4.
    let by_pair = custody(
        &f,
        &[
            "--json",
            "restore",
            &c.id,
            METHOD,
            "--pair-id",
            "bsp_b2",
            "--expect-current",
            "4",
        ],
    );
    assert_eq!(by_pair.code, 0, "{}", by_pair.stderr);
    assert_eq!(by_pair.json()["from"], 2);
    assert_eq!(by_pair.json()["version"], 5);
    assert_eq!(fetched().await.as_deref(), Some(c.shares[1].as_str()));
    let unknown_pair = custody(
        &f,
        &[
            "--json",
            "restore",
            &c.id,
            METHOD,
            "--pair-id",
            "bsp_zz",
            "--force",
        ],
    );
    assert_eq!(
        (
            unknown_pair.code,
            unknown_pair.json()["error"]["code"].clone()
        ),
        (3, json!("unknown_pair_id"))
    );

    // The retention must come from the stack: the CLI never assumes one.
    let mut env = f.function_env("unused");
    env.push(("AWS_ENDPOINT_URL_STS", aws_emulator::endpoint()));
    let unset = custody_with(&env, &["list", &c.id]);
    assert_eq!(unset.code, 1);
    assert!(unset.stderr.contains("HISTORY_RETENTION_DAYS"));
}

#[tokio::test]
async fn audit_records_go_to_the_audit_table_only_and_are_never_overwritten() {
    let f = Fixture::new().await;
    let c = client_with_history(&f).await;
    for _ in 0..3 {
        let run = custody(&f, &["--json", "export", &c.id, METHOD, "--print-share"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let audit = f.scan(&f.tables.audit).await;
    let records = audit
        .iter()
        .filter(|item| item["recordedAt"].as_n().unwrap() != "0");
    assert_eq!(records.count(), 3, "three exports, three records");
    assert_eq!(audit.len(), 4, "and the share's head item");
    let history = f.scan(&f.tables.history).await;
    assert_eq!(history.len(), 2, "history holds versions 1 and 2 only");
    assert!(history.iter().all(|item| item.contains_key("sealedShare")));
}

#[tokio::test]
async fn the_eject_binary_returns_every_current_share_and_falls_back_to_the_legacy_one() {
    let f = Fixture::new().await;
    let c = client_with_history(&f).await;
    let legacy_client = unique("legacy-client");
    let legacy = r#"{"share":"0xlegacy-v5"}"#;
    let body = json!({ "clientId": legacy_client, "share": legacy });
    let backup = Backup::from_json(body.to_string().as_bytes()).unwrap();
    f.store.put_share(&backup).await.unwrap();
    let eject = Function::start(&binary("eject"), &f.function_env("unused")).await;
    let arn = "arn:aws:sts::123456789012:assumed-role/wallet-backend/eject-worker";
    let invoke = |client: &str, method: Option<&str>| {
        let event = match method {
            Some(method) => {
                let resource = "/clients/{clientId}/custodian-shares/{backupMethod}";
                let parameters = [("clientId", client), ("backupMethod", method)];
                iam_event("GET", resource, &parameters, Some(arn), None)
            }
            None => {
                let resource = "/clients/{clientId}/custodian-shares";
                iam_event("GET", resource, &[("clientId", client)], Some(arn), None)
            }
        };
        let eject = &eject;
        async move {
            let response = eject.invoke(&event.to_string()).await.expect("a response");
            let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
            (response["statusCode"].as_u64().unwrap(), body)
        }
    };

    let (status, all) = invoke(&c.id, None).await;
    assert_eq!(status, 200, "{all}");
    let shares: Vec<(&str, &str)> = all["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["backupMethod"].as_str().unwrap(),
                s["share"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shares,
        [
            (METHOD, c.shares[2].as_str()),
            ("PASSKEY-ED25519", c.other.as_str())
        ],
        "both curves"
    );
    let (status, one) = invoke(&legacy_client, Some("GDRIVE-SECP256K1")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(
        (one["backupMethod"].as_str(), one["share"].as_str()),
        (Some("UNKNOWN"), Some(legacy)),
        "the legacy share stands in for a client backed up before multi-backup"
    );
    let (status, missing) = invoke(&c.id, Some("ICLOUD-SECP256K1")).await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (404, Some("unknown_backup_method"))
    );
    // Each share returned has its own audit record.
    let audit = [
        "--json",
        "audit",
        &c.id,
        "PASSKEY-ED25519",
        "--pair",
        "bsp_d4",
    ];
    let records = custody(&f, &audit).json();
    assert_eq!(records["records"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_audit_trail_is_a_chain_and_a_record_rewritten_with_a_raw_put_breaks_it() {
    let f = Fixture::new().await;
    let c = client_with_history(&f).await;
    let mut witnessed = Vec::new();
    for reason in ["TICKET-1", "TICKET-2", "TICKET-3"] {
        let args = ["export", &c.id, METHOD, "--print-share", "--reason", reason];
        let exported = custody(&f, &args);
        assert_eq!(exported.code, 0, "{}", exported.stderr);
        // The digest of the record just written, on stderr: a copy outside the table.
        let line = exported
            .stderr
            .lines()
            .find(|line| line.starts_with("audit record "))
            .unwrap();
        witnessed.push(line.rsplit(' ').next().unwrap().to_owned());
    }
    let audit = custody(&f, &["--json", "audit", &c.id, METHOD]);
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    let records = audit.json()["records"].as_array().unwrap().clone();
    let digests: Vec<&str> = records
        .iter()
        .rev()
        .map(|r| r["digest"].as_str().unwrap())
        .collect();
    assert_eq!(
        digests,
        witnessed.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let (oldest, middle, newest) = (&records[2], &records[1], &records[0]);
    assert_eq!(oldest["previousDigest"], "");
    assert_eq!(middle["previousDigest"], oldest["digest"]);
    assert_eq!(
        records
            .iter()
            .map(|r| r["sequence"].as_u64())
            .collect::<Vec<_>>(),
        [Some(3), Some(2), Some(1)]
    );

    // Someone with PutItem on the audit table (an operator, the eject role) but without the
    // audit key's GenerateMac: each rewrite below is put back before the next.
    let pristine = f.scan(&f.tables.audit).await;
    let broken_at = |f: &Fixture, expected: &Value| {
        let broken = custody(f, &["--json", "audit", &c.id, METHOD]);
        assert_eq!(broken.code, 6, "{}", broken.stdout);
        let error = &broken.json()["error"];
        assert_eq!(error["code"], "audit_chain_broken");
        let message = error["message"].as_str().unwrap().to_owned();
        assert!(message.contains(expected.as_str().unwrap()), "{message}");
    };
    // 1. The newest record's reason rewritten in place (its digest kept).
    let mut rewritten = record_item(&pristine, &c.id, newest);
    rewritten.insert("reason".into(), AttributeValue::S("nothing to see".into()));
    put_audit(&f, rewritten).await;
    broken_at(&f, &newest["recordedAt"]);
    restore_audit(&f, &pristine).await;
    // 2. The oldest one's, the chain after it left alone.
    let mut rewritten = record_item(&pristine, &c.id, oldest);
    rewritten.insert("reason".into(), AttributeValue::S("nothing to see".into()));
    put_audit(&f, rewritten).await;
    broken_at(&f, &oldest["recordedAt"]);
    restore_audit(&f, &pristine).await;
    // 3. The whole chain rebuilt: every reason changed, every digest recomputed and re-linked,
    //    the head moved along (all a PutItem can do without the key: SHA-256 in place of MACs).
    let mut previous = String::new();
    for record in records.iter().rev() {
        let mut item = record_item(&pristine, &c.id, record);
        item.insert("reason".into(), AttributeValue::S("rebuilt".into()));
        item.insert("previousDigest".into(), AttributeValue::S(previous.clone()));
        let digest = custodian_backup::store::dynamodb::audit_item::audit_digest(&item);
        item.insert("digest".into(), AttributeValue::S(digest.clone()));
        put_audit(&f, item).await;
        previous = digest;
    }
    let mut head = pristine
        .iter()
        .find(|item| item["recordedAt"].as_n().unwrap() == "0")
        .unwrap()
        .clone();
    head.insert("digest".into(), AttributeValue::S(previous));
    put_audit(&f, head).await;
    broken_at(&f, &oldest["recordedAt"]);
    restore_audit(&f, &pristine).await;
    // 4. The newest record removed.
    let newest_item = record_item(&pristine, &c.id, newest);
    f.client
        .delete_item()
        .table_name(&f.tables.audit)
        .key("shareKey", newest_item["shareKey"].clone())
        .key("recordedAt", newest_item["recordedAt"].clone())
        .send()
        .await
        .unwrap();
    broken_at(&f, &middle["recordedAt"]);
    restore_audit(&f, &pristine).await;
    assert_eq!(custody(&f, &["--json", "audit", &c.id, METHOD]).code, 0);
}

/// The audit item of `record` (as `custody audit` printed it) among `items`.
fn record_item(
    items: &[HashMap<String, AttributeValue>],
    client: &str,
    record: &Value,
) -> HashMap<String, AttributeValue> {
    let owner = json!([client, METHOD]).to_string();
    items
        .iter()
        .find(|item| {
            item["shareKey"].as_s().ok() == Some(&owner)
                && item["recordedAt"].as_n().ok().map(String::as_str)
                    == record["recordedAt"].as_str()
        })
        .expect("the record's item")
        .clone()
}

async fn put_audit(f: &Fixture, item: HashMap<String, AttributeValue>) {
    put_row(&f.client, &f.tables.audit, item).await;
}

/// Puts every item of `pristine` back as it was.
async fn restore_audit(f: &Fixture, pristine: &[HashMap<String, AttributeValue>]) {
    for item in pristine {
        put_audit(f, item.clone()).await;
    }
}

#[tokio::test]
async fn a_writer_whose_clock_is_an_hour_behind_never_breaks_the_audit_trail() {
    let f = Fixture::new().await;
    let c = client_with_history(&f).await;
    // The eject function (Lambda's clock) writes first; then an operator's laptop an hour behind.
    let export = [
        "export",
        &c.id,
        METHOD,
        "--print-share",
        "--reason",
        "on time",
    ];
    assert_eq!(custody(&f, &export).code, 0);
    let late = f
        .store_with_clock(|| std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .await;
    let actor = custodian_backup::domain::custody::Actor {
        arn: "arn:aws:iam::123456789012:user/laptop".into(),
        via: custodian_backup::domain::custody::Via::Cli,
        reason: Some("an hour behind".into()),
    };
    let (client_id, method) = (
        ClientId::parse(&c.id).unwrap(),
        BackupMethod::parse(METHOD).unwrap(),
    );
    let owner = Owner::new(&client_id, &method, None);
    late.export(owner, None, &actor).await.expect("the export");
    assert_eq!(custody(&f, &export).code, 0);
    let audit = custody(&f, &["--json", "audit", &c.id, METHOD]);
    assert_eq!(audit.code, 0, "{}", audit.stdout);
    let records = audit.json();
    let reasons: Vec<&str> = records["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["on time", "an hour behind", "on time"],
        "newest first, by sequence"
    );
}

/// Records as releases before 0.4.0 wrote them: no sequence, a plain SHA-256 chain.
fn legacy_record(
    client: &str,
    recorded_at: u64,
    previous: &str,
) -> HashMap<String, AttributeValue> {
    let s = |text: &str| AttributeValue::S(text.to_owned());
    HashMap::from([
        (
            "shareKey".to_owned(),
            s(&json!([client, METHOD]).to_string()),
        ),
        (
            "recordedAt".to_owned(),
            AttributeValue::N(recorded_at.to_string()),
        ),
        ("action".to_owned(), s("export")),
        (
            "actor".to_owned(),
            s("arn:aws:iam::123456789012:user/before"),
        ),
        ("via".to_owned(), s("cli")),
        ("at".to_owned(), s("2026-11-01T00:00:00Z")),
        ("shareVersion".to_owned(), AttributeValue::N("3".into())),
        ("shareSha256".to_owned(), s(&"0".repeat(64))),
        ("previousDigest".to_owned(), s(previous)),
    ])
}

#[tokio::test]
async fn records_from_before_signing_are_anchored_by_the_first_signed_one() {
    use custodian_backup::store::dynamodb::audit_item::audit_digest;
    let f = Fixture::new().await;
    let c = client_with_history(&f).await;
    let first = legacy_record(&c.id, 1_000, "");
    let second = legacy_record(&c.id, 2_000, &audit_digest(&first));
    for item in [&first, &second] {
        put_audit(&f, item.clone()).await;
    }
    let export = [
        "export",
        &c.id,
        METHOD,
        "--print-share",
        "--reason",
        "after",
    ];
    assert_eq!(custody(&f, &export).code, 0);
    let audit = custody(&f, &["--json", "audit", &c.id, METHOD]);
    assert_eq!(audit.code, 0, "{}", audit.stdout);
    let records = audit.json()["records"].as_array().unwrap().clone();
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[0]["previousDigest"].as_str(),
        Some(audit_digest(&second).as_str())
    );

    // A made-up record among the old ones, chained to the first as the old rule allowed.
    let made_up = legacy_record(&c.id, 1_500, &audit_digest(&first));
    put_audit(&f, made_up).await;
    let broken = custody(&f, &["--json", "audit", &c.id, METHOD]);
    assert_eq!(broken.code, 6, "{}", broken.stdout);
    assert!(
        broken.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1500")
    );
}
