//! Storage alone: the DynamoDB and KMS calls a handler makes, issued directly with the SDK, to
//! set each handler's latency against.

use crate::METHODS;
use crate::operation::Operation;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kms::types::DataKeySpec;
use local_aws::{Fixture, aws_emulator, unique};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The same DynamoDB and KMS calls each handler makes, issued directly: what storage alone costs.
pub struct Raw {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub kms: aws_sdk_kms::Client,
    pub key_id: String,
    pub shares: String,
    history: String,
}

impl Raw {
    pub async fn new(f: &Fixture) -> Self {
        Self {
            dynamodb: f.client.clone(),
            kms: aws_emulator::kms_client().await,
            key_id: f.key_id.clone(),
            shares: unique("raw-shares"),
            history: unique("raw-history"),
        }
        .with_tables(f)
        .await
    }

    /// The same tables and key, through new clients with no connection open yet.
    pub async fn fresh(&self, f: &Fixture) -> Self {
        Self {
            dynamodb: local_aws::dynamodb_local::client_for(&f.dynamodb_endpoint).await,
            kms: aws_emulator::kms_client().await,
            key_id: self.key_id.clone(),
            shares: self.shares.clone(),
            history: self.history.clone(),
        }
    }

    async fn with_tables(self, f: &Fixture) -> Self {
        use local_aws::template::{create_table, table};
        create_table(&f.client, &table("SharesTable"), &self.shares).await;
        create_table(&f.client, &table("HistoryTable"), &self.history).await;
        self
    }

    pub async fn time(&self, operation: Operation, client: &str, text: &str) -> Duration {
        let operation = operation.storage();
        let started = Instant::now();
        match operation {
            Operation::BackupNew | Operation::BackupReplace | Operation::BackupRepeat => {
                let (read, key) = tokio::join!(
                    self.dynamodb
                        .get_item()
                        .table_name(&self.shares)
                        .key("clientId", s(client))
                        .key("backupMethod", s(METHODS[0]))
                        .consistent_read(true)
                        .send(),
                    self.kms
                        .generate_data_key()
                        .key_id(&self.key_id)
                        .key_spec(DataKeySpec::Aes256)
                        .encryption_context("clientId", client)
                        .encryption_context("backupMethod", METHODS[0])
                        .send()
                );
                let current = read.expect("GetItem").item;
                let key = key.expect("GenerateDataKey");
                let item = self.item(client, text, key.ciphertext_blob.unwrap().into_inner());
                match (operation, current) {
                    (Operation::BackupRepeat, Some(_)) => {}
                    (_, Some(old)) => {
                        let mut kept = old;
                        kept.insert("shareKey".into(), s(&format!("[\"{client}\"]")));
                        let version = kept["version"].clone();
                        self.put(&self.history, kept, "attribute_not_exists(shareKey)")
                            .await;
                        let next = version.as_n().unwrap().parse::<u64>().unwrap() + 1;
                        let mut item = item;
                        item.insert("version".into(), AttributeValue::N(next.to_string()));
                        self.put(&self.shares, item, "attribute_exists(clientId)")
                            .await;
                    }
                    (_, None) => {
                        self.put(&self.shares, item, "attribute_not_exists(clientId)")
                            .await;
                    }
                }
            }
            Operation::FetchOne | Operation::FetchEight => {
                let items = self
                    .dynamodb
                    .query()
                    .table_name(&self.shares)
                    .key_condition_expression("clientId = :c")
                    .expression_attribute_values(":c", s(client))
                    .consistent_read(true)
                    .send()
                    .await
                    .expect("Query")
                    .items
                    .unwrap_or_default();
                let opened = items.iter().map(|item| {
                    self.kms
                        .decrypt()
                        .key_id(&self.key_id)
                        .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(
                            item["encryptedDataKey"].as_b().unwrap().as_ref(),
                        ))
                        .encryption_context("clientId", client)
                        // The slot's backupMethod: the sort key up to a pair id.
                        .encryption_context(
                            "backupMethod",
                            item["backupMethod"]
                                .as_s()
                                .unwrap()
                                .split('\u{1f}')
                                .next()
                                .unwrap(),
                        )
                        .send()
                });
                for result in futures_util::future::join_all(opened).await {
                    result.expect("Decrypt");
                }
            }
            Operation::ClientSharePut | Operation::ClientShareGet => unreachable!("storage()"),
        }
        started.elapsed()
    }

    /// An item the size of the handler's: the share's bytes stand in for its ciphertext.
    fn item(&self, client: &str, text: &str, data_key: Vec<u8>) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("clientId".into(), s(client)),
            ("backupMethod".into(), s(METHODS[0])),
            (
                "sealedShare".into(),
                AttributeValue::B(Blob::new(format!("{text}0123456789abcdef"))),
            ),
            ("nonce".into(), AttributeValue::B(Blob::new([7u8; 12]))),
            (
                "encryptedDataKey".into(),
                AttributeValue::B(Blob::new(data_key)),
            ),
            ("kmsKeyId".into(), s(&self.key_id)),
            ("sealFormat".into(), AttributeValue::N("1".into())),
            ("shareSha256".into(), s(&"0".repeat(64))),
            (
                "shareBytes".into(),
                AttributeValue::N(text.len().to_string()),
            ),
            ("version".into(), AttributeValue::N("1".into())),
            ("storedAt".into(), s("2026-11-22T00:00:00.000000000Z")),
        ])
    }

    async fn put(&self, table: &str, item: HashMap<String, AttributeValue>, condition: &str) {
        self.dynamodb
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(condition)
            .send()
            .await
            .expect("PutItem");
    }
}

/// Seed the raw tables like the handler's: the raw fetch reads what the fetch function reads.
pub async fn seed_raw(raw: &Raw, f: &Fixture, clients: &[&str]) {
    for client in clients {
        let items = f
            .client
            .query()
            .table_name(&f.tables.shares)
            .key_condition_expression("clientId = :c")
            .expression_attribute_values(":c", s(client))
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default();
        for item in items {
            raw.put(&raw.shares, item, "attribute_not_exists(clientId)")
                .await;
        }
    }
}

pub fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}
