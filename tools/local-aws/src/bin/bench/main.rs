//! `make bench`: how fast the release binaries start and answer, how much of each answer is this
//! project's own work rather than storage's, their memory, and their size.
//!
//! The real `bootstrap` binaries run through the Lambda Runtime API harness against DynamoDB Local
//! and the KMS emulator on loopback. Each request's latency is measured next to the same DynamoDB
//! and KMS calls issued directly with the SDK (interleaved, so both see the emulators in the same
//! state); their ratio is the overhead. The functions are configured as `template.yaml` deploys
//! them, the webhook secret read from Secrets Manager (the emulator) during init; the
//! client-share function (the app's `PUT`/`GET`) on tables and a key of its own.
//!
//! The floor is a request refused before storage by a function that has its secret in the
//! environment (no Secrets Manager re-read can happen): the Runtime API's exchange, the event's
//! parse, the check and the answer. With the secret from Secrets Manager, a stream of requests
//! without the header and one of wrong secrets each get their own row (the tarpit), with the
//! Secrets Manager calls each caused, counted on the wire.
//!
//! `BENCH_NETWORK` names the network the emulators are reached over: `loopback` (plain HTTP) or
//! `deployed` (TLS from a local CA and a delayed link, set up by `scripts/deployed-network.sh`,
//! which points the endpoints and `SSL_CERT_FILE` at it). The functions get `SSL_CERT_FILE` as
//! any other variable: no code path exists for the bench. A new client's first call next to its
//! second shows what opening a connection costs on that network.
//!
//! Prints Markdown tables, writes `target/bench/<profile>/results-<network>.json` and draws
//! `docs/performance-<profile>-<network>.svg`; `bench --compare A.json B.json` prints two runs
//! side by side.
//!
//! `BENCH_COLD_STARTS` (default 20) and `BENCH_REQUESTS` (default 1000) set the sizes;
//! `BENCH_PROFILE` (default `release`) the cargo profile whose binaries are measured.

mod chart;
mod cold;
mod compare;
mod connection;
mod floor;
mod memory;
mod node;
mod operation;
mod raw;
mod report;
mod requests;
mod warm;

use local_aws::aws_emulator;
use local_aws::events::{DEV_SECRET, client_share_event};
use local_aws::runtime_api::{Function, binary_of};
use local_aws::{Fixture, unique};
use operation::Operation;
use requests::{body, client_event, share, status, webhook};
use serde_json::Value;
use std::collections::HashMap;

const WARMUP: usize = 50;
const METHODS: [&str; 8] = [
    "GDRIVE-SECP256K1",
    "GDRIVE-ED25519",
    "ICLOUD-SECP256K1",
    "ICLOUD-ED25519",
    "PASSWORD-SECP256K1",
    "PASSWORD-ED25519",
    "PASSKEY-SECP256K1",
    "PASSKEY-ED25519",
];

