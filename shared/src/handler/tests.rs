//! Handler behaviour against the in-memory store: statuses, bodies and logs as Portal meets them.
//! Storage itself is proven against DynamoDB Local in `tests/`.

use super::*;
use crate::secret::WebhookSecrets;
use crate::store::memory::MemoryStore;
use lambda_http::http;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::io::Write;

const SECRET: &str = "SECRET_CANARY_3f9a1c7e-portal-dashboard";
const SHARE: &str = r#"{"share":"SHARE_CANARY_0x5f3c9d","bks":{"x":"é☃\n\"q\""}}"#;

fn secrets() -> Authenticator {
    WebhookSecrets::new(Some(SecretString::from(SECRET.to_owned())), None).into()
}

fn post() -> http::request::Builder {
    http::Request::builder()
        .method("POST")
        .header("content-type", "application/json")
        .header("x-webhook-secret", SECRET)
}

fn request(builder: http::request::Builder, body: impl Into<Body>) -> Request {
    builder.body(body.into()).expect("valid test request")
}

fn backup_body(client_id: &str, backup_method: Option<&str>, share: &str) -> String {
    let mut body = json!({ "clientId": client_id, "share": share });
    if let Some(method) = backup_method {
        body["backupMethod"] = method.into();
    }
    body.to_string()
}

async fn call_backup(store: &MemoryStore, request: Request) -> (u16, Value) {
    let response = backup(store, &secrets(), request)
        .await
        .expect("infallible");
    decode(response)
}

async fn call_fetch(store: &MemoryStore, request: Request) -> (u16, Value) {
    let response = fetch(store, &secrets(), request).await.expect("infallible");
    decode(response)
}

fn decode(response: Response<Body>) -> (u16, Value) {
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: &[u8] = response.body().as_ref();
    (
        response.status().as_u16(),
        serde_json::from_slice(body).expect("JSON body"),
    )
}

async fn store_share(
    store: &MemoryStore,
    client_id: &str,
    method: Option<&str>,
    share: &str,
) -> Value {
    let body = backup_body(client_id, method, share);
    let (status, reply) = call_backup(store, request(post(), body)).await;
    assert_eq!(status, 200, "{reply}");
    reply
}

