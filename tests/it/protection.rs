//! The key material's protection, against DynamoDB Local and the KMS and Secrets Manager emulator:
//! no plaintext share at rest, tampered or moved ciphertext fails closed, plaintext from an
//! earlier version migrates without a flag day, and the webhook secret rotates without downtime.

use crate::support::{SECRET, answer, backup, fetch, post, put_row};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use custodian_backup::http as webhook;
use custodian_backup::secret::{AuthFailure, Authenticator, ManagedSecret, SecretSlot, Timing};
use custodian_backup::store::dynamodb::{DynamoDbStore, Item, schema};
use lambda_http::http::{HeaderMap, HeaderValue};

use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, aws_emulator, unique};
use serde_json::{Value, json};
use std::time::Duration;

/// Canaries: neither may appear in any stored byte, error body or log.
const CANARY: &str = "SHARE_CANARY_7d1e";
const SHARE: &str = r#"{"share":"SHARE_CANARY_7d1e-0x91ab","pubkey":"02c0ffee","bks":{"x":"é☃"}}"#;

/// Every byte an item holds, attribute by attribute, as text (lossy) for searching.
fn item_bytes(item: &Item) -> String {
    item.iter()
        .map(|(name, value)| {
            let bytes = match value {
                AttributeValue::S(text) | AttributeValue::N(text) => text.as_bytes().to_vec(),
                AttributeValue::B(blob) => blob.as_ref().to_vec(),
                other => format!("{other:?}").into_bytes(),
            };
            format!("{name}={}", String::from_utf8_lossy(&bytes))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn current_item(f: &Fixture, client_id: &str, method: &str) -> Item {
    f.client
        .get_item()
        .table_name(&f.tables.shares)
        .key(schema::CLIENT_ID, AttributeValue::S(client_id.into()))
        .key(schema::BACKUP_METHOD, AttributeValue::S(method.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("the item exists")
}

async fn put_item(f: &Fixture, item: Item) {
    put_row(&f.client, &f.tables.shares, item).await;
}

fn with_flipped_byte(item: &Item, attribute: &str) -> Item {
    let mut item = item.clone();
    let Some(AttributeValue::B(blob)) = item.get(attribute) else {
        panic!("{attribute} is binary");
    };
    let mut bytes = blob.as_ref().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    item.insert(attribute.into(), AttributeValue::B(Blob::new(bytes)));
    item
}

/// A refusal that says why and returns nothing stored.
fn assert_fails_closed((status, body): (u16, Value), case: &str) {
    assert_eq!(status, 500, "{case}: {body}");
    assert_eq!(
        body["error"]["code"].as_str(),
        Some("stored_share_unreadable"),
        "{case}: {body}"
    );
    assert!(body.get("backupShares").is_none(), "{case}: {body}");
    assert!(!body.to_string().contains(CANARY), "{case}: {body}");
}

#[tokio::test]
async fn no_stored_item_holds_the_share_in_plain_text() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    let replacement = SHARE.replace("0x91ab", "0x5e5e");
    assert_eq!(
        backup(&f.store, &client_id, Some("GDRIVE-SECP256K1"), SHARE)
            .await
            .0,
        200
    );
    assert_eq!(
        backup(&f.store, &client_id, Some("GDRIVE-SECP256K1"), &replacement)
            .await
            .0,
        200
    );

    let current = f.scan(&f.tables.shares).await;
    let history = f.scan(&f.tables.history).await;
    assert_eq!((current.len(), history.len()), (1, 1));
    for item in current.iter().chain(&history) {
        let stored = item_bytes(item);
        for fragment in [CANARY, "0x91ab", "0x5e5e", "02c0ffee", "pubkey", "é☃"] {
            assert!(
                !stored.contains(fragment),
                "{fragment} stored in plain text:\n{stored}"
            );
        }
        assert!(!item.contains_key("share"), "no plaintext attribute");
        let Some(AttributeValue::S(key_id)) = item.get(schema::KMS_KEY_ID) else {
            panic!("kmsKeyId is recorded");
        };
        assert_eq!(key_id, &f.key_id);
    }
    assert_eq!(f.share_in(&history[0]).await, SHARE);
    assert_eq!(
        fetch(&f.store, &client_id).await,
        (200, json!({ "backupShares": [replacement] }))
    );
}

#[tokio::test]
async fn altered_ciphertext_nonce_or_data_key_fails_closed() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    backup(&f.store, &client_id, Some("PASSKEY"), SHARE).await;
    let sealed = current_item(&f, &client_id, "PASSKEY").await;
    for attribute in [
        schema::SEALED_SHARE,
        schema::NONCE,
        schema::ENCRYPTED_DATA_KEY,
    ] {
        put_item(&f, with_flipped_byte(&sealed, attribute)).await;
        assert_fails_closed(fetch(&f.store, &client_id).await, attribute);
    }
    // Put back as written, it opens again: the refusals above were the alterations.
    put_item(&f, sealed).await;
    assert_eq!(fetch(&f.store, &client_id).await.0, 200);
}

#[tokio::test]
async fn a_share_moved_to_another_row_fails_closed() {
    let f = Fixture::new().await;
    let (victim, attacker) = (unique("victim"), unique("attacker"));
    backup(&f.store, &victim, Some("ICLOUD-SECP256K1"), SHARE).await;
    backup(
        &f.store,
        &attacker,
        Some("ICLOUD-SECP256K1"),
        "attacker's own share",
    )
    .await;
    let victims = current_item(&f, &victim, "ICLOUD-SECP256K1").await;

    let moved_to = |client_id: &str, method: &str| {
        let mut moved = victims.clone();
        moved.insert(
            schema::CLIENT_ID.into(),
            AttributeValue::S(client_id.into()),
        );
        moved.insert(
            schema::BACKUP_METHOD.into(),
            AttributeValue::S(method.into()),
        );
        moved
    };
    // The victim's envelope pasted over the attacker's only row: nothing opens, nothing returned.
    put_item(&f, moved_to(&attacker, "ICLOUD-SECP256K1")).await;
    assert_fails_closed(fetch(&f.store, &attacker).await, "another client's row");
    // Pasted into another method's row of the victim: only the genuine row is returned.
    put_item(&f, moved_to(&victim, "ICLOUD-ED25519")).await;
    assert_eq!(
        fetch(&f.store, &victim).await,
        (200, json!({ "backupShares": [SHARE] })),
        "the moved copy is left out"
    );
}

#[tokio::test]
async fn a_share_wrapped_by_another_kms_key_is_refused() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    backup(&f.store, &client_id, Some("PASSWORD"), SHARE).await;
    let other_key = Fixture::share_key(&aws_emulator::create_share_key().await).await;
    let other = DynamoDbStore::new(f.client.clone(), f.tables.clone(), other_key);
    // AWS KMS answers IncorrectKeyException (500 stored_share_unreadable); the emulator answers
    // AccessDeniedException (503). Either way: refused, and nothing returned.
    let (status, body) = fetch(&other, &client_id).await;
    assert!(matches!(status, 500 | 503), "{body}");
    assert!(body.get("backupShares").is_none() && !body.to_string().contains(CANARY));
}

#[tokio::test]
async fn an_item_without_a_sealed_envelope_is_never_served_and_is_set_aside_by_the_next_share() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    // What an attacker with table access, or a bad hand-edit, could write: a plaintext share.
    let unsealed = Item::from([
        (
            schema::CLIENT_ID.into(),
            AttributeValue::S(client_id.clone()),
        ),
        (
            schema::BACKUP_METHOD.into(),
            AttributeValue::S("GDRIVE".into()),
        ),
        (
            "share".into(),
            AttributeValue::S("forged plaintext share".into()),
        ),
        (schema::VERSION.into(), AttributeValue::N("1".into())),
    ]);
    put_item(&f, unsealed.clone()).await;
    assert_fails_closed(fetch(&f.store, &client_id).await, "only an unsealed item");
    backup(&f.store, &client_id, Some("PASSKEY"), SHARE).await;
    assert_eq!(
        fetch(&f.store, &client_id).await,
        (200, json!({ "backupShares": [SHARE] })),
        "the sealed share is served, the unsealed one never"
    );
    // Portal deletes its copy whatever the answer: a /backup onto the unreadable row stores the
    // new share, and the row goes to history exactly as it was, marked, for investigation.
    let (status, reply) = backup(&f.store, &client_id, Some("GDRIVE"), "a new share").await;
    assert_eq!(
        (status, reply["result"].as_str()),
        (200, Some("replaced_unreadable"))
    );
    let history = f.scan(&f.tables.history).await;
    assert_eq!(history.len(), 1);
    assert_set_aside(&history[0], &unsealed, "sealFormat");
    assert_eq!(
        number(
            &current_item(&f, &client_id, "GDRIVE").await,
            schema::VERSION
        ),
        2
    );
    let (status, fetched) = fetch(&f.store, &client_id).await;
    assert_eq!(status, 200);
    let mut shares: Vec<&str> = fetched["backupShares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|share| share.as_str().unwrap())
        .collect();
    shares.sort();
    assert_eq!(shares, ["a new share", SHARE]);
}

/// `kept` is `original` set aside: every attribute as it was, plus the history key and a mark
/// naming the attribute it failed on.
fn assert_set_aside(kept: &Item, original: &Item, cause: &str) {
    for (name, value) in original {
        if name != schema::VERSION {
            assert_eq!(kept.get(name), Some(value), "{name} changed");
        }
    }
    assert_eq!(
        kept.get(schema::SET_ASIDE_UNREADABLE),
        Some(&AttributeValue::S(cause.into()))
    );
    assert!(kept.contains_key(schema::OWNER) && kept.contains_key(schema::REPLACED_AT));
}

fn number(item: &Item, name: &str) -> u64 {
    item[name].as_n().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_row_a_rolled_back_deployment_left_never_costs_the_next_share_of_either_half() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    backup(&f.store, &client_id, Some("GDRIVE"), SHARE).await;
    // A canary of a later release sealed this row in a format this one does not know, then
    // CodeDeploy rolled the functions back; or a hand edit dropped the version.
    let mut newer = current_item(&f, &client_id, "GDRIVE").await;
    newer.insert(schema::SEAL_FORMAT.into(), AttributeValue::N("99".into()));
    put_item(&f, newer.clone()).await;
    let (status, reply) = backup(&f.store, &client_id, Some("GDRIVE"), "after the rollback").await;
    assert_eq!(
        (status, reply["result"].as_str()),
        (200, Some("replaced_unreadable"))
    );
    let history = f.scan(&f.tables.history).await;
    assert_eq!(history.len(), 1);
    assert_set_aside(&history[0], &newer, "sealFormat");
    assert_eq!(number(&history[0], schema::VERSION), 1);

    let mut versionless = current_item(&f, &client_id, "GDRIVE").await;
    versionless.remove(schema::VERSION);
    put_item(&f, versionless.clone()).await;
    let (status, reply) = backup(&f.store, &client_id, Some("GDRIVE"), "after the hand edit").await;
    assert_eq!(
        (status, reply["result"].as_str()),
        (200, Some("replaced_unreadable"))
    );
    let history = f.scan(&f.tables.history).await;
    assert_eq!(
        history.len(),
        2,
        "the set-aside version kept, nothing overwritten"
    );
    assert_eq!(
        fetch(&f.store, &client_id).await,
        (200, json!({ "backupShares": ["after the hand edit"] }))
    );

    // The real backup binary answers 200 and counts it, with no share in its logs.
    let mut unreadable = current_item(&f, &client_id, "GDRIVE").await;
    unreadable.insert(schema::NONCE.into(), AttributeValue::S("not binary".into()));
    put_item(&f, unreadable).await;
    let function = Function::start(&binary("backup"), &f.function_env(SECRET)).await;
    let mut event: Value =
        serde_json::from_str(&local_aws::events::event("backup-multi-backup.json")).unwrap();
    local_aws::events::set_header(&mut event, "X-Webhook-Secret", &[SECRET]);
    event["body"] = json!({ "clientId": client_id, "backupMethod": "GDRIVE", "share": SHARE })
        .to_string()
        .into();
    let response = function
        .invoke(&event.to_string())
        .await
        .expect("a response");
    assert_eq!(response["statusCode"], 200, "{response}");
    let logs = function
        .output_when(|logs| logs.contains("UnreadableSharesSetAside"))
        .await;
    assert!(logs.contains("\"unreadable\":\"nonce\""), "{logs}");
    assert!(!logs.contains(CANARY), "a share reached the logs");
}

#[tokio::test]
async fn the_real_fetch_binary_returns_the_shares_that_open_and_fails_closed_when_none_does() {
    let f = Fixture::new().await;
    let client_id = unique("cli");
    backup(&f.store, &client_id, Some("GDRIVE-ED25519"), SHARE).await;
    let good = SHARE.replace("0x91ab", "0x600d");
    backup(&f.store, &client_id, Some("GDRIVE-SECP256K1"), &good).await;
    let sealed = current_item(&f, &client_id, "GDRIVE-ED25519").await;
    put_item(&f, with_flipped_byte(&sealed, schema::SEALED_SHARE)).await;

    let fetch = Function::start(&binary("backup-fetch"), &f.function_env(SECRET)).await;
    let mut event: Value = serde_json::from_str(&local_aws::events::event("fetch.json")).unwrap();
    event["headers"]["X-Webhook-Secret"] = SECRET.into();
    event["multiValueHeaders"]["X-Webhook-Secret"] = json!([SECRET]);
    event["body"] = json!({ "clientId": client_id }).to_string().into();
    let response = fetch.invoke(&event.to_string()).await.expect("a response");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(response["statusCode"], 200, "{body}");
    assert_eq!(body, json!({ "backupShares": [good] }));
    // The metrics line follows the request line, once the invocation is answered.
    let logs = fetch
        .output_when(|logs| {
            logs.contains("\"message\":\"request\"") && logs.contains("\"StoredSharesUnreadable\"")
        })
        .await;
    assert!(logs.contains("\"unreadable\":1"), "{logs}");
    assert!(logs.contains("failed its integrity check"), "{logs}");
    assert!(
        !logs.contains("0x91ab") && !logs.contains("0x600d") && !logs.contains(SECRET),
        "{logs}"
    );
    assert!(
        logs.contains("StoredSharesUnreadable"),
        "counted for the alarm: {logs}"
    );

    // With the other share altered too, nothing opens: 500, nothing returned.
    let other = current_item(&f, &client_id, "GDRIVE-SECP256K1").await;
    put_item(&f, with_flipped_byte(&other, schema::NONCE)).await;
    let response = fetch.invoke(&event.to_string()).await.expect("a response");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_fails_closed(
        (response["statusCode"].as_u64().unwrap() as u16, body),
        "binary",
    );
    let logs = fetch
        .output_when(|logs| logs.contains("stored_share_unreadable"))
        .await;
    assert!(logs.contains("stored_share_unreadable"), "{logs}");
    assert!(!logs.contains(CANARY) && !logs.contains(SECRET), "{logs}");
}

fn header(secret: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-webhook-secret", HeaderValue::from_str(secret).unwrap());
    headers
}

#[tokio::test]
async fn a_rotated_secret_is_accepted_at_once_and_the_previous_one_until_retired() {
    let arn = aws_emulator::create_webhook_secret("first-secret-0123456789").await;
    let secrets = aws_emulator::secrets_client().await;
    let managed = ManagedSecret::with_timing(
        secrets.clone(),
        arn.clone(),
        timing(Duration::from_secs(3600), Duration::ZERO),
    );
    managed.load().await.expect("the secret loads");
    let verify = |secret: &'static str| {
        let managed = &managed;
        async move { managed.verify(&header(secret)).await }
    };
    assert_eq!(
        verify("first-secret-0123456789").await,
        Ok(SecretSlot::Current)
    );

    // Rotated after it was cached: the first request with the new secret re-reads it.
    aws_emulator::rotate_webhook_secret(&arn, "second-secret-0123456789").await;
    assert_eq!(
        verify("second-secret-0123456789").await,
        Ok(SecretSlot::Current)
    );
    assert_eq!(
        verify("first-secret-0123456789").await,
        Ok(SecretSlot::Previous)
    );
    assert_eq!(verify("never-a-secret").await, Err(AuthFailure::Refused));

    // Rotated again: the first secret is neither current nor previous, and is refused once
    // the cache is re-read.
    aws_emulator::rotate_webhook_secret(&arn, "third-secret-0123456789").await;
    assert_eq!(
        verify("third-secret-0123456789").await,
        Ok(SecretSlot::Current)
    );
    assert_eq!(
        verify("first-secret-0123456789").await,
        Err(AuthFailure::Refused)
    );
    assert_eq!(
        verify("second-secret-0123456789").await,
        Ok(SecretSlot::Previous)
    );
}

/// Cache timings for a test: values trusted for `max_age`, re-reads `interval` apart, never
/// expired.
fn timing(max_age: Duration, interval: Duration) -> Timing {
    Timing {
        max_age,
        hard_expiry: Duration::from_secs(24 * 3600),
        min_refresh_interval: interval,
        stale_retry_interval: interval,
    }
}

#[tokio::test]
async fn a_newly_rotated_secret_is_found_under_a_stream_of_wrong_ones() {
    let arn = aws_emulator::create_webhook_secret("first-secret-0123456789").await;
    let interval = Duration::from_millis(300);
    let managed = ManagedSecret::with_timing(
        aws_emulator::secrets_client().await,
        arn.clone(),
        timing(Duration::from_secs(3600), interval),
    );
    managed.load().await.expect("the secret loads");
    let flood = || async {
        for _ in 0..20 {
            assert_eq!(
                managed.verify(&header("wrong")).await,
                Err(AuthFailure::Refused)
            );
        }
    };
    flood().await;
    // Rotated: the new value is in Secrets Manager before anyone types it into Portal's
    // dashboard, so Portal's first call with it comes at least one interval later, and finds it
    // whatever the wrong secrets did meanwhile.
    aws_emulator::rotate_webhook_secret(&arn, "second-secret-0123456789").await;
    flood().await;
    tokio::time::sleep(interval).await;
    flood().await;
    assert_eq!(
        managed.verify(&header("second-secret-0123456789")).await,
        Ok(SecretSlot::Current)
    );
    assert_eq!(
        managed.verify(&header("first-secret-0123456789")).await,
        Ok(SecretSlot::Previous)
    );
}

/// The real backup binary reading its secret from Secrets Manager through a proxy that counts
/// its `GetSecretValue` calls, and a `/backup` event presenting `values` as its secret.
fn refused_event(values: &[&str]) -> String {
    let mut event: Value =
        serde_json::from_str(&local_aws::events::event("backup-multi-backup.json")).unwrap();
    local_aws::events::set_header(&mut event, "X-Webhook-Secret", values);
    event.to_string()
}

#[tokio::test]
async fn refused_requests_never_wait_and_only_a_plausible_secret_reads_secrets_manager() {
    let f = Fixture::new().await;
    let arn = aws_emulator::create_webhook_secret("the-real-secret-0123456789").await;
    let (proxy, calls) = local_aws::proxy::counting_proxy(
        aws_emulator::endpoint(),
        b"secretsmanager.GetSecretValue",
    )
    .await;
    let mut env: Vec<(&str, &str)> = f.function_env("");
    env.retain(|(name, _)| *name != "WEBHOOK_SECRET");
    env.push(("WEBHOOK_SECRET_ARN", &arn));
    env.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER", &proxy));
    let backup = Function::start(&binary("backup"), &env).await;
    let status = |event: String| {
        let backup = &backup;
        async move {
            let response = backup.invoke(&event).await.expect("a response");
            response["statusCode"].as_u64().unwrap()
        }
    };
    // Nothing Secrets Manager holds could match these: no read, whatever their number.
    let long = "x".repeat(2000);
    let hopeless = [
        refused_event(&[]),
        refused_event(&[""]),
        refused_event(&["the-real-secret-0123456789", "the-real-secret-0123456789"]),
        refused_event(&["caf\u{e9}-not-a-dashboard-value"]),
        refused_event(&[&long]),
    ];
    assert_eq!(status(refused_event(&["warm-up-wrong-secret"])).await, 401);
    let after_init = calls.load(std::sync::atomic::Ordering::Relaxed);
    for _ in 0..20 {
        for event in &hopeless {
            assert_eq!(status(event.clone()).await, 401);
        }
    }
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::Relaxed),
        after_init,
        "a request without a usable X-Webhook-Secret read Secrets Manager"
    );
    // Wrong secrets that could be a rotated one: answered at once (no turn to wait for), and
    // Secrets Manager read for at most one in each interval (two GetSecretValue calls a read).
    let started = std::time::Instant::now();
    for _ in 0..40 {
        assert_eq!(status(refused_event(&["plausible-but-wrong"])).await, 401);
    }
    let elapsed = started.elapsed();
    let interval = custodian_backup::budget::SECRET_REREAD_INTERVAL;
    assert!(
        elapsed < interval * 20,
        "40 wrong secrets took {elapsed:?}: refused requests waited"
    );
    let reads = calls.load(std::sync::atomic::Ordering::Relaxed) - after_init;
    let allowed = 2 * (elapsed.as_millis() / interval.as_millis() + 1) as usize;
    assert!(reads <= allowed, "{reads} reads in {elapsed:?}");
    assert_eq!(
        status(refused_event(&["the-real-secret-0123456789"])).await,
        200
    );
}

