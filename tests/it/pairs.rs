//! Backup share pairs against DynamoDB Local and the real binaries: a share's identity is
//! (clientId, backupMethod, backupSharePairId), a new pair never displaces another pair's share,
//! the shares stored before pairs stay served after the upgrade, and `custody reconcile` proves
//! against Portal's Custodian API (a stand-in) that every completed pair is held.

use aws_sdk_dynamodb::types::AttributeValue;
use custodian_backup::domain::{Backup, Stored};
use custodian_backup::http as webhook;
use custodian_backup::store::ShareWriter;
use custodian_backup::store::dynamodb::schema;
use local_aws::cli::{Run, custody, custody_with};
use local_aws::custodian_api::{self, CustodianApi};
use local_aws::events::{DEV_SECRET, rest_event};
use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, aws_emulator, template, unique};
use serde_json::{Value, json};

/// A share as Portal makes it: JSON text that names its own pair.
fn share_of(pair: &str, n: u32) -> String {
    json!({ "clientId": "c", "backupSharePairId": pair, "share": format!("0x{n:04x}") }).to_string()
}

/// The real `/backup` and `/backup/fetch` binaries on one fixture's tables.
struct Webhooks {
    backup: Function,
    fetch: Function,
}

impl Webhooks {
    async fn start(f: &Fixture) -> Self {
        let env = f.function_env(DEV_SECRET);
        Self {
            backup: Function::start(&binary("backup"), &env).await,
            fetch: Function::start(&binary("backup-fetch"), &env).await,
        }
    }

    async fn backup(&self, body: Value) -> (u64, Value) {
        answer(&self.backup, "/backup", body).await
    }

