//! Lambda function for client backup shares (optional, off by default): the app's encrypted
//! client backup share per backup method. As `template.yaml` deploys it, either
//! - for the app, behind the HTTP API's JWT authorizer: `PUT|GET /client-backup-shares/{backupMethod}`
//!   and `GET /client-backup-shares`, owned by the verified token's owner claim, or
//! - for the customer's backend (the Enclave MPC API), behind the REST API's IAM authorization:
//!   the same under `/clients/{clientId}/client-backup-shares` (`CLIENT_SHARE_CALLERS=backend`).

use custodian_backup::app;
use custodian_backup::domain::envelope::ShareKind;
use custodian_backup::http::{self, runtime};
use lambda_http::{Error, Request};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    app::init_tracing();
    let served = app::served_from_env(ShareKind::Client).await?;
    runtime::serve(&served.stack_name, |request: Request| {
        http::client_backup_shares(&served.store, &served.callers, request)
    })
    .await
}
