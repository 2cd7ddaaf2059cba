//! Creates the shares and history tables of `template.yaml` in DynamoDB Local for `make run`.
//! Reads `DYNAMODB_ENDPOINT`, `SHARES_TABLE` and `HISTORY_TABLE`; leaves existing tables alone.

use webhook_tests::{dynamodb_local, template};

#[tokio::main]
async fn main() {
    let client = dynamodb_local::client().await;
    let existing = client
        .list_tables()
        .send()
        .await
        .expect("DynamoDB Local answers")
        .table_names
        .unwrap_or_default();
    for (logical_id, variable) in [
        ("SharesTable", "SHARES_TABLE"),
        ("HistoryTable", "HISTORY_TABLE"),
    ] {
        let name = std::env::var(variable).unwrap_or_else(|_| panic!("{variable} must be set"));
        if existing.contains(&name) {
            println!("table {name} exists");
        } else {
            template::create_table(&client, &template::table(logical_id), &name).await;
            println!("table {name} created from template.yaml ({logical_id})");
        }
    }
}
