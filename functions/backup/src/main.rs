//! Lambda function for `POST {base}/backup`: Portal sends a custodian backup share to store.

use custodian_backup::{Config, DynamoDbStore, dynamodb_client, handler, init_logging, runtime};
use lambda_http::{Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env()?;
    init_logging(&config.secrets);
    let store = DynamoDbStore::new(dynamodb_client().await, config.tables);
    runtime::serve(|request: Request| handler::backup(&store, &config.secrets, request)).await
}
