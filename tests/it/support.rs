//! What several test modules share: reading back through the real fetch function, and writing a
//! row by hand as an operator, a restore or a bad merge would.

use aws_sdk_dynamodb::types::AttributeValue;
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