    /// The shares `/backup/fetch` returns, in its order.
    async fn fetch(&self, client_id: &str) -> Vec<String> {
        let (status, body) = answer(
            &self.fetch,
            "/backup/fetch",
            json!({ "clientId": client_id }),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let shares = body["backupShares"].as_array().expect("backupShares");
        shares
            .iter()
            .map(|share| share.as_str().unwrap().to_owned())
            .collect()
    }
}

async fn answer(function: &Function, path: &str, body: Value) -> (u64, Value) {
    let event = rest_event(path, &body.to_string());
    let response = function
        .invoke(&event.to_string())
        .await
        .expect("no function error");
    let body = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    (response["statusCode"].as_u64().unwrap(), body)
}

/// The sort keys of a client's current items.
async fn slots(f: &Fixture, client_id: &str) -> Vec<String> {
    let items = f.scan(&f.tables.shares).await;
    let mut slots: Vec<String> = items
        .iter()
        .filter(|item| item[schema::CLIENT_ID].as_s().unwrap() == client_id)
        .map(|item| item[schema::BACKUP_METHOD].as_s().unwrap().clone())
        .collect();
    slots.sort();
    slots
}

#[tokio::test]
async fn a_re_backup_whose_client_step_fails_never_costs_the_earlier_pairs_recovery() {
    let f = Fixture::new().await;
    let portal = Webhooks::start(&f).await;
    let client_id = unique("cli");
    let (a, b) = (share_of("bsp_A", 1), share_of("bsp_B", 2));
    // Pair A completes; the user backs up again, and pair B's client step fails. Portal sent both
    // custodian halves, the first with the pair id in the body, the second only inside the share.
    let body = json!({ "clientId": client_id, "backupMethod": "PASSWORD-SECP256K1", "share": a, "backupSharePairId": "bsp_A" });
    assert_eq!(portal.backup(body).await.1["result"], "created");
    let body = json!({ "clientId": client_id, "backupMethod": "PASSWORD-SECP256K1", "share": b });
    assert_eq!(portal.backup(body.clone()).await.1["result"], "created");
    // Recovery with pair A finds its custodian share; B's is there too, newest first.
    assert_eq!(portal.fetch(&client_id).await, [b.clone(), a.clone()]);
    // The same pair again is the same share: unchanged, then replaced by a new share of it.
    assert_eq!(portal.backup(body).await.1["result"], "unchanged");
    let b2 = share_of("bsp_B", 3);
    let body = json!({ "clientId": client_id, "backupMethod": "PASSWORD-SECP256K1", "share": b2 });
    assert_eq!(portal.backup(body).await.1["result"], "replaced");
    assert_eq!(portal.fetch(&client_id).await, [b2, a]);
    assert_eq!(
        slots(&f, &client_id).await,
        [
            "PASSWORD-SECP256K1\u{1f}bsp_A",
            "PASSWORD-SECP256K1\u{1f}bsp_B"
        ]
    );
    assert_eq!(
        f.scan(&f.tables.history).await.len(),
        1,
        "B's first share, kept"
    );
}

#[tokio::test]
async fn the_bodys_pair_id_wins_over_the_shares_own_and_no_pair_anywhere_keeps_the_methods_slot() {
    let f = Fixture::new().await;
    let portal = Webhooks::start(&f).await;
    let client_id = unique("cli");
    let body = json!({ "clientId": client_id, "backupMethod": "GDRIVE", "share": share_of("bsp_inside", 1), "backupSharePairId": "bsp_body" });
    assert_eq!(portal.backup(body).await.0, 200);
    for share in ["plain share", "another plain share"] {
        let body = json!({ "clientId": client_id, "share": share });
        assert_eq!(portal.backup(body).await.0, 200);
    }
    assert_eq!(
        slots(&f, &client_id).await,
        ["GDRIVE\u{1f}bsp_body", "UNKNOWN"],
        "a legacy backup without a pair id replaces in the UNKNOWN slot, as before"
    );
    // The log reader runs beside the process: wait for the lines, never race them.
    let logs = portal
        .backup
        .output_when(|logs| logs.contains(r#""PairIdMismatches":1"#))
        .await;
    assert!(logs.contains(r#""pair_id_disagrees":true"#), "{logs}");
    assert!(logs.contains(r#""PairIdMismatches":1"#), "counted:\n{logs}");
    assert!(!logs.contains("0x0001"), "a share in the logs:\n{logs}");
}

#[tokio::test]
async fn separators_inside_a_method_or_a_pair_id_never_collide() {
    let f = Fixture::new().await;
    let portal = Webhooks::start(&f).await;
    let client_id = unique("cli");
    let owners = [
        ("A#B", None),
        ("A", Some("B")),
        ("A", Some("#B")),
        ("A#", Some("B")),
        ("A/B", None),
    ];
    let mut sent = Vec::new();
    for (n, (method, pair)) in owners.iter().enumerate() {
        let share = format!("share {n}");
        let mut body = json!({ "clientId": client_id, "backupMethod": method, "share": share });
        if let Some(pair) = pair {
            body["backupSharePairId"] = (*pair).into();
        }
        assert_eq!(
            portal.backup(body).await.1["result"],
            "created",
            "{method} {pair:?}"
        );
        sent.insert(0, share);
    }
    assert_eq!(portal.fetch(&client_id).await, sent);
}

#[tokio::test]
async fn fetch_returns_every_pair_across_dynamodb_pages() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    // 40 KB each: 60 of them are more than two 1 MB pages of a Query.
    let padding = "p".repeat(40 * 1024);
    for n in 0..60 {
        let share =
            json!({ "backupSharePairId": format!("bsp_{n}"), "padding": padding }).to_string();
        let body = json!({ "clientId": client_id, "backupMethod": "PASSWORD", "share": share });
        let backup = Backup::from_json(body.to_string().as_bytes()).unwrap();
        assert_eq!(f.store.put_share(&backup).await.unwrap(), Stored::Created);
    }
    let portal = Webhooks::start(&f).await;
    let fetched = portal.fetch(&client_id).await;
    assert_eq!(fetched.len(), 60);
    assert!(fetched[0].contains("\"bsp_59\""), "newest first");
    assert!(fetched[59].contains("\"bsp_0\""));
}

/// A client with more shares than one answer holds (Lambda's 6 MB) is answered with its newest,
/// never with an error that would block every recovery; the oldest are counted as left out.
#[tokio::test]
async fn a_client_whose_shares_exceed_one_answer_gets_its_newest() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    // As large as a request may be (256 KB): 34 of them are more than 6 MB.
    let padding = "p".repeat(255 * 1024);
    let total = 34;
    for n in 0..total {
        let share =
            json!({ "backupSharePairId": format!("bsp_{n}"), "padding": padding }).to_string();
        let body = json!({ "clientId": client_id, "backupMethod": "PASSWORD", "share": share });
        let backup = Backup::from_json(body.to_string().as_bytes()).unwrap();
        assert_eq!(f.store.put_share(&backup).await.unwrap(), Stored::Created);
    }
    let portal = Webhooks::start(&f).await;
    let fetched = portal.fetch(&client_id).await;
    let share_bytes = fetched[0].len() + 8;
    let fit = (webhook::MAX_ANSWER_BYTES - 64) / share_bytes;
    assert_eq!(fetched.len(), fit, "the newest that fit one answer");
    assert!(
        fetched[0].contains(&format!("\"bsp_{}\"", total - 1)),
        "newest first"
    );
    let left_out = format!(r#""SharesLeftOut":{}"#, total - fit);
    let logs = portal
        .fetch
        .output_when(|logs| logs.contains(&left_out))
        .await;
    assert!(logs.contains(&left_out), "counted:\n{logs}");
}

/// How many of Portal's shares one client may hold before a fetch leaves any out, measured on the
/// real binary's response: printed, and far more than a user backs up.
#[tokio::test]
async fn hundreds_of_portal_sized_shares_fit_one_answer() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    let stored = 100;
    for _ in 0..stored {
        let share = portal_sim::share::realistic(&client_id, "SECP256K1");
        let body =
            json!({ "clientId": client_id, "backupMethod": "PASSWORD-SECP256K1", "share": share });
        let backup = Backup::from_json(body.to_string().as_bytes()).unwrap();
        assert_eq!(f.store.put_share(&backup).await.unwrap(), Stored::Created);
    }
    let portal = Webhooks::start(&f).await;
    let event = rest_event(
        "/backup/fetch",
        &json!({ "clientId": client_id }).to_string(),
    );
    let response = portal.fetch.invoke(&event.to_string()).await.unwrap();
    let response_bytes = response.to_string().len();
    let per_share = response_bytes / stored;
    let fit = local_aws::runtime_api::LAMBDA_RESPONSE_BYTES / per_share;
    eprintln!(
        "{stored} Portal-sized shares: a {response_bytes}-byte response, {per_share} bytes each: {fit} fit Lambda's 6 MB"
    );
    assert!(fit >= 500, "{fit}");
}

#[tokio::test]
async fn shares_stored_before_pairs_stay_served_and_a_new_pair_never_displaces_them() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    // What the release before pairs wrote: one share per method, the body's pair id beside it.
    let (old, legacy) = (share_of("bsp_old", 1), "a legacy share".to_owned());
    let body = json!({ "clientId": client_id, "backupMethod": "GDRIVE-SECP256K1", "share": old, "backupSharePairId": "bsp_old" });
    f.put_before_pairs(&body).await;
    f.put_before_pairs(&json!({ "clientId": client_id, "share": legacy }))
        .await;
    assert_eq!(slots(&f, &client_id).await, ["GDRIVE-SECP256K1", "UNKNOWN"]);

    // The new binaries serve them, and the next backup (a new pair) goes beside them.
    let portal = Webhooks::start(&f).await;
    assert_eq!(
        portal.fetch(&client_id).await,
        [legacy.clone(), old.clone()]
    );
    let new = share_of("bsp_new", 2);
    let body = json!({ "clientId": client_id, "backupMethod": "GDRIVE-SECP256K1", "share": new, "backupSharePairId": "bsp_new" });
    assert_eq!(portal.backup(body).await.1["result"], "created");
    assert_eq!(portal.fetch(&client_id).await, [new, legacy, old.clone()]);
    // The old share keeps its slot and its pair id: what `custody` lists and reconcile matches.
    let old_item = f
        .client
        .get_item()
        .table_name(&f.tables.shares)
        .key(schema::CLIENT_ID, AttributeValue::S(client_id.clone()))
        .key(
            schema::BACKUP_METHOD,
            AttributeValue::S("GDRIVE-SECP256K1".into()),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("the share stored before pairs");
    assert_eq!(
        old_item[schema::BACKUP_SHARE_PAIR_ID].as_s().unwrap(),
        "bsp_old"
    );
    assert_eq!(f.share_in(&old_item).await, old);
}

/// `custody reconcile` against the Custodian API stand-in, off the test's runtime (the CLI is a
/// blocking child process, and the stand-in answers on this runtime).
async fn reconcile(f: &Fixture, api: &CustodianApi, key: &str, extra: &[&str]) -> Run {
    let mut env: Vec<(String, String)> = f
        .function_env("not-used")
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    env.extend([
        (
            "AWS_ENDPOINT_URL_STS".into(),
            aws_emulator::endpoint().to_owned(),
        ),
        ("HISTORY_RETENTION_DAYS".into(), "0".into()),
        ("PORTAL_API_KEY".into(), key.to_owned()),
    ]);
    let mut args: Vec<String> = [
        "--json",
        "reconcile",
        "--portal-api-url",
        &api.base,
        "--pace-ms",
        "0",
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        custody_with(&env, &args)
    })
    .await
    .unwrap()
}

async fn store(f: &Fixture, client_id: &str, method: &str, pair: &str) {
    let share = share_of(pair, 1);
    let body = json!({ "clientId": client_id, "backupMethod": method, "share": share });
    let backup = Backup::from_json(body.to_string().as_bytes()).unwrap();
    f.store.put_share(&backup).await.unwrap();
}

const KEY: &str = "portal-api-key-for-tests";

#[tokio::test]
async fn reconcile_names_every_completed_pair_whose_share_is_not_here_across_portals_pages() {
    let f = Fixture::new().await;
    let prefix = unique("rc");
    let mut clients = Vec::new();
    for n in 0..1000 {
        let id = format!("{prefix}-{n:04}");
        let pairs: &[(&str, &str, &str, &str)] = match n {
            // Completed and held; incomplete and not held; an orphan beside a held pair.
            0 => &[("bsp_0", "PASSWORD", "2026-01-01T00:00:00.000Z", "completed")],
            1 => &[(
                "bsp_1",
                "PASSWORD",
                "2026-01-01T00:00:00.000Z",
                "incomplete",
            )],
            2 => &[("bsp_2", "GDRIVE", "2026-01-01T00:00:00.000Z", "completed")],
            // The user whose re-backup completed but whose share never reached us.
            777 => &[(
                "bsp_777",
                "PASSKEY",
                "2026-02-02T00:00:00.000Z",
                "completed",
            )],
            _ => &[],
        };
        clients.push(custodian_api::client(&id, pairs));
    }
    store(&f, &format!("{prefix}-0000"), "PASSWORD-SECP256K1", "bsp_0").await;
    store(&f, &format!("{prefix}-0002"), "GDRIVE-SECP256K1", "bsp_2").await;
    store(
        &f,
        &format!("{prefix}-0002"),
        "GDRIVE-SECP256K1",
        "bsp_gone",
    )
    .await;
    let api = CustodianApi::serve(KEY, clients).await;
    let started = std::time::Instant::now();
    let run = reconcile(&f, &api, KEY, &[]).await;
    let elapsed = started.elapsed();
    assert_eq!(run.code, 10, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["totals"]["clients"], 1000);
    assert_eq!(report["totals"]["pairs"], 4);
    let unrecoverable = report["unrecoverable"].as_array().unwrap();
    assert_eq!(unrecoverable.len(), 1, "{report}");
    assert_eq!(unrecoverable[0]["id"], "bsp_777");
    assert_eq!(unrecoverable[0]["clientId"], format!("{prefix}-0777"));
    assert_eq!(report["orphans"][0]["backupSharePairId"], "bsp_gone");
    assert!(
        run.stderr.contains("UNRECOVERABLE client"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(KEY) && !run.stdout.contains(KEY),
        "the key is never printed"
    );
    assert_eq!(api.requests(), 10, "ten pages of 100");
    eprintln!(
        "reconcile: 1,000 clients (10 pages) against the stand-in and DynamoDB Local in {} ms",
        elapsed.as_millis()
    );
}

#[tokio::test]
async fn reconcile_never_reports_clean_when_portal_refuses_or_fails_and_resumes_where_it_stopped() {
    let f = Fixture::new().await;
    let prefix = unique("rf");
    let clients: Vec<Value> = (0..250)
        .map(|n| {
            let id = format!("{prefix}-{n:03}");
            custodian_api::client(
                &id,
                &[("bsp", "PASSWORD", "2026-01-01T00:00:00.000Z", "completed")],
            )
        })
        .collect();
    let api = CustodianApi::serve(KEY, clients).await;
    // A wrong key: a clear error, never a report.
    let refused = reconcile(&f, &api, "a-wrong-key", &[]).await;
    assert_eq!(refused.code, 11, "{}", refused.stderr);
    assert_eq!(refused.json()["error"]["code"], "portal_api");
    assert!(!refused.stdout.contains("a-wrong-key"));

    // A rate limit: each 429 retried after Retry-After, and the walk completes.
    api.rate_limit_every(2);
    let checkpoint = std::env::temp_dir().join(format!("{prefix}.checkpoint"));
    let checkpoint_arg = checkpoint.to_str().unwrap();
    api.fail_after(Some(&format!("{prefix}-199")));
    let failed = reconcile(&f, &api, KEY, &["--checkpoint", checkpoint_arg]).await;
    assert_eq!(
        failed.code, 11,
        "a page that keeps failing is an error:\n{}",
        failed.stderr
    );
    assert!(failed.stderr.contains("retrying"), "{}", failed.stderr);
    assert!(checkpoint.exists(), "the two finished pages are saved");

    // Portal recovers: the run resumes after the last finished page, and finishes the count.
    api.fail_after(None);
    let before = api.requests();
    let resumed = reconcile(&f, &api, KEY, &["--checkpoint", checkpoint_arg]).await;
    assert_eq!(resumed.code, 10, "{}", resumed.stderr);
    let report = resumed.json();
    assert_eq!(report["totals"]["clients"], 250);
    assert_eq!(report["unrecoverable"].as_array().unwrap().len(), 250);
    assert!(
        api.requests() - before <= 2,
        "one page, and a retried 429 at most"
    );
    assert!(
        !checkpoint.exists(),
        "a finished walk starts afresh next time"
    );
}

#[tokio::test]
async fn reconcile_retire_moves_only_a_superseded_pairs_share_to_history() {
    let f = Fixture::new().await;
    let client_id = unique("rt");
    let pairs = [
        (
            "bsp_old",
            "PASSWORD",
            "2026-01-01T00:00:00.000Z",
            "completed",
        ),
        (
            "bsp_new",
            "PASSWORD",
            "2026-02-01T00:00:00.000Z",
            "completed",
        ),
        (
            "bsp_newest",
            "PASSWORD",
            "2026-03-01T00:00:00.000Z",
            "incomplete",
        ),
    ];
    for (pair, ..) in pairs {
        store(&f, &client_id, "PASSWORD-SECP256K1", pair).await;
    }
    // Stored before pairs: never retired, whatever Portal says of its pair.
    let legacy = json!({ "clientId": client_id, "backupMethod": "PASSWORD-SECP256K1", "share": "legacy", "backupSharePairId": "bsp_legacy" });
    f.put_before_pairs(&legacy).await;
    let mut listed = pairs.to_vec();
    listed.push((
        "bsp_legacy",
        "PASSWORD",
        "2025-01-01T00:00:00.000Z",
        "completed",
    ));
    let api = CustodianApi::serve(KEY, vec![custodian_api::client(&client_id, &listed)]).await;

    let looked = reconcile(&f, &api, KEY, &[]).await;
    assert_eq!(looked.code, 0, "{}", looked.stderr);
    assert_eq!(
        slots(&f, &client_id).await.len(),
        4,
        "nothing moves without --retire"
    );
    let retired = reconcile(&f, &api, KEY, &["--retire", "--reason", "TICKET-7"]).await;
    assert_eq!(retired.code, 0, "{}", retired.stderr);
    assert_eq!(retired.json()["retired"][0]["backupSharePairId"], "bsp_old");
    assert_eq!(
        slots(&f, &client_id).await,
        [
            "PASSWORD-SECP256K1",
            "PASSWORD-SECP256K1\u{1f}bsp_new",
            "PASSWORD-SECP256K1\u{1f}bsp_newest"
        ]
    );
    let history = custody(
        &f,
        &[
            "--json",
            "history",
            &client_id,
            "PASSWORD-SECP256K1",
            "--pair",
            "bsp_old",
        ],
    );
    assert_eq!(
        history.json()["shares"][0]["current"],
        false,
        "kept in history"
    );
    let audit = custody(
        &f,
        &[
            "--json",
            "audit",
            &client_id,
            "PASSWORD-SECP256K1",
            "--pair",
            "bsp_old",
        ],
    );
    assert_eq!(audit.json()["records"][0]["action"], "retire");
    let again = reconcile(&f, &api, KEY, &["--retire"]).await;
    assert_eq!(
        again.json()["retired"],
        json!([]),
        "a second run retires nothing"
    );
}

#[tokio::test]
async fn pair_ids_reads_a_legacy_shares_pair_so_reconcile_matches_it_and_changes_no_share() {
    let f = Fixture::new().await;
    let client_id = unique("pi");
    // Stored before pairs, with no pair id in the body: only the share's JSON knows it.
    let share = share_of("bsp_inside", 1);
    let body = json!({ "clientId": client_id, "backupMethod": "GDRIVE-SECP256K1", "share": share });
    f.put_before_pairs(&body).await;
    f.put_before_pairs(&json!({ "clientId": client_id, "share": "no pair anywhere" }))
        .await;
    let listed = [(
        "bsp_inside",
        "GDRIVE",
        "2025-01-01T00:00:00.000Z",
        "completed",
    )];
    let api = CustodianApi::serve(KEY, vec![custodian_api::client(&client_id, &listed)]).await;
    let before = reconcile(&f, &api, KEY, &[]).await;
    assert_eq!(before.code, 10, "not matched yet:\n{}", before.stderr);
    assert_eq!(before.json()["totals"]["withoutPairId"], 2);

    let sealed_before = f.scan(&f.tables.shares).await;
    let filled = custody(&f, &["--json", "pair-ids"]);
    assert_eq!(filled.code, 0, "{}", filled.stderr);
    assert_eq!(
        (
            filled.json()["filled"].clone(),
            filled.json()["noneInShare"].clone()
        ),
        (json!(1), json!(1))
    );
    assert!(!filled.stdout.contains("0x0001") && !filled.stderr.contains("0x0001"));
    let after = f.scan(&f.tables.shares).await;
    for item in &sealed_before {
        let same = after
            .iter()
            .find(|a| a[schema::BACKUP_METHOD] == item[schema::BACKUP_METHOD])
            .unwrap();
        assert_eq!(
            same[schema::SEALED_SHARE],
            item[schema::SEALED_SHARE],
            "the share is untouched"
        );
        assert_eq!(same[schema::VERSION], item[schema::VERSION]);
    }
    let matched = reconcile(&f, &api, KEY, &[]).await;
    assert_eq!(matched.code, 0, "{}", matched.stderr);
    assert_eq!(
        custody(&f, &["--json", "pair-ids"]).json()["alreadyKnown"],
        1,
        "re-runnable"
    );
}

/// The scheduled reconcile function, through the Lambda Runtime API as EventBridge invokes it:
/// each invocation checks pages until its deadline is near (the harness gives 8 s, so one page),
/// saves its place, and the invocation that reaches the last page publishes the walk's findings;
/// the next walk waits a day.
#[tokio::test]
async fn the_scheduled_reconcile_walks_in_pieces_and_publishes_a_finished_walks_findings() {
    let f = Fixture::new().await;
    let prefix = unique("sr");
    let clients: Vec<Value> = (0..250)
        .map(|n| {
            let id = format!("{prefix}-{n:03}");
            let pairs: &[(&str, &str, &str, &str)] = match n {
                0 => &[(
                    "bsp_held",
                    "PASSWORD",
                    "2026-01-01T00:00:00.000Z",
                    "completed",
                )],
                249 => &[(
                    "bsp_lost",
                    "PASSWORD",
                    "2026-01-01T00:00:00.000Z",
                    "completed",
                )],
                _ => &[],
            };
            custodian_api::client(&id, pairs)
        })
        .collect();
    store(
        &f,
        &format!("{prefix}-000"),
        "PASSWORD-SECP256K1",
        "bsp_held",
    )
    .await;
    let api = CustodianApi::serve(KEY, clients).await;
    let key_secret = aws_emulator::create_webhook_secret(KEY).await;
    let state_table = unique("reconcile-state");
    template::create_table(
        &f.client,
        &template::table("ReconcileStateTable"),
        &state_table,
    )
    .await;
    let mut env = f.function_env("");
    env.retain(|(name, _)| *name != "WEBHOOK_SECRET");
    env.extend([
        ("PORTAL_API_KEY_SECRET_ARN", key_secret.as_str()),
        ("PORTAL_API_URL", api.base.as_str()),
        ("RECONCILE_STATE_TABLE", state_table.as_str()),
        ("STACK_NAME", "reconcile-test"),
    ]);
    let function = Function::start(&binary("reconcile"), &env).await;
    let scheduled = json!({
        "version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-12-06T01:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/reconcile-hourly"], "detail": {},
    })
    .to_string();
    let mut ran = Vec::new();
    for _ in 0..4 {
        let outcome = function
            .invoke(&scheduled)
            .await
            .expect("no function error");
        ran.push(outcome["ran"].as_str().unwrap().to_owned());
    }
    assert_eq!(ran[0], "Paused { clients: 100 }");
    assert_eq!(ran[1], "Paused { clients: 200 }");
    assert!(
        ran[2]
            .starts_with("Finished(Totals { clients: 250, pairs: 2, unrecoverable: 1, orphans: 0"),
        "{}",
        ran[2]
    );
    assert_eq!(
        ran[3], "NotDue",
        "the next walk starts a day after this one began"
    );
    let logs = function
        .output_when(|logs| logs.contains(r#""UnrecoverablePairs":1"#) && logs.contains("bsp_lost"))
        .await;
    assert!(
        logs.contains(r#""UnrecoverablePairs":1"#),
        "published:\n{logs}"
    );
    assert!(
        logs.contains("bsp_lost") && !logs.contains(KEY),
        "named, and the key never logged"
    );
}

/// The failure this release fixes, as 0.2.0 left it: pair B's share replaced pair A's (the
/// user's last completed pair) in the method's slot, and A went to history. `restore-pair` brings
/// A back into its own slot beside B, and reconcile then finds every completed pair held.
#[tokio::test]
async fn restore_pair_brings_back_a_pair_an_earlier_version_displaced_without_displacing_another() {
    let f = Fixture::new().await;
    let client_id = unique("rp");
    let (a, b) = (share_of("bsp_A", 1), share_of("bsp_B", 2));
    for (share, pair) in [(&a, "bsp_A"), (&b, "bsp_B")] {
        let body = json!({ "clientId": client_id, "backupMethod": "PASSWORD-SECP256K1", "share": share, "backupSharePairId": pair });
        f.put_before_pairs(&body).await;
    }
    let listed = [
        ("bsp_A", "PASSWORD", "2026-01-01T00:00:00.000Z", "completed"),
        (
            "bsp_B",
            "PASSWORD",
            "2026-02-01T00:00:00.000Z",
            "incomplete",
        ),
    ];
    let api = CustodianApi::serve(KEY, vec![custodian_api::client(&client_id, &listed)]).await;
    let before = reconcile(&f, &api, KEY, &[]).await;
    assert_eq!(
        before.code, 10,
        "A is completed and only in history:\n{}",
        before.stderr
    );

    let args = [
        "--json",
        "restore-pair",
        &client_id,
        "PASSWORD-SECP256K1",
        "bsp_A",
        "--reason",
        "TICKET-9",
    ];
    let restored = custody(&f, &args);
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    assert_eq!(restored.json()["result"], "restored");
    let portal = Webhooks::start(&f).await;
    assert_eq!(
        portal.fetch(&client_id).await,
        [b, a],
        "A back in its own slot with its own age, B untouched"
    );
    assert_eq!(
        custody(&f, &args).json()["result"],
        "alreadyCurrent",
        "safe to re-run"
    );
    let audit = custody(
        &f,
        &[
            "--json",
            "audit",
            &client_id,
            "PASSWORD-SECP256K1",
            "--pair",
            "bsp_A",
        ],
    );
    assert_eq!(audit.json()["records"][0]["action"], "restore");
    let after = reconcile(&f, &api, KEY, &[]).await;
    assert_eq!(after.code, 0, "{}", after.stderr);

    // Displaced without a pair id in the body: found by the one inside the kept share.
    let other = unique("rp");
    let (c, d) = (share_of("bsp_C", 3), share_of("bsp_D", 4));
    for share in [&c, &d] {
        let body = json!({ "clientId": other, "backupMethod": "GDRIVE-ED25519", "share": share });
        f.put_before_pairs(&body).await;
    }
    let args = ["--json", "restore-pair", &other, "GDRIVE-ED25519", "bsp_C"];
    assert_eq!(custody(&f, &args).json()["result"], "restored");
    assert_eq!(portal.fetch(&other).await, [d, c]);
}
