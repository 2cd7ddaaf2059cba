//! Lambda function for `POST {base}/backup/fetch`: Portal reads back every stored share of a client.

use custodian_backup::{App, handler, runtime};
use lambda_http::{Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let app = App::from_env().await?;
    runtime::serve(|request: Request| handler::fetch(&app.store, &app.authenticator, request)).await
}
