//! The client-share API's routing, owner and answers, on the in-memory store. Storage itself is
//! proven against DynamoDB Local through the real binary (`tests/it/client_shares.rs`).

use super::*;
use crate::http::runtime::request_from_event;
use crate::store::memory::MemoryStore;

mod backend;

/// An HTTP API (payload 2.0) event as API Gateway sends it after its JWT authorizer verified
/// the token; `claims` `None` is a route wired without the authorizer.
pub(super) fn event(
    method: &str,
    backup_method: Option<&str>,
    body: Option<&str>,
    claims: Option<Value>,
) -> Request {
    let event = events::app_event(method, backup_method, claims, body);
    request_from_event(&event.to_string()).unwrap()
}

fn alice() -> Option<Value> {
    Some(json!({ "sub": "alice", "iss": "https://issuer.example" }))
}

pub(super) async fn call(store: &MemoryStore, request: Request) -> (u16, Value) {
    let callers = Callers::App {
        owner_claim: "sub".into(),
    };
    let response = client_backup_shares(store, &callers, request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("{other:?}"),
    };
    (status, body)
}

#[tokio::test]
async fn a_share_put_by_its_owner_comes_back_byte_for_byte_and_the_list_holds_no_cipher_text() {
    let store = MemoryStore::default();
    let body = r#"{"cipherText": "c1pher+/=é", "backupSharePairId": "p1"}"#;
    let put = event("PUT", Some("PASSWORD"), Some(body), alice());
    assert_eq!(
        call(&store, put).await,
        (200, json!({ "result": "created" }))
    );
    let again = event("PUT", Some("PASSWORD"), Some(body), alice());
    assert_eq!(call(&store, again).await.1["result"], "unchanged");
    let (status, got) = call(&store, event("GET", Some("PASSWORD"), None, alice())).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["cipherText"], "c1pher+/=é");
    assert_eq!(got["backupMethod"], "PASSWORD");
    let (status, listed) = call(&store, event("GET", None, None, alice())).await;
    assert_eq!(status, 200);
    assert_eq!(listed["clientBackupShares"][0]["backupMethod"], "PASSWORD");
    assert!(!listed.to_string().contains("c1pher"), "{listed}");
}

#[tokio::test]
async fn the_owner_is_the_tokens_claim_never_the_request_and_none_is_401() {
    let store = MemoryStore::default();
    let put = event(
        "PUT",
        Some("PASSWORD"),
        Some(r#"{"cipherText": "alices", "sub": "bob"}"#),
        alice(),
    );
    assert_eq!(call(&store, put).await.0, 200);
    let bob = Some(json!({ "sub": "bob", "iss": "https://issuer.example" }));
    let (status, body) = call(&store, event("GET", Some("PASSWORD"), None, bob)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    for claims in [
        None,
        Some(json!({ "email": "alice@example" })),
        Some(json!({ "sub": " " })),
    ] {
        let (status, body) = call(&store, event("GET", Some("PASSWORD"), None, claims)).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
}

#[tokio::test]
async fn the_legacy_unknown_share_answers_for_a_method_without_one_and_says_so() {
    let store = MemoryStore::default();
    let put = event(
        "PUT",
        Some("UNKNOWN"),
        Some(r#"{"cipherText": "old"}"#),
        alice(),
    );
    assert_eq!(call(&store, put).await.0, 200);
    let (status, got) = call(&store, event("GET", Some("GDRIVE"), None, alice())).await;
    assert_eq!(status, 200);
    assert_eq!(got["backupMethod"], "UNKNOWN");
    assert_eq!(got["requestedBackupMethod"], "GDRIVE");
}

#[tokio::test]
async fn bad_requests_get_a_clear_error_and_store_nothing() {
    let store = MemoryStore::default();
    let huge = format!(r#"{{"cipherText": "{}"}}"#, "a".repeat(70 * 1024));
    let cases = [
        (
            "PUT",
            Some(r#"{"cipherText": ""}"#.to_owned()),
            400,
            "empty_field",
        ),
        (
            "PUT",
            Some(r#"{"cipherText": 7}"#.to_owned()),
            400,
            "wrong_type",
        ),
        ("PUT", Some("not json".to_owned()), 400, "malformed_json"),
        ("PUT", Some(huge), 413, "cipher_text_too_large"),
        (
            "POST",
            Some(r#"{"cipherText": "x"}"#.to_owned()),
            405,
            "method_not_allowed",
        ),
        ("DELETE", None, 405, "method_not_allowed"),
    ];
    for (method, body, status, code) in cases {
        let request = event(method, Some("PASSWORD"), body.as_deref(), alice());
        let (got, answer) = call(&store, request).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{method} {answer}"
        );
    }
    let (_, listed) = call(&store, event("GET", None, None, alice())).await;
    assert_eq!(listed["clientBackupShares"], json!([]));
}

#[tokio::test]
async fn storage_down_is_a_503_worth_retrying() {
    let store = MemoryStore::unavailable();
    let put = event(
        "PUT",
        Some("PASSWORD"),
        Some(r#"{"cipherText": "x"}"#),
        alice(),
    );
    let (status, body) = call(&store, put).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("storage_unavailable"))
    );
}
