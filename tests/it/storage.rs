//! Storage behaviour against Amazon DynamoDB Local, through the same handlers Portal calls.

use crate::support::{self, SECRET, answer, backup, post, put_row, secrets};
use aws_sdk_dynamodb::types::AttributeValue;
use custodian_backup::config::HistoryRetention;
use custodian_backup::config::Tables;
use custodian_backup::http as webhook;

use custodian_backup::store::dynamodb::{DynamoDbStore, schema};
use lambda_http::{Body, http};
use local_aws::{Fixture, aws_emulator, dynamodb_local, unique};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `/backup/fetch`'s answer for `client_id`, which must be a 200.
async fn fetch(store: &DynamoDbStore, client_id: &str) -> Value {
    let (status, reply) = support::fetch(store, client_id).await;
    assert_eq!(status, 200, "{reply}");
    reply
}

fn s<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> &'a str {
    item[name]
        .as_s()
        .unwrap_or_else(|_| panic!("{name} is a string"))
}

fn n(item: &HashMap<String, AttributeValue>, name: &str) -> u64 {
    item[name]
        .as_n()
        .expect("a number")
        .parse()
        .expect("an integer")
}

#[tokio::test]
async fn a_stored_share_is_fetched_straight_away() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    assert_eq!(
        backup(&f.store, &client_id, Some("GDRIVE-SECP256K1"), "share-1")
            .await
            .0,
        200
    );
    assert_eq!(
        fetch(&f.store, &client_id).await,
        json!({ "backupShares": ["share-1"] })
    );
}

#[tokio::test]
async fn fetch_returns_every_method_of_the_client_newest_first() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    for method in [
        "PASSWORD-SECP256K1",
        "GDRIVE-ED25519",
        "ICLOUD-SECP256K1",
        "GDRIVE-SECP256K1",
    ] {
        backup(
            &f.store,
            &client_id,
            Some(method),
            &format!("share for {method}"),
        )
        .await;
    }
    backup(
        &f.store,
        &unique("someone-else"),
        Some("GDRIVE-ED25519"),
        "not yours",
    )
    .await;
    // Newest first, every time.
    let expected = json!({ "backupShares": [
        "share for GDRIVE-SECP256K1", "share for ICLOUD-SECP256K1",
        "share for GDRIVE-ED25519", "share for PASSWORD-SECP256K1",
    ] });
    assert_eq!(fetch(&f.store, &client_id).await, expected);
    assert_eq!(fetch(&f.store, &client_id).await, expected);
    assert_eq!(
        fetch(&f.store, &unique("nobody")).await,
        json!({ "backupShares": [] })
    );
}

#[tokio::test]
async fn replacing_a_share_moves_the_old_one_to_history_in_the_same_write() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    backup(&f.store, &client_id, Some("PASSKEY-ED25519"), "old").await;
    let (status, reply) = backup(&f.store, &client_id, Some("PASSKEY-ED25519"), "new").await;
    assert_eq!((status, reply["result"].as_str()), (200, Some("replaced")));
    assert_eq!(
        fetch(&f.store, &client_id).await,
        json!({ "backupShares": ["new"] })
    );

    let current = f.scan(&f.tables.shares).await;
    assert_eq!((current.len(), n(&current[0], schema::VERSION)), (1, 2));
    let history = f.scan(&f.tables.history).await;
    assert_eq!(history.len(), 1);
    let old = &history[0];
    assert_eq!(f.share_in(old).await, "old");
    assert_eq!(n(old, schema::VERSION), 1);
    assert_eq!(
        s(old, schema::OWNER),
        json!([client_id, "PASSKEY-ED25519"]).to_string()
    );
    assert_eq!(
        (s(old, schema::CLIENT_ID), s(old, schema::BACKUP_METHOD)),
        (client_id.as_str(), "PASSKEY-ED25519")
    );
    assert!(s(old, schema::REPLACED_AT) >= s(old, schema::STORED_AT));
    assert!(
        !old.contains_key(schema::EXPIRES_AT),
        "kept forever by default"
    );
}

#[tokio::test]
async fn repeating_the_identical_share_writes_no_history() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    for expected in ["created", "unchanged", "unchanged"] {
        let (status, reply) = backup(&f.store, &client_id, Some("ICLOUD-ED25519"), "same").await;
        assert_eq!((status, reply["result"].as_str()), (200, Some(expected)));
    }
    assert_eq!(n(&f.scan(&f.tables.shares).await[0], schema::VERSION), 1);
    assert!(f.scan(&f.tables.history).await.is_empty());
}

