//! What DynamoDB Local cannot produce, through `aws-smithy-mocks`: throttling, transaction
//! conflicts and a failing history copy, answered by mocked DynamoDB and KMS clients built with
//! the functions' own retry and timeout settings. Every case ends in a stored share and a 200, or
//! in a 503 with nothing current changed; never a 200 without the write.

use crate::budget;
use crate::config::{HistoryRetention, Tables};
use crate::http;
use crate::kms::ShareKey;
use crate::secret::{Authenticator, WebhookSecrets};
use crate::store::dynamodb::{DynamoDbStore, schema};
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kms::operation::generate_data_key::GenerateDataKeyOutput;
use aws_sdk_kms::primitives::Blob;
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleBuilder, RuleMode, mock};
use lambda_http::Body;
use secrecy::SecretString;
use std::collections::HashMap;
use std::fmt::Debug;

const SECRET: &str = "mocked-secret";
const SHARES: &str = "shares";
const HISTORY: &str = "history";

/// The body DynamoDB answers a throttled call with (HTTP 400), which the SDK classifies.
fn dynamodb_error(code: &str) -> String {
    format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"mocked"}}"#)
}

/// A rule answering every call with HTTP 400 and `body`, as a throttled service does.
fn always_fails<I, O, E>(rule: RuleBuilder<I, O, E>, body: String) -> Rule
where
    I: Debug + Send + Sync + 'static,
    O: Debug + Send + Sync + 'static,
    E: Debug + Send + Sync + std::error::Error + 'static,
{
    rule.sequence()
        .http_status(400, Some(body))
        .repeatedly()
        .build()
}

async fn sdk_config() -> aws_config::SdkConfig {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region("us-east-1")
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "mocked", "mocked", None, None, "tests",
        ));
    crate::aws::sdk_config(loader).await
}

fn interceptor(rules: &[&Rule]) -> MockResponseInterceptor {
    rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny),
        |interceptor, rule| interceptor.with_rule(rule),
    )
}

/// A store whose DynamoDB and KMS answer only by `rules`, with the functions' retries and
/// timeouts.
async fn store(dynamodb: &[&Rule], kms: &[&Rule]) -> DynamoDbStore {
    let sdk = sdk_config().await;
    // History holds no version of the share: a new one is created at version 1.
    let nothing_kept =
        mock!(aws_sdk_dynamodb::Client::query).then_output(|| QueryOutput::builder().build());
    let dynamodb = [dynamodb, &[&nothing_kept]].concat();
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(interceptor(&dynamodb))
        .build();
    let kms = aws_sdk_kms::config::Builder::from(&sdk)
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(interceptor(kms))
        .build();
    let tables = Tables {
        shares: SHARES.into(),
        history: HISTORY.into(),
        audit: "audit".into(),
        history_retention: HistoryRetention::days(30),
    };
    DynamoDbStore::new(
        aws_sdk_dynamodb::Client::from_conf(dynamodb),
        tables,
        ShareKey::new(aws_sdk_kms::Client::from_conf(kms), "alias/mocked".into()),
    )
}

fn data_key() -> Rule {
    mock!(aws_sdk_kms::Client::generate_data_key).then_output(|| {
        GenerateDataKeyOutput::builder()
            .plaintext(Blob::new([7u8; 32]))
            .ciphertext_blob(Blob::new(b"wrapped".to_vec()))
            .key_id("arn:aws:kms:us-east-1:123456789012:key/mocked")
            .build()
    })
}

fn no_current_share() -> Rule {
    mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build())
}

/// A sealed current share, version 1, of another share than the one being backed up.
fn a_current_share() -> Rule {
    mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| {
        let item = HashMap::from([
            (schema::CLIENT_ID.into(), AttributeValue::S("cli".into())),
            (
                schema::BACKUP_METHOD.into(),
                AttributeValue::S("GDRIVE-SECP256K1".into()),
            ),
            (
                schema::SEALED_SHARE.into(),
                AttributeValue::B(vec![1u8; 40].into()),
            ),
            (
                schema::NONCE.into(),
                AttributeValue::B(vec![2u8; 12].into()),
            ),
            (
                schema::ENCRYPTED_DATA_KEY.into(),
                AttributeValue::B(b"wrapped".to_vec().into()),
            ),
            (
                schema::KMS_KEY_ID.into(),
                AttributeValue::S("arn:mocked".into()),
            ),
            (schema::SEAL_FORMAT.into(), AttributeValue::N("1".into())),
            (
                schema::SHARE_SHA256.into(),
                AttributeValue::S("ab".repeat(32)),
            ),
            (schema::VERSION.into(), AttributeValue::N("1".into())),
        ]);
        GetItemOutput::builder().set_item(Some(item)).build()
    })
}

fn put_into(
    table: &'static str,
) -> RuleBuilder<
    aws_sdk_dynamodb::operation::put_item::PutItemInput,
    PutItemOutput,
    aws_sdk_dynamodb::operation::put_item::PutItemError,