async fn fetched(store: &MemoryStore, client_id: &str) -> Value {
    let body = json!({ "clientId": client_id }).to_string();
    let (status, reply) = call_fetch(store, request(post(), body)).await;
    assert_eq!(status, 200, "{reply}");
    reply
}

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
async fn bad_bodies_are_400_naming_the_problem_and_change_nothing() {
    let store = MemoryStore::default();
    store_share(&store, "cli_1", Some("GDRIVE"), "kept").await;
    let long = "m".repeat(crate::portal::MAX_IDENTIFIER_BYTES + 1);
    let cases: Vec<(String, &str, &str)> = vec![
        (
            "".into(),
            "malformed_json",
            "request body is not valid JSON: EOF while parsing a value at line 1 column 0",
        ),
        (
            r#"{"clientId": "cli_1", "share": "#.into(),
            "malformed_json",
            "request body is not valid JSON: EOF while parsing a value at line 1 column 31",
        ),
        (
            serde_json::to_string(SHARE).unwrap(),
            "not_an_object",
            "request body must be a JSON object",
        ),
        (
            format!(r#"["{SECRET}"]"#),
            "not_an_object",
            "request body must be a JSON object",
        ),
        (
            "null".into(),
            "not_an_object",
            "request body must be a JSON object",
        ),
        (
            r#"{"share": "s"}"#.into(),
            "missing_field",
            "field `clientId` is required",
        ),
        (
            r#"{"clientId": "cli_1"}"#.into(),
            "missing_field",
            "field `share` is required",
        ),
        (
            r#"{"clientId": "cli_1", "share": null}"#.into(),
            "missing_field",
            "field `share` is required",
        ),
        (
            r#"{"clientId": "", "share": "s"}"#.into(),
            "empty_field",
            "field `clientId` must not be empty",
        ),
        (
            r#"{"clientId": "  ", "share": "s"}"#.into(),
            "empty_field",
            "field `clientId` must not be empty",
        ),
        (
            r#"{"clientId": "cli_1", "share": ""}"#.into(),
            "empty_field",
            "field `share` must not be empty",
        ),
        (
            r#"{"clientId": 42, "share": "s"}"#.into(),
            "wrong_type",
            "field `clientId` must be a string, not a number",
        ),
        (
            r#"{"clientId": "cli_1", "share": {"x": 1}}"#.into(),
            "wrong_type",
            "field `share` must be a string, not an object",
        ),
        (
            r#"{"clientId": "cli_1", "share": "s", "backupMethod": ["GDRIVE"]}"#.into(),
            "wrong_type",
            "field `backupMethod` must be a string, not an array",
        ),
        (
            format!(
                r#"{{"clientId": "cli_1", "share": "s", "share": "{SHARE_ESCAPED}"}}"#,
                SHARE_ESCAPED = "x"
            ),
            "duplicate_field",
            "field `share` appears more than once",
        ),
        (
            format!(r#"{{"clientId": "{long}", "share": "s"}}"#),
            "field_too_long",
            "field `clientId` is longer than 256 bytes",
        ),
        (
            format!(r#"{{"clientId": "cli_1", "share": "s", "backupMethod": "{long}"}}"#),
            "field_too_long",
            "field `backupMethod` is longer than 256 bytes",
        ),
        (
            r#"{"clientId": "cli\u0000_1", "share": "s"}"#.into(),
            "invalid_character",
            "field `clientId` must not contain control characters",
        ),
        (
            r#"{"clientId": "cli_1", "share": "s", "backupMethod": "GDRIVE\n"}"#.into(),
            "invalid_character",
            "field `backupMethod` must not contain control characters",
        ),
    ];
    for (body, code, message) in cases {
        let (status, reply) = call_backup(&store, request(post(), body.clone())).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            reply,
            json!({ "error": { "code": code, "message": message } }),
            "{body}"
        );
    }
    let invalid_utf8 = request(
        post(),
        Body::Binary(b"{\"clientId\": \"cli_1\", \"share\": \"\xff\"}".to_vec()),
    );
    let (status, reply) = call_backup(&store, invalid_utf8).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );
    assert_eq!(
        fetched(&store, "cli_1").await,
        json!({ "backupShares": ["kept"] })
    );
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_the_pair_id_is_accepted() {
    let store = MemoryStore::default();
    let body = json!({
        "clientId": "cli_1", "backupMethod": "GDRIVE-SECP256K1", "share": SHARE,
        "backupSharePairId": "bsp_1", "somethingPortalAddsLater": { "nested": [1, 2] },
    });
    assert_eq!(
        call_backup(&store, request(post(), body.to_string()))
            .await
            .0,
        200
    );
    assert_eq!(
        fetched(&store, "cli_1").await,
        json!({ "backupShares": [SHARE] })
    );
}

#[tokio::test]
async fn fetch_validates_its_body_too() {
    let store = MemoryStore::default();
    for (body, code) in [
        ("{}", "missing_field"),
        (r#"{"clientId": 7}"#, "wrong_type"),
        ("{", "malformed_json"),
    ] {
        let (status, reply) = call_fetch(&store, request(post(), body)).await;
        assert_eq!(
            (status, reply["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn storage_failure_is_503_never_2xx() {
    let store = MemoryStore::unavailable();
    let (status, reply) =
        call_backup(&store, request(post(), backup_body("cli_1", None, SHARE))).await;
    assert_eq!(
        (status, reply),
        (
            503,
            json!({ "error": { "code": "storage_unavailable", "message": "storage is unavailable; the request may not have been completed, retry it" } })
        )
    );
    let (status, _) = call_fetch(&store, request(post(), r#"{"clientId":"cli_1"}"#)).await;
    assert_eq!(status, 503);
}

#[test]
fn debug_of_a_parsed_backup_redacts_the_share() {
    let backup =
        crate::portal::Backup::from_json(backup_body("cli_1", Some("GDRIVE"), SHARE).as_bytes())
            .unwrap();
    let printed = format!("{backup:?}");
    assert!(printed.contains("Share([REDACTED])"), "{printed}");
    assert!(!printed.contains("SHARE_CANARY"), "{printed}");
}

thread_local! {
    static CAPTURED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Appends to this thread's capture buffer.
struct ThreadBuffer;

impl Write for ThreadBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURED.with(|captured| captured.borrow_mut().extend_from_slice(bytes));
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures everything logged on this thread while `run` runs. One global subscriber at TRACE
/// (a per-test default subscriber races with tracing's callsite cache across test threads);
/// each `#[tokio::test]` runs on its own thread, so each test reads only its own lines.
async fn captured_logs<F: std::future::Future<Output = ()>>(run: F) -> String {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| ThreadBuffer)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
    });
    CAPTURED.with(|captured| captured.borrow_mut().clear());
    run.await;
    String::from_utf8(CAPTURED.with(|captured| captured.take())).unwrap()
}

#[tokio::test]
async fn no_share_or_secret_reaches_a_log_or_an_error_body_on_any_path() {
    let logs = captured_logs(async {
        let store = MemoryStore::default();
        let body = backup_body("cli_1", Some("GDRIVE"), SHARE);
        let mut replies = vec![
            call_backup(&store, request(post(), body.clone())).await,
            call_backup(&store, request(post(), body.clone())).await,
            call_backup(
                &store,
                request(
                    post(),
                    backup_body("cli_1", Some("GDRIVE"), &format!("{SHARE}2")),
                ),
            )
            .await,
            call_fetch(&store, request(post(), r#"{"clientId":"cli_1"}"#)).await,
        ];
        assert!(replies.iter().all(|(status, _)| *status == 200));
        replies.clear();
        let no_secret = http::Request::builder()
            .method("POST")
            .header("x-webhook-secret", format!("{SECRET}x"));
        let errors = [
            request(no_secret, body.clone()),
            request(post().method("PUT"), body.clone()),
            request(
                post(),
                format!(r#"{{"clientId": "cli_1", "share": "{SHARE}", "share": "x"}}"#),
            ),
            request(post(), serde_json::to_string(SHARE).unwrap()),
            request(
                post(),
                format!(r#"{{"clientId": "cli_1", "share": "{SHARE}"#),
            ),
            request(post(), format!("{body}{}", " ".repeat(MAX_BODY_BYTES))),
            request(
                post(),
                format!(r#"{{"clientId": ["{SHARE}"], "share": "s"}}"#),
            ),
        ];
        for error in errors {
            replies.push(call_backup(&store, error).await);
        }
        replies.push(call_backup(&MemoryStore::unavailable(), request(post(), body.clone())).await);
        replies.push(
            call_fetch(
                &MemoryStore::unavailable(),
                request(post(), r#"{"clientId":"cli_1"}"#),
            )
            .await,
        );
        let all_unreadable = MemoryStore::with_unreadable(2);
        replies.push(call_fetch(&all_unreadable, request(post(), r#"{"clientId":"cli_1"}"#)).await);
        for (status, reply) in replies {
            assert!(status >= 400, "{reply}");
            let text = reply.to_string();
            assert!(!text.contains("CANARY"), "error body leaks: {text}");
        }
    })
    .await;
    assert!(
        logs.contains("status=200"),
        "expected request lines in: {logs}"
    );
    assert!(
        logs.contains("status=503"),
        "expected request lines in: {logs}"
    );
    assert!(!logs.contains("SHARE_CANARY"), "logs leak a share: {logs}");
    assert!(
        !logs.contains("SECRET_CANARY"),
        "logs leak a secret: {logs}"
    );
}

#[tokio::test]
async fn each_request_is_logged_as_one_line_with_outcome_and_identifiers() {
    let logs = captured_logs(async {
        let store = MemoryStore::default();
        call_backup(
            &store,
            request(post(), backup_body("cli_9", Some("ICLOUD-ED25519"), SHARE)),
        )
        .await;
    })
    .await;
    let lines: Vec<&str> = logs.lines().collect();
    assert_eq!(lines.len(), 1, "{logs}");
    for field in [
        "route=\"backup\"",
        "status=200",
        "outcome=\"created\"",
        "client_id=\"cli_9\"",
        "backup_method=\"ICLOUD-ED25519\"",
        "secret_slot=\"current\"",
        "latency_ms=",
    ] {
        assert!(lines[0].contains(field), "{field} missing in {logs}");
    }
}

#[test]
fn trace_and_debug_are_compiled_out() {
    // lambda_runtime logs each raw event, share included, at TRACE.
    assert!(tracing::level_filters::STATIC_MAX_LEVEL <= tracing::level_filters::LevelFilter::INFO);
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