/// The history items of one key, by version.
async fn kept(f: &Fixture, client_id: &str) -> Vec<HashMap<String, AttributeValue>> {
    let mut items: Vec<_> = f
        .scan(&f.tables.history)
        .await
        .into_iter()
        .filter(|item| s(item, schema::CLIENT_ID) == client_id)
        .collect();
    items.sort_by_key(|item| n(item, schema::VERSION));
    items
}

/// Backs up `shares` one after another as GDRIVE shares of `client_id`, each answered 200.
async fn back_up_in_turn(f: &Fixture, client_id: &str, shares: &[&str]) {
    for share in shares {
        let (status, reply) = backup(&f.store, client_id, Some("GDRIVE"), share).await;
        assert_eq!(status, 200, "{reply}");
    }
}

/// The shares `items` hold, opened, in order.
async fn shares_in(f: &Fixture, items: &[HashMap<String, AttributeValue>]) -> Vec<String> {
    let mut shares = Vec::new();
    for item in items {
        shares.push(f.share_in(item).await);
    }
    shares
}

#[tokio::test]
async fn opted_in_pruning_never_expires_the_newest_five_versions() {
    let f = Fixture::with_retention(HistoryRetention::days(30)).await;
    let client_id = unique("cli");
    for n in 0..9 {
        backup(&f.store, &client_id, None, &format!("share {n}")).await;
    }
    // Versions 1..8 are kept; the newest five (4..8) have no expiry, the older ones 30 days.
    let history = kept(&f, &client_id).await;
    let versions: Vec<u64> = history
        .iter()
        .map(|item| n(item, schema::VERSION))
        .collect();
    assert_eq!(versions, (1..=8).collect::<Vec<_>>());
    let in_30_days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 30 * 86_400;
    for item in &history {
        let version = n(item, schema::VERSION);
        if version <= 3 {
            assert!(
                n(item, schema::EXPIRES_AT).abs_diff(in_30_days) < 60,
                "version {version} expires 30 days out"
            );
        } else {
            assert!(
                !item.contains_key(schema::EXPIRES_AT),
                "version {version} is among the newest five"
            );
        }
    }
    // Kept forever (the default): nothing ever gets an expiry.
    let forever = Fixture::new().await;
    for n in 0..9 {
        backup(&forever.store, &client_id, None, &format!("share {n}")).await;
    }
    assert!(
        kept(&forever, &client_id)
            .await
            .iter()
            .all(|item| !item.contains_key(schema::EXPIRES_AT))
    );
}

/// Makes the current share of `client_id` look stored `ago` in the past.
async fn stored_ago(f: &Fixture, client_id: &str, ago: Duration) {
    let then = humantime::format_rfc3339_nanos(SystemTime::now() - ago).to_string();
    f.client
        .update_item()
        .table_name(&f.tables.shares)
        .key(schema::CLIENT_ID, AttributeValue::S(client_id.into()))
        .key(schema::BACKUP_METHOD, AttributeValue::S("UNKNOWN".into()))
        .update_expression("SET #storedAt = :then")
        .expression_attribute_names("#storedAt", schema::STORED_AT)
        .expression_attribute_values(":then", AttributeValue::S(then))
        .send()
        .await
        .expect("storedAt rewritten");
}

#[tokio::test]
async fn junk_never_pushes_out_the_newest_share_that_was_current_for_a_day() {
    let f = Fixture::with_retention(HistoryRetention::days(30)).await;
    let day = Duration::from_secs(86_400);
    // The user's good share, current for two days; then a burst of junk (a leaked secret).
    let client_id = unique("cli");
    backup(&f.store, &client_id, None, "good share").await;
    stored_ago(&f, &client_id, 2 * day).await;
    for n in 0..12 {
        backup(&f.store, &client_id, None, &format!("junk {n}")).await;
    }
    let history = kept(&f, &client_id).await;
    assert_eq!(n(&history[0], schema::VERSION), 1);
    assert_eq!(f.share_in(&history[0]).await, "good share");
    assert!(
        !history[0].contains_key(schema::EXPIRES_AT),
        "the only proven version was given an expiry"
    );
    assert!(
        history[1..7]
            .iter()
            .all(|item| item.contains_key(schema::EXPIRES_AT)),
        "junk past the newest five still expires"
    );

    // Two proven versions: the older one may go, the newer one stays.
    let client_id = unique("cli");
    for share in ["good 1", "good 2"] {
        backup(&f.store, &client_id, None, share).await;
        stored_ago(&f, &client_id, 2 * day).await;
    }
    for n in 0..6 {
        backup(&f.store, &client_id, None, &format!("junk {n}")).await;
    }
    let history = kept(&f, &client_id).await;
    assert!(
        history[0].contains_key(schema::EXPIRES_AT),
        "version 1 expires"
    );
    assert!(
        !history[1].contains_key(schema::EXPIRES_AT),
        "version 2 is kept"
    );
}

