//! Backup share pairs against DynamoDB Local and the real binaries: a share's identity is
//! (clientId, backupMethod, backupSharePairId), a new pair never displaces another pair's share,
//! and the shares stored before pairs stay served after the upgrade.

use aws_sdk_dynamodb::types::AttributeValue;
use custodian_backup::domain::{Backup, Stored};
use custodian_backup::http as webhook;
use custodian_backup::store::ShareWriter;
use custodian_backup::store::dynamodb::schema;
use local_aws::events::{DEV_SECRET, rest_event};
use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, unique};
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
    let logs = portal.backup.output();
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
    let logs = portal.fetch.output();
    let left_out = format!(r#""SharesLeftOut":{}"#, total - fit);
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
