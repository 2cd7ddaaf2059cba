//! Lambda function for the client-share API (optional, off by default, behind API Gateway's JWT
//! authorizer): `PUT|GET /client-backup-shares/{backupMethod}` and `GET /client-backup-shares`,
//! the app's encrypted client backup share, owned by the verified token's owner claim.

use custodian_backup::app;
use custodian_backup::domain::envelope::ShareKind;
use custodian_backup::http::{self, runtime};
use lambda_http::{Error, Request};

/// The token claim that names the user, as `template.yaml` sets it (`ClientSharesOwnerClaim`).
const OWNER_CLAIM: &str = "OWNER_CLAIM";

#[tokio::main]
async fn main() -> Result<(), Error> {
    app::init_tracing();
    let store = app::store_from_env(ShareKind::Client).await?;
    let owner_claim = std::env::var(OWNER_CLAIM)
        .ok()
        .filter(|claim| !claim.is_empty())
        .unwrap_or_else(|| "sub".to_owned());
    runtime::serve(|request: Request| http::client_backup_shares(&store, &owner_claim, request))
        .await
}
