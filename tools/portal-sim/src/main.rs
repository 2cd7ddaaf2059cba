//! `portal-sim`: checks a deployed or local custodian backup webhook the way Portal calls it.
//! Exits 0 when every check passes, 1 otherwise.

use clap::Parser;
use portal_sim::{Options, run};

#[derive(Parser)]
#[command(
    about = "Calls {base}/backup and {base}/backup/fetch as Portal does and checks the answers"
)]
struct Args {
    /// The webhook base URL registered in Portal (e.g. the stack's WebhookBaseUrl output).
    #[arg(long)]
    url: String,
    /// The webhook secret. Prefer the environment variable, which stays out of shell history.
    #[arg(long, env = "PORTAL_WEBHOOK_SECRET", hide_env_values = true)]
    secret: String,
    /// The clientId the test shares are stored under.
    #[arg(long, default_value = "portal-sim-test-client")]
    client_id: String,
    /// The backupMethod without its curve; the curves are appended as Portal does.
    #[arg(long, default_value = "GDRIVE")]
    method: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let options = Options {
        base_url: args.url,
        secret: args.secret,
        client_id: args.client_id,
        method: args.method,
    };
    let report = run(&options).await;
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