#[tokio::test]
async fn a_secret_not_re_read_for_the_hard_expiry_stops_working() {
    let arn = aws_emulator::create_webhook_secret("revoked-secret-0123456789").await;
    let hard_expiry = Duration::from_millis(400);
    let managed = ManagedSecret::with_timing(
        aws_emulator::secrets_client().await,
        arn.clone(),
        Timing {
            max_age: Duration::from_millis(100),
            hard_expiry,
            min_refresh_interval: Duration::ZERO,
            stale_retry_interval: Duration::ZERO,
        },
    );
    managed.load().await.expect("the secret loads");
    assert_eq!(
        managed.verify(&header("revoked-secret-0123456789")).await,
        Ok(SecretSlot::Current)
    );
    // Secrets Manager stops answering for this secret (deleted, or access revoked).
    aws_emulator::delete_webhook_secret(&arn).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        managed.verify(&header("revoked-secret-0123456789")).await,
        Ok(SecretSlot::Current),
        "a brief outage keeps the values held"
    );
    tokio::time::sleep(hard_expiry).await;
    assert_eq!(
        managed.verify(&header("revoked-secret-0123456789")).await,
        Err(AuthFailure::Unavailable),
        "after the hard expiry the held value no longer opens the webhook"
    );
}

#[tokio::test]
async fn an_unreadable_secret_is_a_503_never_a_200() {
    let managed = ManagedSecret::with_timing(
        aws_emulator::secrets_client().await,
        unique("no-such-secret"),
        timing(Duration::from_secs(3600), Duration::ZERO),
    );
    assert!(managed.load().await.is_err());
    let f = Fixture::new().await;
    let body = json!({ "clientId": unique("cli"), "share": SHARE });
    let authenticator = Authenticator::SecretsManager(managed);
    let (status, reply) = answer(
        webhook::backup(&f.store, &authenticator, post(SECRET, body))
            .await
            .unwrap(),
    );
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (503, Some("secret_unavailable"))
    );
    assert!(f.scan(&f.tables.shares).await.is_empty());
}

