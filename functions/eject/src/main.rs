//! Lambda function for `GET /clients/{clientId}/custodian-shares/{backupMethod}` (optional, off
//! by default, IAM-authorised): the customer's backend takes a client's current custodian share
//! for Portal's eject. Every call is recorded in the audit trail before the share is opened.

use custodian_backup::config::{self, Config};
use custodian_backup::{handler, runtime};
use lambda_http::{Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let aws = config::aws_config(aws_config::defaults(aws_config::BehaviorVersion::latest())).await;
    let store = Config::store_from_env(&aws)?;
    runtime::serve(|request: Request| handler::eject::eject(&store, request)).await
}
