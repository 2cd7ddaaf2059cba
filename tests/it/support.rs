//! What several test modules share: the webhooks called in process on a real store, reading back
//! through the real fetch function, and writing a row by hand as an operator, a restore or a bad
//! merge would.

use aws_sdk_dynamodb::types::AttributeValue;
use custodian_backup::http as webhook;
use custodian_backup::secret::{Authenticator, WebhookSecrets};
use custodian_backup::store::dynamodb::DynamoDbStore;
use lambda_http::{Body, Request, Response};
use local_aws::events::rest_event;
use local_aws::runtime_api::Function;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Every share `/backup/fetch` returns for `client` through the real function, sorted.
pub async fn fetched(fetch: &Function, client: &str) -> Vec<String> {
    let body = json!({ "clientId": client }).to_string();
    let response = fetch
        .invoke(&rest_event("/backup/fetch", &body).to_string())
        .await
        .unwrap();
    let answer: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let mut shares: Vec<String> = answer["backupShares"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|share| share.as_str().unwrap().to_owned())
        .collect();
    shares.sort();
    shares
}

/// Puts `item` into `table` unconditionally, as a hand edit or a restore does: no code path of
/// the project writes this way.
pub async fn put_row(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    item: HashMap<String, AttributeValue>,
) {
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .expect("PutItem");
}

/// The webhook secret of the tests that call the handlers in process, on a real store.
pub const SECRET: &str = "integration-test-secret";

pub fn secrets() -> Authenticator {
    WebhookSecrets::new(Some(SECRET.to_owned().into()), None).into()
}

/// A webhook POST as Portal sends it, with `secret` in `X-Webhook-Secret`.
pub fn post(secret: &str, body: impl ToString) -> Request {
    lambda_http::http::Request::builder()
        .method("POST")
        .header("content-type", "application/json")
        .header("x-webhook-secret", secret)
        .body(Body::from(body.to_string()))
        .expect("valid request")
}

/// A handler's status and JSON body.
pub fn answer(response: Response<Body>) -> (u16, Value) {
    let body = serde_json::from_slice(response.body().as_ref()).expect("JSON body");
    (response.status().as_u16(), body)
}

/// `/backup` of `share` for `client_id` (under `method`, or none: a legacy call) on `store`.
pub async fn backup(
    store: &DynamoDbStore,
    client_id: &str,
    method: Option<&str>,
    share: &str,
) -> (u16, Value) {
    let mut body = json!({ "clientId": client_id, "share": share });
    if let Some(method) = method {
        body["backupMethod"] = method.into();
    }
    let request = post(SECRET, body);
    answer(webhook::backup(store, &secrets(), request).await.unwrap())
}

/// `/backup/fetch` for `client_id` on `store`.
pub async fn fetch(store: &DynamoDbStore, client_id: &str) -> (u16, Value) {
    let request = post(SECRET, json!({ "clientId": client_id }));
    answer(webhook::fetch(store, &secrets(), request).await.unwrap())
}
