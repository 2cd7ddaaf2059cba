//! Lambda function for `POST {base}/backup/fetch`: Portal reads back every stored share of a client.

use custodian_backup::app::{self, Webhook};
use custodian_backup::http::{self, runtime};
use lambda_http::{Error, Request};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    app::init_tracing();
    let webhook = Webhook::from_env().await?;
    runtime::serve(&webhook.stack_name, |request: Request| {
        http::fetch(&webhook.store, &webhook.authenticator, request)
    })
    .await
}