#[tokio::test]
async fn the_real_backup_binary_follows_a_rotation_in_secrets_manager() {
    let f = Fixture::new().await;
    let arn = aws_emulator::create_webhook_secret("before-rotation-0123456789").await;
    let mut env: Vec<(&str, &str)> = f.function_env("");
    env.retain(|(name, _)| *name != "WEBHOOK_SECRET");
    env.push(("WEBHOOK_SECRET_ARN", &arn));
    let backup = Function::start(&binary("backup"), &env).await;
    let client_id = unique("cli");
    let call = |secret: &'static str, share: &'static str| {
        let mut event: Value =
            serde_json::from_str(&local_aws::events::event("backup-multi-backup.json")).unwrap();
        event["headers"]["X-Webhook-Secret"] = secret.into();
        event["multiValueHeaders"]["X-Webhook-Secret"] = json!([secret]);
        event["body"] = json!({ "clientId": client_id, "backupMethod": "GDRIVE", "share": share })
            .to_string()
            .into();
        let backup = &backup;
        async move {
            let response = backup.invoke(&event.to_string()).await.expect("a response");
            response["statusCode"].as_u64().unwrap()
        }
    };
    assert_eq!(call("before-rotation-0123456789", "one").await, 200);
    aws_emulator::rotate_webhook_secret(&arn, "after-rotation-0123456789").await;
    // Typing it into Portal's dashboard takes longer than this.
    tokio::time::sleep(custodian_backup::budget::SECRET_REREAD_INTERVAL).await;
    assert_eq!(call("after-rotation-0123456789", "two").await, 200);
    assert_eq!(call("before-rotation-0123456789", "three").await, 200);
    assert_eq!(call("not-the-secret-0123456789", "four").await, 401);
    let logs = backup
        .output_when(|logs| logs.matches("\"message\":\"request\"").count() >= 4)
        .await;
    assert_eq!(
        logs.matches("\"secret_slot\":\"previous\"").count(),
        1,
        "{logs}"
    );
    for secret in ["before-rotation", "after-rotation", "not-the-secret"] {
        assert!(!logs.contains(secret), "a secret reached the logs:\n{logs}");
    }
}
