//! Bad requests: each is refused naming the problem, and changes nothing stored.

use super::*;
use crate::domain::Backup;
use serde_json::json;

#[tokio::test]
async fn bad_bodies_are_400_naming_the_problem_and_change_nothing() {
    let store = MemoryStore::default();
    store_share(&store, "cli_1", Some("GDRIVE"), "kept").await;
    let long = "m".repeat(crate::domain::MAX_IDENTIFIER_BYTES + 1);
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
    let backup = Backup::from_json(backup_body("cli_1", Some("GDRIVE"), SHARE).as_bytes()).unwrap();
    let printed = format!("{backup:?}");
    assert!(printed.contains("Share([REDACTED])"), "{printed}");
    assert!(!printed.contains("SHARE_CANARY"), "{printed}");
}
