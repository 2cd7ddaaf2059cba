//! What reaches a log or an error body: one line per request, never a share or a secret.

use super::*;
use crate::http::error::MAX_BODY_BYTES;

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
