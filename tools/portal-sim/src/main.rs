//! `portal-sim`: checks a deployed or local custodian backup webhook the way Portal calls it, or
//! (`--app`) the client-share API the way the app calls it. Exits 0 when every check passes, 1
//! otherwise, 2 on a usage error.

use clap::Parser;
use portal_sim::app::{AppOptions, run_app};
use portal_sim::{Options, run};

#[derive(Parser)]
#[command(
    about = "Calls {base}/backup and {base}/backup/fetch as Portal does (or, with --app, the client-share API as the app does) and checks the answers"
)]
struct Args {
    /// The webhook base URL registered in Portal (e.g. the stack's WebhookBaseUrl output); with
    /// --app, the client-share API's (ClientSharesUrl, or http://127.0.0.1:9001 for `make run`).
    #[arg(long)]
    url: String,
    /// The webhook secret. Prefer the environment variable, which stays out of shell history.
    #[arg(long, env = "PORTAL_WEBHOOK_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// The clientId the test shares are stored under.
    #[arg(long, default_value = "portal-sim-test-client")]
    client_id: String,
    /// The backupMethod without its curve; the curves are appended as Portal does. With --app,
    /// the whole backupMethod of the test client backup share (default PORTAL-SIM).
    #[arg(long)]
    method: Option<String>,
    /// Play the app instead: store, list and fetch a client backup share with --token.
    #[arg(long)]
    app: bool,
    /// With --app: a token of a test user of the app's issuer (`make token` locally).
    #[arg(long, env = "PORTAL_SIM_APP_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let usage = |missing: &str| -> ! {
        eprintln!("portal-sim: {missing}");
        std::process::exit(2)
    };
    let report = if args.app {
        let Some(token) = args.token else {
            usage("--app needs --token (or PORTAL_SIM_APP_TOKEN)")
        };
        let method = args.method.unwrap_or_else(|| "PORTAL-SIM".to_owned());
        let options = AppOptions {
            base_url: args.url,
            token,
            method,
        };
        run_app(&options).await
    } else {
        let Some(secret) = args.secret else {
            usage("needs --secret (or PORTAL_WEBHOOK_SECRET)")
        };
        let options = Options {
            base_url: args.url,
            secret,
            client_id: args.client_id,
            method: args.method.unwrap_or_else(|| "GDRIVE".to_owned()),
        };
        run(&options).await
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serialises")
        );
    } else {
        print!("{}", report.render());
    }
    std::process::exit(if report.passed { 0 } else { 1 });
}