#[tokio::test]
async fn a_current_row_deleted_by_hand_never_blocks_its_key() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    back_up_in_turn(&f, &client_id, &["v1", "v2", "v3"]).await;
    f.client
        .delete_item()
        .table_name(&f.tables.shares)
        .key(schema::CLIENT_ID, AttributeValue::S(client_id.clone()))
        .key(schema::BACKUP_METHOD, AttributeValue::S("GDRIVE".into()))
        .send()
        .await
        .unwrap();
    // Created at version 1, taken in history: the first replacement keeps it above every kept
    // version instead, and nothing kept is overwritten.
    back_up_in_turn(&f, &client_id, &["v4", "v5", "v6"]).await;
    assert_eq!(
        fetch(&f.store, &client_id).await,
        json!({ "backupShares": ["v6"] })
    );
    let history = kept(&f, &client_id).await;
    let shares = shares_in(&f, &history).await;
    assert_eq!(
        shares,
        ["v1", "v2", "v4", "v5"],
        "every replaced share kept once"
    );
}

#[tokio::test]
async fn a_current_row_restored_with_an_old_version_never_blocks_its_key() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    back_up_in_turn(&f, &client_id, &["v1", "v2", "v3", "v4"]).await;
    // As after a point-in-time restore of the shares table alone: the current row is back at
    // version 2, with a share history already keeps a different one under that version.
    let mut rolled_back = f.scan(&f.tables.shares).await.remove(0);
    rolled_back.insert(schema::VERSION.into(), AttributeValue::N("2".into()));
    put_row(&f.client, &f.tables.shares, rolled_back).await;
    back_up_in_turn(&f, &client_id, &["v5", "v6"]).await;
    assert_eq!(
        fetch(&f.store, &client_id).await,
        json!({ "backupShares": ["v6"] })
    );
    let history = kept(&f, &client_id).await;
    let shares = shares_in(&f, &history).await;
    assert_eq!(
        shares,
        ["v1", "v2", "v3", "v4", "v5"],
        "nothing kept was overwritten"
    );
    let archived = &history[3];
    assert_eq!(
        (
            n(archived, schema::VERSION),
            n(archived, schema::ARCHIVED_FROM)
        ),
        (4, 2),
        "the colliding copy went above, marked with the version it had"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_different_shares_to_one_key_lose_nothing() {
    let f = Arc::new(Fixture::new().await);
    let client_id = unique("cli");
    let shares: BTreeSet<String> = (0..50).map(|i| format!("racing share {i:02}")).collect();
    let mut writers = tokio::task::JoinSet::new();
    for share in shares.clone() {
        let (f, client_id) = (f.clone(), client_id.clone());
        writers.spawn(async move {
            let started = Instant::now();
            let reply = backup(&f.store, &client_id, Some("GDRIVE-SECP256K1"), &share).await;
            (reply, started.elapsed())
        });
    }
    let mut slowest = Duration::ZERO;
    while let Some(result) = writers.join_next().await {
        let ((status, reply), took) = result.expect("writer task");
        assert_eq!(status, 200, "{reply}");
        slowest = slowest.max(took);
    }
    println!("50 racing writers to one key: slowest answered in {slowest:?} (budget 6 s)");
    let current = f.scan(&f.tables.shares).await;
    let history = f.scan(&f.tables.history).await;
    assert_eq!((current.len(), history.len()), (1, 49));
    let mut kept = BTreeSet::new();
    for item in current.iter().chain(&history) {
        kept.insert(f.share_in(item).await);
    }
    assert_eq!(
        kept, shares,
        "every share that got a 200 is current or in history"
    );
    let versions: BTreeSet<u64> = history
        .iter()
        .map(|item| n(item, schema::VERSION))
        .collect();
    assert_eq!(
        versions,
        (1..=49).collect(),
        "each replaced version is in history exactly once"
    );
}

#[tokio::test]
async fn legacy_backups_are_stored_as_unknown_and_returned_both_ways() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    backup(&f.store, &client_id, None, "legacy share").await;
    backup(&f.store, &client_id, Some("GDRIVE-SECP256K1"), "v6 share").await;
    assert_eq!(
        fetch(&f.store, &client_id).await,
        json!({ "backupShares": ["v6 share", "legacy share"], "backupShare": "legacy share" })
    );
    let methods: BTreeSet<String> = f
        .scan(&f.tables.shares)
        .await
        .iter()
        .map(|item| s(item, schema::BACKUP_METHOD).to_owned())
        .collect();
    assert_eq!(
        methods,
        BTreeSet::from(["GDRIVE-SECP256K1".to_owned(), "UNKNOWN".to_owned()])
    );
}