#[tokio::main]
async fn main() {
    // `bench --chart <results.json>` redraws a run's chart without running it again.
    let args: Vec<String> = std::env::args().collect();
    let read = |path: &String| -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).expect("a results.json")).expect("JSON")
    };
    if let [_, flag, results] = args.as_slice()
        && flag == "--chart"
    {
        return chart::draw(&read(results));
    }
    if let [_, flag, a, b] = args.as_slice()
        && flag == "--compare"
    {
        return compare::print(&read(a), &read(b));
    }
    let cold_starts = setting("BENCH_COLD_STARTS", 20);
    let requests = setting("BENCH_REQUESTS", 1000);
    let f = Fixture::new().await;
    // As deployed: the webhook secret is read from Secrets Manager during init.
    let secret_arn = aws_emulator::create_webhook_secret(DEV_SECRET).await;
    let env = as_deployed(&f, &secret_arn);
    let raw = raw::Raw::new(&f).await;
    // The client half: the app's function, on its own tables and key, with a share to GET.
    let client_f = Fixture::new().await;
    let mut client_env = client_f.function_env("");
    client_env.push(("SHARE_KIND", "client"));
    let client_env = on_network(client_env);
    let client_shares =
        Function::start(&binary_of(&profile(), "client-backup-shares"), &client_env).await;
    let app_user = unique("app-user");
    let cipher_text = "Y2lwaGVy".repeat(128);
    let put = client_event("PUT", &app_user, &cipher_text);
    assert_eq!(status(&client_shares.invoke(&put).await), 200);

    // The warm processes start first: the backup function stores the shares cold fetches read.
    let backup = Function::start(&binary_of(&profile(), "backup"), &env).await;
    let fetch = Function::start(&binary_of(&profile(), "backup-fetch"), &env).await;
    let [one, eight, repeat, replace] =
        ["fetch-one", "fetch-eight", "repeat", "replace"].map(unique);
    let cold_fetched: Vec<String> = (0..cold_starts).map(|_| unique("cold-fetch")).collect();
    let mut seeded = vec![(&one, 1), (&eight, 8), (&repeat, 1), (&replace, 1)];
    seeded.extend(cold_fetched.iter().map(|client| (client, 1)));
    for (client, methods) in &seeded {
        for method in &METHODS[..*methods] {
            let event = webhook("/backup", &body(client, method, &share(client, 0)));
            assert_eq!(status(&backup.invoke(&event).await), 200);
        }
    }
    let mut raw_fetched = vec![one.as_str(), eight.as_str()];
    raw_fetched.extend(cold_fetched.iter().map(String::as_str));
    raw::seed_raw(&raw, &f, &raw_fetched).await;

    eprintln!("cold starts: {cold_starts} fresh processes of each function");
    // Also with the secret in the environment (as `make run` does): init without its read.
    let local_env = on_network(f.function_env(DEV_SECRET));
    let cold = cold::measure(&f, &raw, &env, &local_env, &cold_fetched).await;

    eprintln!("warm: {requests} requests per operation, each next to the same raw SDK calls");
    let beside = warm::Warm {
        backup: &backup,
        fetch: &fetch,
        client_shares: &client_shares,
        one: &one,
        eight: &eight,
        repeat: &repeat,
        replace: &replace,
        app_user: &app_user,
        cipher_text: &cipher_text,
    };
    let warm = warm::measure(&beside, &raw, requests).await;
    // The client-share function's floor: a request without the token's claim.
    let no_claim = client_share_event("GET", None, METHODS[0], None).to_string();
    let refused = floor::measure(&local_env, &client_shares, no_claim, requests).await;
    // The tarpit's Secrets Manager calls are counted in plaintext, so on loopback only.
    let tarpit = match network().as_str() {
        "loopback" => Some(floor::tarpit(&env, requests).await),
        _ => None,
    };
    let setup = connection::measure(&f, &raw, &secret_arn, cold_starts).await;
    eprintln!("the Node.js peer: {cold_starts} cold starts, {requests} warm requests of each");
    let beside = node::Beside {
        backup: &backup,
        fetch: &fetch,
        fetched: &one,
    };
    let peer = node::measure(&secret_arn, beside, cold_starts, WARMUP, requests).await;
    let rss = memory::measure(&backup, &fetch, &client_shares).await;
    report::report(&Run {
        cold,
        warm,
        refused,
        tarpit,
        setup,
        peer,
        rss,
        requests,
    });
}

/// Everything one run measured, for [`report::report`].
pub struct Run {
    cold: Vec<(String, cold::ColdStarts)>,
    warm: HashMap<Operation, warm::Latencies>,
    refused: floor::Refused,
    tarpit: Option<floor::Tarpit>,
    setup: Vec<connection::Setup>,
    peer: node::Peer,
    rss: memory::Rss,
    requests: usize,
}

/// `loopback` (the default) or `deployed`: see the module's comment.
pub fn network() -> String {
    std::env::var("BENCH_NETWORK").unwrap_or_else(|_| "loopback".to_owned())
}

/// What the deployed-like network changes in a function's environment: the trust store's
/// variable (its endpoints' certificates come from a local CA) and Secrets Manager's endpoint
/// (a host of its own, as in AWS). Set by `scripts/deployed-network.sh`; nothing on loopback.
fn network_env() -> &'static [(&'static str, String)] {
    static ENV: std::sync::OnceLock<Vec<(&'static str, String)>> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        [
            ("SSL_CERT_FILE", "SSL_CERT_FILE"),
            ("NODE_EXTRA_CA_CERTS", "NODE_EXTRA_CA_CERTS"),
            (
                "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                "BENCH_SECRETS_MANAGER_ENDPOINT",
            ),
        ]
        .into_iter()
        .filter_map(|(name, from)| Some((name, std::env::var(from).ok()?)))
        .collect()
    })
}

/// `f`'s function environment as deployed: the webhook secret read from Secrets Manager
/// (`secret_arn`), on the bench's network.
pub fn as_deployed<'a>(f: &'a Fixture, secret_arn: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut env = f.function_env("");
    env.retain(|(name, _)| *name != "WEBHOOK_SECRET");
    env.push(("WEBHOOK_SECRET_ARN", secret_arn));
    on_network(env)
}

/// `env` on the bench's network: [`network_env`] replacing what `env` had.
fn on_network<'a>(mut env: Vec<(&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
    for (name, value) in network_env() {
        env.retain(|(n, _)| n != name);
        env.push((name, value));
    }
    env
}

pub fn profile() -> String {
    std::env::var("BENCH_PROFILE").unwrap_or_else(|_| "release".to_owned())
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
