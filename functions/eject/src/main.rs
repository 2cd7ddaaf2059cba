//! Lambda function for `GET /clients/{clientId}/custodian-shares[/{backupMethod}]` (optional, off
//! by default, IAM-authorised): the customer's backend takes a client's current custodian shares
//! for Portal's eject. Every share is recorded in the audit trail before it is opened.

use custodian_backup::app;
use custodian_backup::domain::envelope::ShareKind;
use custodian_backup::http::{self, runtime};
use lambda_http::{Error, Request};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    app::init_tracing();
    let served = app::served_from_env(ShareKind::Custodian).await?;
    runtime::serve(&served.stack_name, |request: Request| {
        http::eject(&served.store, request)
    })
    .await
}
