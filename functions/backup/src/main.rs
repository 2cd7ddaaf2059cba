//! Lambda function for `POST {base}/backup`: Portal sends a custodian backup share to store.

use custodian_backup::{App, handler, runtime};
use lambda_http::{Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = App::from_env().await?;
    runtime::serve(|request: Request| handler::backup(&app.store, &app.authenticator, request))
        .await
}
