//! The Portal simulator against the real binaries behind a local API Gateway, with DynamoDB
//! Local: what a user runs against their deployment, run here on every change.

use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, local_api};
use portal_sim::{Options, run};
use std::sync::Arc;

const SECRET: &str = "simulator-test-secret-0123456789";

async fn serve(f: &Fixture) -> String {
    let env = f.function_env(SECRET);
    let backup = Arc::new(Function::start(&binary("backup"), &env).await);
    let fetch = Arc::new(Function::start(&binary("backup-fetch"), &env).await);
    local_api::serve(backup, fetch).await
}

fn options(base_url: String, secret: &str) -> Options {
    Options {
        base_url,
        secret: secret.to_owned(),
        client_id: "portal-sim-test-client".to_owned(),
        method: "GDRIVE".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_simulator_passes_against_the_real_binaries() {
    let f = Fixture::new().await;
    let base_url = serve(&f).await;
    let report = run(&options(base_url, SECRET)).await;
    println!("{}", report.render());
    assert!(report.passed, "{}", report.render());
    assert_eq!(report.checks.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_fails_a_receiver_configured_with_another_secret() {
    let f = Fixture::new().await;
    let base_url = serve(&f).await;
    let report = run(&options(base_url, "not-the-receivers-secret")).await;
    assert!(!report.passed);
    let failed = failed(&report);
    assert_eq!(
        failed,
        [
            "multi-backup",
            "repeated-backup",
            "legacy-backup",
            "failed-rebackup",
            "wrong-secret"
        ],
        "{}",
        report.render()
    );
    assert!(
        !report.render().contains("not-the-receivers-secret"),
        "the report never prints a secret"
    );
}

/// The simulator's app mode against the real client-share binary behind the local stand-in of
/// API Gateway's JWT authorizer: it passes with a user's token, fails every check that needs one
/// with an expired token, and never prints the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulators_app_mode_passes_against_the_client_share_binary() {
    use local_aws::app_api;
    use portal_sim::app::{AppOptions, run_app};
    use std::time::Duration;

    let f = Fixture::new().await;
    let mut env = f.function_env("");
    env.push(("SHARE_KIND", "client"));
    let function = Arc::new(Function::start(&binary("client-backup-shares"), &env).await);
    let base_url = app_api::serve(function, 0).await;
    let options = |token: String| AppOptions {
        base_url: base_url.clone(),
        token,
        method: "PORTAL-SIM".to_owned(),
    };
    let token = app_api::dev_token(&local_aws::unique("sim-user"), Duration::from_secs(600));
    let report = run_app(&options(token.clone())).await;
    println!("{}", report.render());
    assert!(report.passed, "{}", report.render());
    assert_eq!(report.checks.len(), 5);
    assert!(!report.render().contains(&token));

    let expired = app_api::dev_token("sim-user", Duration::ZERO);
    let report = run_app(&options(expired)).await;
    let failed = failed(&report);
    assert_eq!(
        failed,
        [
            "client-backup",
            "client-recovery",
            "client-recovery-by-pair",
            "client-bad-body"
        ],
        "{}",
        report.render()
    );
}

/// The names of the checks a report failed, in order.
fn failed(report: &portal_sim::Report) -> Vec<&'static str> {
    report
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name)
        .collect()
}
