//! The Lambda binaries themselves, run as Lambda runs them (through the Lambda Runtime API),
//! against DynamoDB Local, fed the `events/` files.

use local_aws::events::{DEV_SECRET, event, expected_statuses, rest_event};
use local_aws::network::Link;
use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, aws_emulator, unique};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

fn status(outcome: &Result<Value, Value>) -> u64 {
    let response = outcome
        .as_ref()
        .unwrap_or_else(|error| panic!("function error: {error}"));
    response["statusCode"]
        .as_u64()
        .expect("an API Gateway proxy response")
}

#[tokio::test]
async fn every_event_file_gets_its_expected_status_from_the_real_binaries() {
    let f = Fixture::new().await;
    let env = f.function_env(DEV_SECRET);
    // The client half on tables and a key of its own, as deployed.
    let client = Fixture::new().await;
    let mut client_env = client.function_env(DEV_SECRET);
    client_env.push(("SHARE_KIND", "client"));
    // The Enclave MPC API's function: the same binary and tables, for the customer's backend.
    let mut backend_env = client_env.clone();
    backend_env.push(("CLIENT_SHARE_CALLERS", "backend"));
    let functions = [
        ("backup", Function::start(&binary("backup"), &env).await),
        (
            "fetch",
            Function::start(&binary("backup-fetch"), &env).await,
        ),
        ("eject", Function::start(&binary("eject"), &env).await),
        (
            "client-share",
            Function::start(&binary("client-backup-shares"), &client_env).await,
        ),
        (
            "backend-client-share",
            Function::start(&binary("client-backup-shares"), &backend_env).await,
        ),
    ];
    let function_for = |route| &functions.iter().find(|(name, _)| *name == route).unwrap().1;
    let events = expected_statuses();
    for (file, route, expected) in &events {
        let (route, expected) = (route.as_str(), *expected);
        let function = function_for(route);
        let outcome = function.invoke(&event(file)).await;
        assert_eq!(status(&outcome), u64::from(expected), "{file}: {outcome:?}");
        let response = outcome.unwrap();
        // REST responses carry headers in `multiValueHeaders`, HTTP API ones in `headers`.
        let content_type = response["multiValueHeaders"]["content-type"][0]
            .as_str()
            .or(response["headers"]["content-type"].as_str());
        assert_eq!(content_type, Some("application/json"), "{file}: {response}");
        let body: Value =
            serde_json::from_str(response["body"].as_str().expect("text body")).expect("JSON body");
        if route == "fetch" && expected == 200 {
            assert_eq!(
                body["backupShares"].as_array().map(Vec::len),
                Some(2),
                "{file}: {body}"
            );
        }
        if file == "client-share-get.json" {
            let cipher_text = body["cipherText"].as_str().unwrap_or_default();
            assert!(cipher_text.starts_with("ZW5j"), "{file}: {body}");
        }
        if route == "eject" && expected == 200 {
            assert!(
                body["share"]
                    .as_str()
                    .is_some_and(|share| share.contains("0x5f3c")),
                "{file}: {body}"
            );
        }
    }

    for (route, function) in &functions {
        let expected = events.iter().filter(|(_, r, _)| r == route).count();
        let request_line = "\"message\":\"request\"";
        let logs = function
            .output_when(|logs| logs.matches(request_line).count() >= expected)
            .await;
        assert!(!logs.contains("0x5f3c"), "logs leak a share:\n{logs}");
        assert!(!logs.contains(DEV_SECRET), "logs leak the secret:\n{logs}");
        assert!(
            !logs.contains("not-the-configured-secret"),
            "logs echo a presented secret:\n{logs}"
        );
        let requests: Vec<Value> = logs
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"))
            })
            .filter(|line: &Value| line["fields"]["message"] == "request")
            .collect();
        assert_eq!(
            requests.len(),
            expected,
            "one log line per request:\n{logs}"
        );
    }
}

