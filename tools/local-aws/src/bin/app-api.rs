//! The client-share API for `make run`: the real `client-backup-shares` binary behind a
//! stand-in of API Gateway's JWT authorizer that accepts development tokens (`make token`), on
//! `http://127.0.0.1:$APP_PORT` (default 9001). Reads the client tables' and key's names from
//! `CLIENT_SHARES_TABLE`, `CLIENT_SHARE_HISTORY_TABLE`, `CLIENT_SHARE_AUDIT_TABLE` and
//! `CLIENT_SHARE_KEY_ID`, and the emulators' addresses as the functions do.

use local_aws::app_api;
use local_aws::runtime_api::{Function, binary};
use std::sync::Arc;

#[tokio::main]
async fn main() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set"));
    let (shares, history, audit, key) = (
        var("CLIENT_SHARES_TABLE"),
        var("CLIENT_SHARE_HISTORY_TABLE"),
        var("CLIENT_SHARE_AUDIT_TABLE"),
        var("CLIENT_SHARE_KEY_ID"),
    );
    let passed = [
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
    ];
    let passed: Vec<(&str, String)> = passed.iter().map(|name| (*name, var(name))).collect();
    let mut env: Vec<(&str, &str)> = vec![
        ("SHARE_KIND", "client"),
        ("SHARES_TABLE", &shares),
        ("HISTORY_TABLE", &history),
        ("AUDIT_TABLE", &audit),
        ("SHARE_KEY_ID", &key),
        ("HISTORY_RETENTION_DAYS", "0"),
    ];
    env.extend(passed.iter().map(|(name, value)| (*name, value.as_str())));
    let function = Function::start(&binary("client-backup-shares"), &env).await;
    let port = std::env::var("APP_PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(9001);
    let base = app_api::serve(Arc::new(function), port).await;
    eprintln!(
        "client-share API on {base} (development tokens of {})",
        app_api::DEV_ISSUER
    );
    std::future::pending::<()>().await;
}
