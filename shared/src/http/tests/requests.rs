//! What `/backup` and `/backup/fetch` answer as Portal calls them.

use super::*;
use crate::domain::Backup;
use crate::http::error::MAX_BODY_BYTES;
use serde_json::json;

#[tokio::test]
async fn backup_then_fetch_returns_the_share_byte_for_byte() {
    let store = MemoryStore::default();
    let reply = store_share(&store, "cli_1", Some("GDRIVE-SECP256K1"), SHARE).await;
    assert_eq!(
        reply,
        json!({ "message": "custodian backup share stored", "result": "created" })
    );
    assert_eq!(
        fetched(&store, "cli_1").await,
        json!({ "backupShares": [SHARE] })
    );
}

#[tokio::test]
async fn fetch_returns_every_current_share_of_the_client_and_only_those() {
    let store = MemoryStore::default();
    store_share(&store, "cli_1", Some("GDRIVE-SECP256K1"), "secp").await;
    store_share(&store, "cli_1", Some("GDRIVE-ED25519"), "ed").await;
    store_share(&store, "cli_2", Some("GDRIVE-ED25519"), "other client").await;
    assert_eq!(
        fetched(&store, "cli_1").await,
        json!({ "backupShares": ["ed", "secp"] })
    );
}

#[tokio::test]
async fn legacy_backup_is_stored_as_unknown_and_fetched_as_backup_share_too() {
    let store = MemoryStore::default();
    store_share(&store, "cli_1", None, "legacy").await;
    store_share(&store, "cli_1", Some(""), "legacy, empty method").await;
    store_share(&store, "cli_1", Some("PASSKEY-SECP256K1"), "new").await;
    assert_eq!(
        fetched(&store, "cli_1").await,
        json!({ "backupShares": ["new", "legacy, empty method"], "backupShare": "legacy, empty method" })
    );
}

#[tokio::test]
async fn fetch_of_a_client_without_shares_is_an_empty_list() {
    assert_eq!(
        fetched(&MemoryStore::default(), "cli_none").await,
        json!({ "backupShares": [] })
    );
}

#[tokio::test]
async fn repeating_a_share_is_unchanged_and_replacing_one_keeps_the_old_in_history() {
    let store = MemoryStore::default();
    store_share(&store, "cli_1", Some("ICLOUD-ED25519"), "first").await;
    let repeat = store_share(&store, "cli_1", Some("ICLOUD-ED25519"), "first").await;
    assert_eq!(repeat["result"], "unchanged");
    let replace = store_share(&store, "cli_1", Some("ICLOUD-ED25519"), "second").await;
    assert_eq!(replace["result"], "replaced");
    assert_eq!(*store.history.lock().unwrap(), vec!["first".to_owned()]);
    assert_eq!(
        fetched(&store, "cli_1").await,
        json!({ "backupShares": ["second"] })
    );
}

