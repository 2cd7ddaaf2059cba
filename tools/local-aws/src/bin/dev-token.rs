//! `make token USER=alice`: prints a development token for the local client-share API
//! (`make run`), as an app would get one from its identity provider. Valid for 12 hours.

use local_aws::app_api::dev_token;
use std::time::Duration;

fn main() {
    let user = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "alice".to_owned());
    println!("{}", dev_token(&user, Duration::from_secs(12 * 60 * 60)));
}
