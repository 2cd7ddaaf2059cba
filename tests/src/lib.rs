//! Support for the tests that need real services: Amazon DynamoDB Local, tables made from
//! `template.yaml` itself (so tests and deployment cannot drift), and the repository's paths.
//!
//! DynamoDB Local is reached at `DYNAMODB_ENDPOINT` when set (`make test` starts one for the whole
//! run); otherwise each test binary starts its own from `.tools/`, installed by `scripts/tools.sh`.
//! Nothing here is ever skipped: without DynamoDB Local the tests fail and say why.

pub mod dynamodb_local;
pub mod events;
pub mod local_api;
pub mod runtime_api;
pub mod template;

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A name no other test run uses, for tables and client ids.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .subsec_nanos();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

use custodian_backup::config::HistoryRetention;
use custodian_backup::{DynamoDbStore, Tables};

/// A store on fresh, empty tables in DynamoDB Local, made from `template.yaml`.
pub struct Fixture {
    pub client: aws_sdk_dynamodb::Client,
    pub tables: Tables,
    pub store: DynamoDbStore,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with_retention(HistoryRetention::days(30)).await
    }

    pub async fn with_retention(history_retention: HistoryRetention) -> Self {
        let client = dynamodb_local::client().await;
        let tables = Tables {
            shares: unique("shares"),
            history: unique("history"),
            history_retention,
        };
        template::create_table(&client, &template::table("SharesTable"), &tables.shares).await;
        template::create_table(&client, &template::table("HistoryTable"), &tables.history).await;
        let store = DynamoDbStore::new(client.clone(), tables.clone());
        Self {
            client,
            tables,
            store,
        }
    }

    /// The environment `template.yaml` gives both functions, pointed at these tables in DynamoDB
    /// Local, with JSON logs as in AWS.
    pub fn function_env<'a>(&'a self, secret: &'a str) -> Vec<(&'a str, &'a str)> {
        let mut env = vec![
            ("WEBHOOK_SECRET", secret),
            ("SHARES_TABLE", self.tables.shares.as_str()),
            ("HISTORY_TABLE", self.tables.history.as_str()),
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local::endpoint()),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ];
        env.extend(dynamodb_local::LOCAL_CREDENTIALS);
        env
    }

    /// Every item of a table, as DynamoDB holds it. Tests only: the functions may never Scan.
    pub async fn scan(
        &self,
        table: &str,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let output = self
            .client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .send()
            .await
            .expect("scan");
        output.items.unwrap_or_default()
    }
}
