//! Every `events/` fixture through the handlers, against the in-memory store: each gets the status
//! `events/README.md` gives it. The real binaries replay them against DynamoDB Local in `tests/`.

use super::decode;
use crate::http::runtime::request_from_event;
use crate::http::{Callers, backup, client_backup_shares, eject, fetch};
use crate::secret::{Authenticator, WebhookSecrets};
use crate::store::memory::MemoryStore;
use events::{DEV_SECRET, event, events_dir, expected_statuses};
use std::collections::BTreeSet;

#[test]
fn every_event_file_has_an_expected_status() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    let listed: BTreeSet<String> = expected_statuses().into_iter().map(|row| row.0).collect();
    assert_eq!(on_disk, listed);
}

#[tokio::test]
async fn each_event_gets_its_expected_status() {
    let store = MemoryStore::default();
    // The client half has its own tables, as deployed.
    let client_store = MemoryStore::default();
    let secrets: Authenticator =
        WebhookSecrets::new(Some(DEV_SECRET.to_owned().into()), None).into();
    let app = Callers::App {
        owner_claim: "sub".into(),
    };
    for (file, route, expected) in expected_statuses() {
        let request = request_from_event(&event(&file))
            .unwrap_or_else(|e| panic!("{file} is an API Gateway event: {e}"));
        let response = match route.as_str() {
            "backup" => backup(&store, &secrets, request).await,
            "fetch" => fetch(&store, &secrets, request).await,
            "client-share" => client_backup_shares(&client_store, &app, request).await,
            "backend-client-share" => {
                client_backup_shares(&client_store, &Callers::Backend, request).await
            }
            _ => eject(&store, request).await,
        }
        .unwrap();
        let (status, body) = decode(response);
        assert_eq!(status, expected, "{file}: {body}");
        if route == "fetch" && expected == 200 {
            // The multi-backup and base64 events stored two methods for this client.
            let shares = body["backupShares"].as_array().map(Vec::len);
            assert_eq!(shares, Some(2), "{file}: {body}");
        }
        if route == "eject" && expected == 200 {
            let share = body["share"].as_str().unwrap_or_default();
            assert!(share.contains("0x5f3c"), "{file}: {body}");
        }
        if file == "client-share-get.json" {
            assert!(
                body["cipherText"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("ZW5j")),
                "{body}"
            );
        }
    }
}