> {
    mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(move |put| put.table_name() == Some(table))
}

/// A backup through a store whose DynamoDB answers by `dynamodb` and whose KMS gives data keys.
async fn back_up_with(dynamodb: &[&Rule]) -> (u16, serde_json::Value) {
    let key = data_key();
    backup(&store(dynamodb, &[&key]).await).await
}

fn assert_created((status, reply): (u16, serde_json::Value)) {
    let result = reply["result"].as_str();
    assert_eq!((status, result), (200, Some("created")), "{reply}");
}

async fn backup(store: &DynamoDbStore) -> (u16, serde_json::Value) {
    let authenticator: Authenticator =
        WebhookSecrets::new(Some(SecretString::from(SECRET.to_owned())), None).into();
    let body = serde_json::json!({ "clientId": "cli", "backupMethod": "GDRIVE-SECP256K1", "share": "a new share" });
    let request = lambda_http::http::Request::builder()
        .method("POST")
        .header("content-type", "application/json")
        .header("x-webhook-secret", SECRET)
        .body(Body::from(body.to_string()))
        .expect("a request");
    let response = http::backup(store, &authenticator, request)
        .await
        .expect("infallible");
    let reply = serde_json::from_slice(response.body().as_ref()).expect("a JSON body");
    (response.status().as_u16(), reply)
}

#[tokio::test(start_paused = true)]
async fn throttled_reads_and_writes_are_retried_within_the_budget_and_then_stored() {
    let read = mock!(aws_sdk_dynamodb::Client::get_item)
        .sequence()
        .http_status(
            400,
            Some(dynamodb_error("ProvisionedThroughputExceededException")),
        )
        .times(2)
        .output(|| GetItemOutput::builder().build())
        .build();
    let write = put_into(SHARES)
        .sequence()
        .http_status(400, Some(dynamodb_error("ThrottlingException")))
        .output(|| PutItemOutput::builder().build())
        .build();
    assert_created(back_up_with(&[&read, &write]).await);
    assert_eq!((read.num_calls(), write.num_calls()), (3, 2));
}

#[tokio::test(start_paused = true)]
async fn a_write_throttled_on_every_attempt_is_a_503_never_a_200() {
    let read = no_current_share();
    let write = always_fails(put_into(SHARES), dynamodb_error("ThrottlingException"));
    let key = data_key();
    let store = store(&[&read, &write], &[&key]).await;
    let started = tokio::time::Instant::now();
    let (status, reply) = backup(&store).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (503, Some("storage_unavailable"))
    );
    assert_eq!(write.num_calls(), 3, "the SDK's three attempts, no more");
    assert!(
        started.elapsed() < budget::STORAGE,
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_replacement_whose_history_copy_fails_leaves_the_current_share_alone() {
    let read = a_current_share();
    let archive = always_fails(
        put_into(HISTORY),
        dynamodb_error("ProvisionedThroughputExceededException"),
    );
    let promote = put_into(SHARES).then_output(|| PutItemOutput::builder().build());
    let (status, reply) = back_up_with(&[&read, &archive, &promote]).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (503, Some("storage_unavailable"))
    );
    assert_eq!(archive.num_calls(), 3);
    assert_eq!(
        promote.num_calls(),
        0,
        "the current share was replaced without its copy"
    );
}

#[tokio::test(start_paused = true)]
async fn a_transaction_conflict_is_a_lost_race_retried_until_it_wins() {
    let read = no_current_share();
    let write = put_into(SHARES)
        .sequence()
        .http_status(400, Some(dynamodb_error("TransactionConflictException")))
        .times(3)
        .output(|| PutItemOutput::builder().build())
        .build();
    assert_created(back_up_with(&[&read, &write]).await);
    assert_eq!(write.num_calls(), 4);
}

#[tokio::test(start_paused = true)]
async fn endless_transaction_conflicts_end_in_a_503_inside_portals_wait() {
    let read = no_current_share();
    let write = always_fails(
        put_into(SHARES),
        dynamodb_error("TransactionConflictException"),
    );
    let key = data_key();
    let store = store(&[&read, &write], &[&key]).await;
    let started = tokio::time::Instant::now();
    let (status, reply) = backup(&store).await;
    assert_eq!(status, 503, "{reply}");
    assert!(write.num_calls() > 1, "the conflict was never retried");
    assert!(
        started.elapsed() <= budget::STORAGE,
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn kms_throttling_on_every_attempt_is_a_503_and_nothing_is_written() {
    let read = no_current_share();
    let write = put_into(SHARES).then_output(|| PutItemOutput::builder().build());
    let key = always_fails(
        mock!(aws_sdk_kms::Client::generate_data_key),
        r#"{"__type":"ThrottlingException","message":"mocked"}"#.into(),
    );
    let store = store(&[&read, &write], &[&key]).await;
    let (status, reply) = backup(&store).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (503, Some("storage_unavailable"))
    );
    assert_eq!(key.num_calls(), 3);
    assert_eq!(write.num_calls(), 0);
}