#[tokio::test]
async fn opaque_backup_methods_are_accepted_as_sent() {
    let store = MemoryStore::default();
    for method in [
        "CUSTOM",
        "FIREBASE-ED25519",
        "GDRIVE",
        "SOMETHING-PORTAL-ADDS-LATER",
        "ünïcode method",
    ] {
        store_share(&store, "cli_1", Some(method), method).await;
    }
    assert_eq!(
        fetched(&store, "cli_1").await["backupShares"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn every_bad_secret_gets_the_same_401() {
    let store = MemoryStore::default();
    let body = backup_body("cli_1", None, SHARE);
    let base = || {
        http::Request::builder()
            .method("POST")
            .header("content-type", "application/json")
    };
    let cases = [
        base(),
        base().header("x-webhook-secret", ""),
        base().header("x-webhook-secret", "wrong"),
        base().header("x-webhook-secret", &SECRET[1..]),
        base().header("x-webhook-secret", format!("{SECRET} ")),
        base()
            .header("x-webhook-secret", SECRET)
            .header("x-webhook-secret", SECRET),
    ];
    let expected = json!({ "error": { "code": "unauthorized", "message": "missing or invalid X-Webhook-Secret header" } });
    for case in cases {
        assert_eq!(
            call_backup(&store, request(case, body.clone())).await,
            (401, expected.clone())
        );
    }
    assert_eq!(
        fetched(&store, "cli_1").await,
        json!({ "backupShares": [] })
    );
}

#[tokio::test]
async fn without_a_configured_secret_every_request_is_refused() {
    let store = MemoryStore::default();
    let closed: Authenticator = WebhookSecrets::new(None, None).into();
    let response = backup(
        &store,
        &closed,
        request(post(), backup_body("c", None, SHARE)),
    )
    .await
    .unwrap();
    let (status, body) = decode(response);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (500, Some("secret_not_configured"))
    );
    let response = fetch(&store, &closed, request(post(), r#"{"clientId":"c"}"#))
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
}

#[tokio::test]
async fn a_method_other_than_post_is_405_with_allow() {
    let response = backup(
        &MemoryStore::default(),
        &secrets(),
        request(post().method("GET"), ""),
    )
    .await
    .unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    let (status, body) = decode(response);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
}

#[tokio::test]
async fn the_body_is_parsed_as_json_whatever_the_content_type_says() {
    let store = MemoryStore::default();
    let body = backup_body("cli_1", Some("GDRIVE"), "s");
    for accepted in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.portal+json",
    ] {
        let mut req = request(post(), body.clone());
        req.headers_mut()
            .insert("content-type", accepted.parse().unwrap());
        assert_eq!(call_backup(&store, req).await.0, 200, "{accepted}");
    }
    let mut req = request(post(), body);
    req.headers_mut().remove("content-type");
    assert_eq!(call_backup(&store, req).await.0, 200);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_one_at_the_limit_is_stored() {
    let store = MemoryStore::default();
    let overhead = backup_body("cli_1", None, "").len();
    let fits = backup_body("cli_1", None, &"x".repeat(MAX_BODY_BYTES - overhead));
    assert_eq!(fits.len(), MAX_BODY_BYTES);
    assert_eq!(call_backup(&store, request(post(), fits)).await.0, 200);
    let over = backup_body("cli_1", None, &"y".repeat(MAX_BODY_BYTES - overhead + 1));
    let (status, reply) = call_backup(&store, request(post(), over)).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
}

#[tokio::test]
async fn an_invalid_backup_share_pair_id_is_dropped_and_the_share_stored() {
    let store = MemoryStore::default();
    for pair in [
        r#"true"#.to_owned(),
        r#"7"#.to_owned(),
        format!(r#""{}""#, "p".repeat(300)),
        r#""bsp\r1""#.to_owned(),
    ] {
        let body = format!(r#"{{"clientId": "cli_1", "share": "s", "backupSharePairId": {pair}}}"#);
        let (status, reply) = call_backup(&store, request(post(), body)).await;
        assert_eq!(status, 200, "{pair}: {reply}");
    }
    let parsed = Backup::from_json(br#"{"clientId": "c", "share": "s", "backupSharePairId": 7}"#)
        .expect("stored without it");
    assert_eq!(parsed.backup_share_pair_id, None);
    assert_eq!(
        parsed.dropped_pair_id.map(|invalid| invalid.code()),
        Some("wrong_type")
    );
}

#[tokio::test]
async fn fetch_answers_500_only_when_every_share_is_unreadable() {
    let none_open = MemoryStore::with_unreadable(1);
    let (status, reply) = call_fetch(&none_open, request(post(), r#"{"clientId":"cli_1"}"#)).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (500, Some("stored_share_unreadable"))
    );
    let some_open = MemoryStore::with_unreadable(1);
    call_backup(
        &some_open,
        request(post(), backup_body("cli_1", Some("GDRIVE"), "s")),
    )
    .await;
    let (status, reply) = call_fetch(&some_open, request(post(), r#"{"clientId":"cli_1"}"#)).await;
    assert_eq!((status, reply), (200, json!({ "backupShares": ["s"] })));
}
