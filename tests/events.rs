//! Every file in `events/` (the fixtures for `sam local invoke -e` and `cargo lambda invoke`)
//! through the handlers, with DynamoDB Local behind them, gets its expected status.

use custodian_backup::handler;
use custodian_backup::runtime::request_from_event;
use custodian_backup::secret::{Authenticator, WebhookSecrets};
use serde_json::Value;
use std::collections::BTreeSet;
use webhook_tests::events::{DEV_SECRET, EVENTS, event};
use webhook_tests::{Fixture, repo_root};

#[test]
fn every_event_file_has_an_expected_status() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(repo_root().join("events"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = EVENTS.iter().map(|(file, ..)| file.to_string()).collect();
    assert_eq!(on_disk, listed);
}

#[tokio::test]
async fn each_event_gets_its_expected_status() {
    let f = Fixture::new().await;
    let secrets: Authenticator =
        WebhookSecrets::new(Some(DEV_SECRET.to_owned().into()), None).into();
    for (file, route, expected) in EVENTS {
        let request = request_from_event(&event(file))
            .unwrap_or_else(|e| panic!("{file} is an API Gateway event: {e}"));
        let response = match route {
            "backup" => handler::backup(&f.store, &secrets, request).await,
            "fetch" => handler::fetch(&f.store, &secrets, request).await,
            _ => handler::eject::eject(&f.store, request).await,
        }
        .unwrap();
        let body: Value = serde_json::from_slice(response.body().as_ref()).expect("JSON body");
        assert_eq!(response.status().as_u16(), expected, "{file}: {body}");
        if file.starts_with("fetch") && expected == 200 {
            // Two methods stored by the multi-backup and base64 events for this client.
            assert_eq!(
                body["backupShares"].as_array().map(Vec::len),
                Some(2),
                "{file}: {body}"
            );
        }
        if file.starts_with("eject") && expected == 200 {
            assert!(
                body["share"]
                    .as_str()
                    .is_some_and(|share| share.contains("0x5f3c")),
                "{file}: {body}"
            );
        }
    }
}