#[tokio::test]
async fn a_share_stored_by_the_backup_binary_is_fetched_by_the_fetch_binary_byte_for_byte() {
    let f = Fixture::new().await;
    let env = f.function_env(DEV_SECRET);
    let backup = Function::start(&binary("backup"), &env).await;
    let fetch = Function::start(&binary("backup-fetch"), &env).await;
    let client_id = unique("cli");
    let shares: BTreeSet<String> = ["SECP256K1", "ED25519"]
        .iter()
        .map(|curve| {
            serde_json::json!({ "curve": curve, "share": "é☃😀\"\\\n", "id": client_id })
                .to_string()
        })
        .collect();
    for (share, curve) in shares.iter().zip(["SECP256K1", "ED25519"]) {
        let body = serde_json::json!({ "clientId": client_id, "backupMethod": format!("GDRIVE-{curve}"), "share": share });
        assert_eq!(
            status(
                &backup
                    .invoke(&rest_event("/backup", &body.to_string()).to_string())
                    .await
            ),
            200
        );
    }
    let body = serde_json::json!({ "clientId": client_id }).to_string();
    let response = fetch
        .invoke(&rest_event("/backup/fetch", &body).to_string())
        .await
        .unwrap();
    let reply: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let fetched: BTreeSet<String> = reply["backupShares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fetched, shares);
}

#[tokio::test]
async fn without_a_secret_the_binary_refuses_every_request_and_says_why_once() {
    let f = Fixture::new().await;
    let mut env = f.function_env("");
    env.retain(|(name, _)| *name != "WEBHOOK_SECRET");
    let backup = Function::start(&binary("backup"), &env).await;
    for _ in 0..2 {
        let outcome = backup.invoke(&event("backup-multi-backup.json")).await;
        assert_eq!(status(&outcome), 500);
    }
    let logs = backup
        .output_when(|logs| {
            logs.matches("status=500").count() + logs.matches("\"status\":500").count() >= 2
        })
        .await;
    assert_eq!(
        logs.matches("nor WEBHOOK_SECRET is set").count(),
        1,
        "{logs}"
    );
    assert!(f.scan(&f.tables.shares).await.is_empty());
}

/// In AWS each new connection is a TLS handshake: with the secret in Secrets Manager, init opens
/// DynamoDB's and KMS's while it reads the secret, so the first request waits for neither.
#[tokio::test]
async fn init_opens_the_connections_to_dynamodb_and_kms_beside_the_secrets_read() {
    let f = Fixture::new().await;
    let arn = aws_emulator::create_webhook_secret(DEV_SECRET).await;
    let port = |endpoint: &str| endpoint.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    for (name, file) in [
        ("backup", "backup-multi-backup.json"),
        ("backup-fetch", "fetch.json"),
    ] {
        let dynamodb = Link::to(port(&f.dynamodb_endpoint), Duration::ZERO);
        let kms = Link::to(port(aws_emulator::endpoint()), Duration::ZERO);
        let (dynamodb_endpoint, kms_endpoint) = (dynamodb.endpoint(), kms.endpoint());
        let mut env: Vec<(&str, &str)> = f.function_env("");
        env.retain(|(name, _)| {
            !matches!(
                *name,
                "WEBHOOK_SECRET" | "AWS_ENDPOINT_URL_DYNAMODB" | "AWS_ENDPOINT_URL_KMS"
            )
        });
        env.extend([
            ("WEBHOOK_SECRET_ARN", arn.as_str()),
            ("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb_endpoint),
            ("AWS_ENDPOINT_URL_KMS", &kms_endpoint),
        ]);
        let function = Function::start(&binary(name), &env).await;
        function.ready_after().await;
        assert_eq!(
            (dynamodb.connections(), kms.connections()),
            (1, 1),
            "{name}: one connection to each, opened during init"
        );
        assert_eq!(status(&function.invoke(&event(file)).await), 200, "{name}");
        // DynamoDB Local keeps connections open, as DynamoDB does (moto closes each one).
        assert_eq!(
            dynamodb.connections(),
            1,
            "{name}: the first request reused it"
        );
        // The whole log of the request, or the checks below would pass on a log not yet read.
        let logs = function
            .output_when(|logs| logs.contains("\"message\":\"request\""))
            .await;
        assert!(logs.contains("\"message\":\"request\""), "{name}: {logs}");
        assert!(!logs.contains("during init failed"), "{name}");
        // Init read the secret from Secrets Manager and opened storage: neither it nor the
        // share of the request that followed is in the log.
        assert!(
            !logs.contains(DEV_SECRET),
            "{name}: logs leak the secret:\n{logs}"
        );
        assert!(
            !logs.contains("0x5f3c"),
            "{name}: logs leak a share:\n{logs}"
        );
    }
}

/// Printed, not asserted: a figure to watch, not a flaky timing test.
#[tokio::test]
async fn cold_start_of_each_binary_is_measured() {
    let f = Fixture::new().await;
    let env = f.function_env(DEV_SECRET);
    for (name, file) in [
        ("backup", "backup-multi-backup.json"),
        ("backup-fetch", "fetch.json"),
    ] {
        let function = Function::start(&binary(name), &env).await;
        assert_eq!(status(&function.invoke(&event(file)).await), 200);
        let cold = function.started.elapsed();
        let warm_start = std::time::Instant::now();
        assert_eq!(status(&function.invoke(&event(file)).await), 200);
        println!(
            "{name}: cold start (process start to first response) {cold:?}, next request {:?} [debug build, DynamoDB Local]",
            warm_start.elapsed()
        );
    }
}