#[tokio::test]
async fn a_100_kb_share_round_trips() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    let share = json!({ "share": "ab".repeat(50 * 1024), "pubkey": "x" }).to_string();
    assert!(share.len() > 100 * 1024);
    assert_eq!(
        backup(&f.store, &client_id, Some("PASSWORD-SECP256K1"), &share)
            .await
            .0,
        200
    );
    assert_eq!(
        backup(
            &f.store,
            &client_id,
            Some("PASSWORD-SECP256K1"),
            &format!("{share} ")
        )
        .await
        .0,
        200
    );
    assert_eq!(
        fetch(&f.store, &client_id).await["backupShares"][0].as_str(),
        Some(format!("{share} ").as_str())
    );
}

#[tokio::test]
async fn unicode_and_escapes_are_preserved_byte_for_byte() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    let share = "{\"share\":\"é☃😀\\u0041 \\\"quoted\\\" back\\\\slash\",\"nul\":\"\u{0}\",\"tab\":\"\t\",\"nl\":\"\n\"}";
    // Sent as a JSON string, so every character above arrives escaped on the wire.
    let body = json!({ "clientId": client_id, "backupMethod": "ICLOUD-ED25519", "share": share })
        .to_string();
    let (status, _) = answer(
        webhook::backup(&f.store, &secrets(), post(SECRET, body))
            .await
            .unwrap(),
    );
    assert_eq!(status, 200);
    let reply = fetch(&f.store, &client_id).await;
    assert_eq!(
        reply["backupShares"][0].as_str().map(str::as_bytes),
        Some(share.as_bytes())
    );
    assert_eq!(
        f.share_in(&f.scan(&f.tables.shares).await[0])
            .await
            .as_bytes(),
        share.as_bytes()
    );
}

#[tokio::test]
async fn bad_requests_change_nothing_stored() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    backup(&f.store, &client_id, Some("GDRIVE"), "kept").await;
    let bad = [
        json!({ "clientId": client_id, "backupMethod": "GDRIVE", "share": "" }).to_string(),
        json!({ "clientId": client_id, "backupMethod": "GDRIVE", "share": 5 }).to_string(),
        json!({ "clientId": client_id, "backupMethod": "GDRIVE" }).to_string(),
        format!(
            r#"{{"clientId": "{client_id}", "backupMethod": "GDRIVE", "share": "x", "share": "y"}}"#
        ),
        format!(r#"{{"clientId": "{client_id}", "backupMethod": "GDRIVE", "share": "unterminated"#),
    ];
    for body in bad {
        let (status, _) = answer(
            webhook::backup(&f.store, &secrets(), post(SECRET, body.clone()))
                .await
                .unwrap(),
        );
        assert_eq!(status, 400, "{body}");
    }
    let wrong_secret = http::Request::builder()
        .method("POST")
        .header("x-webhook-secret", "nope")
        .body(Body::from(
            json!({ "clientId": client_id, "backupMethod": "GDRIVE", "share": "evil" }).to_string(),
        ))
        .unwrap();
    assert_eq!(
        webhook::backup(&f.store, &secrets(), wrong_secret)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        fetch(&f.store, &client_id).await,
        json!({ "backupShares": ["kept"] })
    );
    assert!(f.scan(&f.tables.history).await.is_empty());
}

#[tokio::test]
async fn unreachable_dynamodb_is_a_quick_503_never_a_200() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = dynamodb_local::client_for(&format!("http://127.0.0.1:{closed}")).await;
    let tables = Tables {
        shares: "shares".into(),
        history: "history".into(),
        audit: "audit".into(),
        history_retention: HistoryRetention::days(30),
    };
    let key = Fixture::share_key(&aws_emulator::create_share_key().await).await;
    let store = DynamoDbStore::new(client, tables, key);
    // Each answer is a 503 inside the storage budget. How far inside depends on the SDK's retry
    // backoff, which is jittered (about 3 s for both, up to the budget each), so only the budget,
    // which the handler enforces, is a bound this test may hold it to.
    let bound = custodian_backup::budget::STORAGE + Duration::from_millis(500);
    let started = Instant::now();
    let (status, reply) = backup(&store, "cli_1", Some("GDRIVE"), "share").await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (503, Some("storage_unavailable"))
    );
    assert!(
        started.elapsed() < bound,
        "backup took {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let body = json!({ "clientId": "cli_1" }).to_string();
    let (status, _) = answer(
        webhook::fetch(&store, &secrets(), post(SECRET, body))
            .await
            .unwrap(),
    );
    assert_eq!(status, 503);
    assert!(
        started.elapsed() < bound,
        "fetch took {:?}",
        started.elapsed()
    );
}
