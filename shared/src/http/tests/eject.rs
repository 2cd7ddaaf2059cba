//! The eject endpoint against the in-memory store: who may take which share, and what is recorded.
//! The audit table itself is proven against DynamoDB Local in `tests/it/custody.rs`.

use super::{SHARE, store_share};
use crate::http::eject;
use crate::http::runtime::request_from_event;
use crate::store::memory::MemoryStore;
use serde_json::Value;

const CALLER: &str = "arn:aws:iam::123456789012:role/wallet-backend";

/// A REST API eject of `path` (`/clients/{clientId}/custodian-shares[/{backupMethod}]`).
async fn call(store: &MemoryStore, method: &str, path: &str, caller: Option<&str>) -> (u16, Value) {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut parameters = vec![("clientId", segments[1])];
    let mut resource = "/clients/{clientId}/custodian-shares".to_owned();
    if let Some(backup_method) = segments.get(3) {
        parameters.push(("backupMethod", backup_method));
        resource.push_str("/{backupMethod}");
    }
    let event = events::iam_event(method, &resource, &parameters, caller, None);
    let request = request_from_event(&event.to_string()).unwrap();
    super::decode(eject(store, request).await.unwrap())
}

#[tokio::test]
async fn a_signed_caller_gets_the_share_byte_for_byte_and_is_recorded_first() {
    let store = MemoryStore::default();
    store_share(&store, "cli_1", Some("GDRIVE-SECP256K1"), SHARE).await;
    let path = "/clients/cli_1/custodian-shares/GDRIVE-SECP256K1";
    let (status, body) = call(&store, "GET", path, Some(CALLER)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["share"], SHARE);
    assert_eq!(body["clientId"], "cli_1");
    assert_eq!(body["version"], 1);
    let exports = store.exports.lock().unwrap().clone();
    assert_eq!(
        exports,
        [(CALLER.to_owned(), "GDRIVE-SECP256K1".to_owned(), 1)]
    );
}

#[tokio::test]
async fn without_a_backup_method_every_current_share_is_returned() {
    let store = MemoryStore::default();
    store_share(&store, "cli_1", Some("GDRIVE-SECP256K1"), "first").await;
    store_share(&store, "cli_1", Some("PASSKEY-ED25519"), "second").await;
    let (status, body) = call(
        &store,
        "GET",
        "/clients/cli_1/custodian-shares",
        Some(CALLER),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let shares: Vec<&str> = body["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["share"].as_str().unwrap())
        .collect();
    assert_eq!(shares, ["first", "second"]);
}

#[tokio::test]
async fn a_client_with_only_the_legacy_share_gets_it_for_any_method() {
    let store = MemoryStore::default();
    store_share(&store, "cli_1", None, SHARE).await;
    let path = "/clients/cli_1/custodian-shares/GDRIVE-SECP256K1";
    let (status, body) = call(&store, "GET", path, Some(CALLER)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["backupMethod"], "UNKNOWN");
    assert_eq!(body["share"], SHARE);
}

#[tokio::test]
async fn refusals_name_the_problem_and_open_nothing() {
    let store = MemoryStore::default();
    store_share(&store, "cli_1", Some("GDRIVE-SECP256K1"), SHARE).await;
    let path = "/clients/cli_1/custodian-shares/GDRIVE-SECP256K1";
    let cases = [
        ("GET", path, None, 403, "no_caller_identity"),
        ("POST", path, Some(CALLER), 405, "method_not_allowed"),
        (
            "GET",
            "/clients/cli_2/custodian-shares/GDRIVE-SECP256K1",
            Some(CALLER),
            404,
            "unknown_client",
        ),
        (
            "GET",
            "/clients/cli_1/custodian-shares/PASSKEY-ED25519",
            Some(CALLER),
            404,
            "unknown_backup_method",
        ),
    ];
    for (method, path, caller, status, code) in cases {
        let (got, body) = call(&store, method, path, caller).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}"
        );
        assert!(!body.to_string().contains("SHARE_CANARY"), "{body}");
    }
    assert!(store.exports.lock().unwrap().is_empty());
}
