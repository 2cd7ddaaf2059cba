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

mod compare;
mod node;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kms::types::DataKeySpec;
use custodian_backup::domain::client_share::MAX_CIPHER_TEXT_BYTES;
use custodian_backup::http::error::MAX_BODY_BYTES;
use local_aws::events::{DEV_SECRET, client_share_event, rest_event, set_header};
use local_aws::proxy::counting_proxy;
use local_aws::runtime_api::{Function, binary_of};
use local_aws::{Fixture, aws_emulator, repo_root, unique};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

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

/// The operations measured warm, in the order of the table.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Operation {
    BackupNew,
    BackupReplace,
    BackupRepeat,
    FetchOne,
    FetchEight,
    ClientSharePut,
    ClientShareGet,
}

impl Operation {
    const ALL: [Self; 7] = [
        Self::BackupNew,
        Self::BackupReplace,
        Self::BackupRepeat,
        Self::FetchOne,
        Self::FetchEight,
        Self::ClientSharePut,
        Self::ClientShareGet,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::BackupNew => "/backup, new share",
            Self::BackupReplace => "/backup, replacing",
            Self::BackupRepeat => "/backup, repeat",
            Self::FetchOne => "/backup/fetch, 1 share",
            Self::FetchEight => "/backup/fetch, 8 shares",
            Self::ClientSharePut => "client share PUT, new",
            Self::ClientShareGet => "client share GET",
        }
    }

    /// The storage calls a raw SDK client makes for the same work: a client share's `PUT` is a
    /// new backup's, its `GET` one share's fetch.
    fn storage(self) -> Self {
        match self {
            Self::ClientSharePut => Self::BackupNew,
            Self::ClientShareGet => Self::FetchOne,
            other => other,
        }
    }

    /// The refused request whose p50 is this operation's floor.
    fn floor(self) -> &'static str {
        match self {
            Self::FetchOne | Self::FetchEight => "backup-fetch",
            Self::ClientSharePut | Self::ClientShareGet => "client-backup-shares",
            _ => "backup",
        }
    }
}

struct Latencies {
    handler: Vec<Duration>,
    raw: Vec<Duration>,
}

/// One function's fresh processes: start to first poll, start to first answer, and the same
/// storage calls made by SDK clients that had never connected.
#[derive(Default)]
pub struct ColdStarts {
    pub ready: Vec<Duration>,
    pub first: Vec<Duration>,
    raw: Vec<Duration>,
}

#[tokio::main]
async fn main() {
    // `bench --chart <results.json>` redraws a run's chart without running it again.
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, results] = args.as_slice()
        && flag == "--chart"
    {
        let text = std::fs::read_to_string(results).expect("a results.json");
        return chart(&serde_json::from_str(&text).expect("JSON"));
    }
    if let [_, flag, a, b] = args.as_slice()
        && flag == "--compare"
    {
        let read = |path: &String| -> Value {
            serde_json::from_str(&std::fs::read_to_string(path).expect("a results.json"))
                .expect("JSON")
        };
        return compare::print(&read(a), &read(b));
    }
    let cold_starts = setting("BENCH_COLD_STARTS", 20);
    let requests = setting("BENCH_REQUESTS", 1000);
    let f = Fixture::new().await;
    // As deployed: the webhook secret is read from Secrets Manager during init.
    let secret_arn = aws_emulator::create_webhook_secret(DEV_SECRET).await;
    let env = as_deployed(&f, &secret_arn);
    let raw = Raw::new(&f).await;
    // The client half: the app's function, on its own tables and key, with a share to GET.
    let client_f = Fixture::new().await;
    let mut client_env = client_f.function_env("");
    client_env.push(("SHARE_KIND", "client"));
    let client_env = on_network(client_env);
    let client_fn =
        Function::start(&binary_of(&profile(), "client-backup-shares"), &client_env).await;
    let app_user = unique("app-user");
    let cipher_text = "Y2lwaGVy".repeat(128);
    let put = client_event("PUT", &app_user, &cipher_text);
    assert_eq!(status(&client_fn.invoke(&put).await), 200);

    // The warm processes start first: the backup function stores the shares cold fetches read.
    let backup = Function::start(&binary_of(&profile(), "backup"), &env).await;
    let fetch = Function::start(&binary_of(&profile(), "backup-fetch"), &env).await;
    let one = unique("fetch-one");
    let eight = unique("fetch-eight");
    let repeat = unique("repeat");
    let replace = unique("replace");
    let cold_fetched: Vec<String> = (0..cold_starts).map(|_| unique("cold-fetch")).collect();
    let mut seeded = vec![(&one, 1), (&eight, 8), (&repeat, 1), (&replace, 1)];
    seeded.extend(cold_fetched.iter().map(|client| (client, 1)));
    for (client, methods) in &seeded {
        for method in &METHODS[..*methods] {
            let event = rest_event("/backup", &body(client, method, &share(client, 0)));
            assert_eq!(status(&backup.invoke(&event.to_string()).await), 200);
        }
    }
    let mut raw_fetched = vec![one.as_str(), eight.as_str()];
    raw_fetched.extend(cold_fetched.iter().map(String::as_str));
    seed_raw(&raw, &f, &raw_fetched).await;

    eprintln!("cold starts: {cold_starts} fresh processes of each function");
    // Also with the secret in the environment (as `make run` does): init without its read.
    let local_env = on_network(f.function_env(DEV_SECRET));
    let mut cold = Vec::new();
    let configurations = [("Secrets Manager", &env), ("environment", &local_env)];
    let functions = [
        ("backup", "/backup", Operation::BackupNew),
        ("backup-fetch", "/backup/fetch", Operation::FetchOne),
    ];
    for ((secret, env), (name, route, operation)) in configurations
        .into_iter()
        .flat_map(|configuration| functions.map(|function| (configuration, function)))
    {
        let mut starts = ColdStarts::default();
        for fetched in &cold_fetched {
            let function = Function::start(&binary_of(&profile(), name), env).await;
            let client = match operation {
                Operation::BackupNew => unique("cold"),
                _ => fetched.clone(),
            };
            let text = share(&client, 0);
            let event = match operation {
                Operation::BackupNew => rest_event(route, &body(&client, METHODS[0], &text)),
                _ => rest_event(route, &body(&client, "", "")),
            };
            let ready = function.ready_after().await;
            let answer = function.invoke(&event.to_string()).await;
            starts.first.push(function.started.elapsed());
            starts.ready.push(ready);
            assert_eq!(status(&answer), 200, "{answer:?}");
            // The same calls from clients that have never connected: storage's own first time.
            let fresh = raw.fresh(&f).await;
            starts.raw.push(fresh.time(operation, &client, &text).await);
        }
        cold.push((format!("{name}, secret from {secret}"), starts));
    }

    eprintln!("warm: {requests} requests per operation, each next to the same raw SDK calls");
    let mut warm = HashMap::new();
    for operation in Operation::ALL {
        let mut latencies = Latencies {
            handler: Vec::new(),
            raw: Vec::new(),
        };
        for i in 0..WARMUP + requests {
            if let Operation::ClientSharePut | Operation::ClientShareGet = operation {
                let (event, raw_client, text) = match operation {
                    Operation::ClientSharePut => {
                        let user = unique("app-new");
                        (
                            client_event("PUT", &user, &cipher_text),
                            user,
                            cipher_text.clone(),
                        )
                    }
                    _ => (
                        client_event("GET", &app_user, ""),
                        one.clone(),
                        String::new(),
                    ),
                };
                let started = Instant::now();
                let answer = client_fn.invoke(&event).await;
                let handler = started.elapsed();
                assert_eq!(status(&answer), 200, "{answer:?}");
                let raw = raw.time(operation.storage(), &raw_client, &text).await;
                if i >= WARMUP {
                    latencies.handler.push(handler);
                    latencies.raw.push(raw);
                }
                continue;
            }
            let (function, route, client, method, text, expected) = match operation {
                Operation::BackupNew => {
                    let client = unique("new");
                    let text = share(&client, 0);
                    (&backup, "/backup", client, METHODS[0], text, "created")
                }
                Operation::BackupReplace => {
                    let text = share(&replace, i + 1);
                    (
                        &backup,
                        "/backup",
                        replace.clone(),
                        METHODS[0],
                        text,
                        "replaced",
                    )
                }
                Operation::BackupRepeat => {
                    let text = share(&repeat, 0);
                    (
                        &backup,
                        "/backup",
                        repeat.clone(),
                        METHODS[0],
                        text,
                        "unchanged",
                    )
                }
                Operation::FetchOne => {
                    (&fetch, "/backup/fetch", one.clone(), "", String::new(), "")
                }
                Operation::FetchEight => (
                    &fetch,
                    "/backup/fetch",
                    eight.clone(),
                    "",
                    String::new(),
                    "",
                ),
                Operation::ClientSharePut | Operation::ClientShareGet => unreachable!("above"),
            };
            let event = rest_event(route, &body(&client, method, &text)).to_string();
            let started = Instant::now();
            let answer = function.invoke(&event).await;
            let handler = started.elapsed();
            assert_eq!(status(&answer), 200, "{answer:?}");
            if !expected.is_empty() {
                let body: Value =
                    serde_json::from_str(answer.unwrap()["body"].as_str().unwrap()).unwrap();
                assert_eq!(body["result"], expected);
            }
            let raw = raw.time(operation, &client, &text).await;
            if i >= WARMUP {
                latencies.handler.push(handler);
                latencies.raw.push(raw);
            }
        }
        warm.insert(operation, latencies);
    }
    // The floor: refused before storage by functions holding the secret in the environment (no
    // re-read can happen); the client-share function's, a request without the token's claim.
    let floor_backup = Function::start(&binary_of(&profile(), "backup"), &local_env).await;
    let floor_fetch = Function::start(&binary_of(&profile(), "backup-fetch"), &local_env).await;
    let no_claim = client_share_event("GET", None, METHODS[0], None).to_string();
    let mut refused = Vec::new();
    for (name, function, event) in [
        ("backup", &floor_backup, wrong_secret("/backup")),
        ("backup-fetch", &floor_fetch, wrong_secret("/backup/fetch")),
        ("client-backup-shares", &client_fn, no_claim),
    ] {
        refused.push((
            name,
            refusals(function, &event, WARMUP + requests, 401).await,
        ));
    }
    // The tarpit: streams of refused requests at a function reading Secrets Manager, through a
    // proxy that counts its GetSecretValue calls. Counted in plaintext, so on loopback only.
    let tarpit = match network().as_str() {
        "loopback" => Some(tarpit(&env, requests).await),
        _ => None,
    };
    let setup = connection_setup(&f, &raw, &secret_arn, cold_starts).await;
    eprintln!("the Node.js peer: {cold_starts} cold starts, {requests} warm requests of each");
    let beside = node::Beside {
        backup: &backup,
        fetch: &fetch,
        fetched: &one,
    };
    let peer = node::measure(&secret_arn, beside, cold_starts, WARMUP, requests).await;
    let after_warm = [&backup, &fetch, &client_fn].map(|function| function.peak_rss_kib()[0]);
    // Then the largest requests each accepts: eight backups of a body at the size limit, their
    // fetch (the largest answer), a cipherText at its limit.
    let largest = unique("largest");
    for method in METHODS {
        let filler = "7".repeat(MAX_BODY_BYTES - 200);
        let event = rest_event("/backup", &body(&largest, method, &filler));
        assert_eq!(status(&backup.invoke(&event.to_string()).await), 200);
    }
    let event = rest_event("/backup/fetch", &body(&largest, "", ""));
    assert_eq!(status(&fetch.invoke(&event.to_string()).await), 200);
    let put = client_event(
        "PUT",
        &unique("largest"),
        &"Q".repeat(MAX_CIPHER_TEXT_BYTES),
    );
    assert_eq!(status(&client_fn.invoke(&put).await), 200);
    let after_largest = [&backup, &fetch, &client_fn].map(|function| function.peak_rss_kib()[0]);
    let rss: Vec<(&str, u64, u64)> = ["backup", "backup-fetch", "client-backup-shares"]
        .into_iter()
        .zip(after_warm.into_iter().zip(after_largest))
        .map(|(name, (warm, largest))| (name, warm, largest))
        .collect();
    report(&Run {
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

/// Everything one run measured, for [`report`].
struct Run<'a> {
    cold: Vec<(String, ColdStarts)>,
    warm: HashMap<Operation, Latencies>,
    refused: Vec<(&'a str, Vec<Duration>)>,
    tarpit: Option<Tarpit>,
    setup: Vec<Setup>,
    peer: node::Peer,
    rss: Vec<(&'a str, u64, u64)>,
    requests: usize,
}

/// `requests` requests without `X-Webhook-Secret`, then as many wrong secrets, in a row at one
/// warm function that reads its secret from Secrets Manager (`env`), through a proxy counting
/// its GetSecretValue calls.
async fn tarpit(env: &[(&str, &str)], requests: usize) -> Tarpit {
    let (proxy, calls) =
        counting_proxy(aws_emulator::endpoint(), b"secretsmanager.GetSecretValue").await;
    let mut tarpit_env = env.to_vec();
    tarpit_env.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER", &proxy));
    let function = Function::start(&binary_of(&profile(), "backup"), &tarpit_env).await;
    function.ready_after().await;
    let mut header_less: Value = serde_json::from_str(&wrong_secret("/backup")).unwrap();
    set_header(&mut header_less, "X-Webhook-Secret", &[]);
    let mut streams = Vec::new();
    for (name, event) in [
        ("no X-Webhook-Secret", header_less.to_string()),
        ("wrong secret", wrong_secret("/backup")),
    ] {
        let before = calls.load(Ordering::Relaxed);
        let started = Instant::now();
        let latencies = refusals(&function, &event, requests, 401).await;
        streams.push(Stream {
            name,
            latencies,
            elapsed: started.elapsed(),
            secret_reads: calls.load(Ordering::Relaxed) - before,
        });
    }
    Tarpit { requests, streams }
}

/// A new client's first call and its second (on the connection the first opened), for each
/// service the functions call: the difference is what a connection costs on this network.
struct Setup {
    service: &'static str,
    pub first: Vec<Duration>,
    second: Vec<Duration>,
}

async fn connection_setup(f: &Fixture, raw: &Raw, secret_arn: &str, samples: usize) -> Vec<Setup> {
    let mut setups: Vec<Setup> = [
        "DynamoDB GetItem",
        "KMS GenerateDataKey",
        "Secrets Manager GetSecretValue",
    ]
    .into_iter()
    .map(|service| Setup {
        service,
        first: Vec::new(),
        second: Vec::new(),
    })
    .collect();
    for _ in 0..samples {
        let fresh = raw.fresh(f).await;
        let secrets = aws_emulator::secrets_client().await;
        for setup in &mut setups {
            for times in [&mut setup.first, &mut setup.second] {
                let started = Instant::now();
                match setup.service {
                    "DynamoDB GetItem" => {
                        fresh
                            .dynamodb
                            .get_item()
                            .table_name(&fresh.shares)
                            .key("clientId", s("none"))
                            .key("backupMethod", s(METHODS[0]))
                            .send()
                            .await
                            .expect("GetItem");
                    }
                    "KMS GenerateDataKey" => {
                        fresh
                            .kms
                            .generate_data_key()
                            .key_id(&fresh.key_id)
                            .key_spec(DataKeySpec::Aes256)
                            .send()
                            .await
                            .expect("GenerateDataKey");
                    }
                    _ => {
                        secrets
                            .get_secret_value()
                            .secret_id(secret_arn)
                            .send()
                            .await
                            .expect("GetSecretValue");
                    }
                }
                times.push(started.elapsed());
            }
        }
    }
    setups
}

/// Streams of refused requests at one warm function reading Secrets Manager.
struct Tarpit {
    /// Every request of each stream, including the warm-up ones `latencies` leaves out.
    requests: usize,
    streams: Vec<Stream>,
}

struct Stream {
    name: &'static str,
    latencies: Vec<Duration>,
    elapsed: Duration,
    secret_reads: usize,
}

/// `count` invocations of `event`, each answering `expected`; the latencies after the warm-up.
async fn refusals(function: &Function, event: &str, count: usize, expected: u64) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for i in 0..count {
        let started = Instant::now();
        let answer = function.invoke(event).await;
        if i >= WARMUP.min(count / 4) {
            latencies.push(started.elapsed());
        }
        assert_eq!(status(&answer), expected, "{answer:?}");
    }
    latencies
}

fn wrong_secret(route: &str) -> String {
    let client = unique("refused");
    let mut event = rest_event(route, &body(&client, METHODS[0], &share(&client, 0)));
    set_header(&mut event, "X-Webhook-Secret", &["not-the-secret"]);
    event.to_string()
}

fn client_event(method: &str, user: &str, cipher_text: &str) -> String {
    let body = json!({ "cipherText": cipher_text }).to_string();
    let body = (method == "PUT").then_some(body.as_str());
    client_share_event(method, Some(user), METHODS[0], body).to_string()
}

/// The same DynamoDB and KMS calls each handler makes, issued directly: what storage alone costs.
struct Raw {
    dynamodb: aws_sdk_dynamodb::Client,
    kms: aws_sdk_kms::Client,
    key_id: String,
    shares: String,
    history: String,
}

impl Raw {
    async fn new(f: &Fixture) -> Self {
        Self {
            dynamodb: f.client.clone(),
            kms: aws_emulator::kms_client().await,
            key_id: f.key_id.clone(),
            shares: unique("raw-shares"),
            history: unique("raw-history"),
        }
        .with_tables(f)
        .await
    }

    /// The same tables and key, through new clients with no connection open yet.
    async fn fresh(&self, f: &Fixture) -> Self {
        Self {
            dynamodb: local_aws::dynamodb_local::client_for(&f.dynamodb_endpoint).await,
            kms: aws_emulator::kms_client().await,
            key_id: self.key_id.clone(),
            shares: self.shares.clone(),
            history: self.history.clone(),
        }
    }

    async fn with_tables(self, f: &Fixture) -> Self {
        use local_aws::template::{create_table, table};
        create_table(&f.client, &table("SharesTable"), &self.shares).await;
        create_table(&f.client, &table("HistoryTable"), &self.history).await;
        self
    }

    async fn time(&self, operation: Operation, client: &str, text: &str) -> Duration {
        let operation = operation.storage();
        let started = Instant::now();
        match operation {
            Operation::BackupNew | Operation::BackupReplace | Operation::BackupRepeat => {
                let (read, key) = tokio::join!(
                    self.dynamodb
                        .get_item()
                        .table_name(&self.shares)
                        .key("clientId", s(client))
                        .key("backupMethod", s(METHODS[0]))
                        .consistent_read(true)
                        .send(),
                    self.kms
                        .generate_data_key()
                        .key_id(&self.key_id)
                        .key_spec(DataKeySpec::Aes256)
                        .encryption_context("clientId", client)
                        .encryption_context("backupMethod", METHODS[0])
                        .send()
                );
                let current = read.expect("GetItem").item;
                let key = key.expect("GenerateDataKey");
                let item = self.item(client, text, key.ciphertext_blob.unwrap().into_inner());
                match (operation, current) {
                    (Operation::BackupRepeat, Some(_)) => {}
                    (_, Some(old)) => {
                        let mut kept = old;
                        kept.insert("shareKey".into(), s(&format!("[\"{client}\"]")));
                        let version = kept["version"].clone();
                        self.put(&self.history, kept, "attribute_not_exists(shareKey)")
                            .await;
                        let next = version.as_n().unwrap().parse::<u64>().unwrap() + 1;
                        let mut item = item;
                        item.insert("version".into(), AttributeValue::N(next.to_string()));
                        self.put(&self.shares, item, "attribute_exists(clientId)")
                            .await;
                    }
                    (_, None) => {
                        self.put(&self.shares, item, "attribute_not_exists(clientId)")
                            .await;
                    }
                }
            }
            Operation::FetchOne | Operation::FetchEight => {
                let items = self
                    .dynamodb
                    .query()
                    .table_name(&self.shares)
                    .key_condition_expression("clientId = :c")
                    .expression_attribute_values(":c", s(client))
                    .consistent_read(true)
                    .send()
                    .await
                    .expect("Query")
                    .items
                    .unwrap_or_default();
                let opened = items.iter().map(|item| {
                    self.kms
                        .decrypt()
                        .key_id(&self.key_id)
                        .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(
                            item["encryptedDataKey"].as_b().unwrap().as_ref(),
                        ))
                        .encryption_context("clientId", client)
                        // The slot's backupMethod: the sort key up to a pair id.
                        .encryption_context(
                            "backupMethod",
                            item["backupMethod"]
                                .as_s()
                                .unwrap()
                                .split('\u{1f}')
                                .next()
                                .unwrap(),
                        )
                        .send()
                });
                for result in futures_util::future::join_all(opened).await {
                    result.expect("Decrypt");
                }
            }
            Operation::ClientSharePut | Operation::ClientShareGet => unreachable!("storage()"),
        }
        started.elapsed()
    }

    /// An item the size of the handler's: the share's bytes stand in for its ciphertext.
    fn item(&self, client: &str, text: &str, data_key: Vec<u8>) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("clientId".into(), s(client)),
            ("backupMethod".into(), s(METHODS[0])),
            (
                "sealedShare".into(),
                AttributeValue::B(Blob::new(format!("{text}0123456789abcdef"))),
            ),
            ("nonce".into(), AttributeValue::B(Blob::new([7u8; 12]))),
            (
                "encryptedDataKey".into(),
                AttributeValue::B(Blob::new(data_key)),
            ),
            ("kmsKeyId".into(), s(&self.key_id)),
            ("sealFormat".into(), AttributeValue::N("1".into())),
            ("shareSha256".into(), s(&"0".repeat(64))),
            (
                "shareBytes".into(),
                AttributeValue::N(text.len().to_string()),
            ),
            ("version".into(), AttributeValue::N("1".into())),
            ("storedAt".into(), s("2026-11-22T00:00:00.000000000Z")),
        ])
    }

    async fn put(&self, table: &str, item: HashMap<String, AttributeValue>, condition: &str) {
        self.dynamodb
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(condition)
            .send()
            .await
            .expect("PutItem");
    }
}

/// Seed the raw tables like the handler's: the raw fetch reads what the fetch function reads.
async fn seed_raw(raw: &Raw, f: &Fixture, clients: &[&str]) {
    for client in clients {
        let items = f
            .client
            .query()
            .table_name(&f.tables.shares)
            .key_condition_expression("clientId = :c")
            .expression_attribute_values(":c", s(client))
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default();
        for item in items {
            raw.put(&raw.shares, item, "attribute_not_exists(clientId)")
                .await;
        }
    }
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

/// An 8 KB share like Portal's (a stringified JSON object), different for each `n`, of one backup
/// share pair per client: a new client's share fills a new pair's slot, as almost every backup
/// does, and a client's next one replaces it.
fn share(client: &str, n: usize) -> String {
    let filler = "ab01".repeat(2000);
    json!({ "clientId": client, "backupSharePairId": "bsp_bench", "n": n, "share": filler })
        .to_string()
}

fn body(client: &str, method: &str, share: &str) -> String {
    if share.is_empty() {
        json!({ "clientId": client }).to_string()
    } else {
        json!({ "clientId": client, "backupMethod": method, "share": share }).to_string()
    }
}

fn status(answer: &Result<Value, Value>) -> u64 {
    answer
        .as_ref()
        .ok()
        .and_then(|a| a["statusCode"].as_u64())
        .unwrap_or(0)
}

/// `loopback` (the default) or `deployed`: see the module's comment.
fn network() -> String {
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
fn as_deployed<'a>(f: &'a Fixture, secret_arn: &'a str) -> Vec<(&'a str, &'a str)> {
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

fn profile() -> String {
    std::env::var("BENCH_PROFILE").unwrap_or_else(|_| "release".to_owned())
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn report(run: &Run) {
    let Run {
        cold,
        warm,
        refused,
        tarpit,
        setup,
        peer,
        rss,
        requests,
    } = run;
    let requests = *requests;
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let round_trip: Option<f64> = std::env::var("BENCH_ROUND_TRIP_MS")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut results = json!({ "commit": commit, "profile": profile(), "network": network(), "roundTripMs": round_trip, "requests": requests, "cold": {}, "warm": {}, "refused": {}, "connection": {}, "rssKib": {}, "bytes": {} });
    println!(
        "measured at commit {commit}, profile {}, network {}{}\n",
        profile(),
        network(),
        round_trip
            .map(|ms| format!(" (TLS, round trip {ms:.2} ms measured)"))
            .unwrap_or_default()
    );
    println!(
        "| cold start ({} processes, medians; max in brackets) | ready | first response | first request | raw SDK, new clients |",
        cold[0].1.ready.len()
    );
    println!("|---|---|---|---|---|");
    for (name, starts) in cold {
        let request: Vec<Duration> = starts
            .first
            .iter()
            .zip(&starts.ready)
            .map(|(f, r)| *f - *r)
            .collect();
        let [ready, first, request, raw] = [&starts.ready, &starts.first, &request, &starts.raw]
            .map(|samples| (percentile(samples, 50.0), percentile(samples, 100.0)));
        println!(
            "| {name} | {:.1} ms ({:.1}) | {:.1} ms ({:.1}) | {:.1} ms ({:.1}) | {:.1} ms ({:.1}) |",
            ms(ready.0),
            ms(ready.1),
            ms(first.0),
            ms(first.1),
            ms(request.0),
            ms(request.1),
            ms(raw.0),
            ms(raw.1)
        );
        results["cold"][name] = json!({
            "readyMedianMs": ms(ready.0), "readyMaxMs": ms(ready.1),
            "firstResponseMedianMs": ms(first.0), "firstResponseMaxMs": ms(first.1),
            "firstRequestMedianMs": ms(request.0), "firstRequestMaxMs": ms(request.1),
            "rawNewClientsMedianMs": ms(raw.0), "rawNewClientsMaxMs": ms(raw.1),
        });
    }
    println!(
        "\n| refused before storage ({requests} each; the floor: no secret re-read) | p50 | p99 |"
    );
    println!("|---|---|---|");
    for (name, latencies) in refused {
        let (p50, p99) = (percentile(latencies, 50.0), percentile(latencies, 99.0));
        println!("| {name} | {:.2} ms | {:.2} ms |", ms(p50), ms(p99));
        results["refused"][*name] = json!({ "p50Ms": ms(p50), "p99Ms": ms(p99) });
    }
    if let Some(tarpit) = tarpit {
        tarpit_report(tarpit, &mut results);
    }
    println!(
        "\n| a new client's call ({} clients, medians) | first call | second call | the connection's cost |",
        setup[0].first.len()
    );
    println!("|---|---|---|---|");
    for Setup {
        service,
        first,
        second,
    } in setup
    {
        let (first, second) = (percentile(first, 50.0), percentile(second, 50.0));
        let cost = first.saturating_sub(second);
        println!(
            "| {service} | {:.2} ms | {:.2} ms | {:.2} ms |",
            ms(first),
            ms(second),
            ms(cost)
        );
        results["connection"][*service] =
            json!({ "firstMs": ms(first), "secondMs": ms(second), "costMs": ms(cost) });
    }
    let floor = |operation: Operation| {
        let (_, latencies) = refused
            .iter()
            .find(|(n, _)| *n == operation.floor())
            .unwrap();
        percentile(latencies, 50.0)
    };
    println!(
        "\n| warm ({requests} requests each) | handler p50 | handler p99 | raw SDK p50 | raw SDK p99 | overhead p50 | overhead p50, less a refused request |"
    );
    println!("|---|---|---|---|---|---|---|");
    for operation in Operation::ALL {
        let l = &warm[&operation];
        let (h50, h99, r50, r99) = (
            percentile(&l.handler, 50.0),
            percentile(&l.handler, 99.0),
            percentile(&l.raw, 50.0),
            percentile(&l.raw, 99.0),
        );
        let ratio = ms(h50) / ms(r50);
        let own = (ms(h50) - ms(floor(operation))) / ms(r50);
        println!(
            "| {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {ratio:.2} | {own:.2} |",
            operation.label(),
            ms(h50),
            ms(h99),
            ms(r50),
            ms(r99)
        );
        results["warm"][operation.label()] = json!({ "handlerP50Ms": ms(h50), "handlerP99Ms": ms(h99), "rawP50Ms": ms(r50), "rawP99Ms": ms(r99), "overheadP50": ratio, "overheadP50LessRefused": own });
    }
    peer_report(cold, peer, rss, &mut results);
    println!(
        "\n| function | peak RSS after the warm run | after its largest request | bootstrap | deployment zip |"
    );
    println!("|---|---|---|---|---|");
    for (name, kib, largest) in rss {
        let bootstrap = size(&repo_root().join("target").join(profile()).join(name));
        let zip = size(
            &repo_root()
                .join("target/bench")
                .join(profile())
                .join(format!("{name}.zip")),
        );
        println!(
            "| {name} | {:.1} MiB | {:.1} MiB | {:.2} MB | {:.2} MB |",
            *kib as f64 / 1024.0,
            *largest as f64 / 1024.0,
            bootstrap as f64 / 1e6,
            zip as f64 / 1e6
        );
        results["rssKib"][*name] = json!(kib);
        results["rssAfterLargestKib"][*name] = json!(largest);
        results["bytes"][*name] = json!({ "bootstrap": bootstrap, "zip": zip });
    }
    let out = repo_root().join("target/bench").join(profile());
    std::fs::create_dir_all(&out).unwrap();
    let name = format!("results-{}.json", network());
    std::fs::write(out.join(name), format!("{results:#}")).unwrap();
    chart(&results);
}

/// The Node.js peer next to the Rust functions' figures of the same run.
fn peer_report(
    cold: &[(String, ColdStarts)],
    peer: &node::Peer,
    rss: &[(&str, u64, u64)],
    results: &mut Value,
) {
    let rust_cold = &cold[0].1; // backup, secret from Secrets Manager, as the peer reads it
    let first_request = |starts: &ColdStarts| -> Vec<Duration> {
        starts
            .first
            .iter()
            .zip(&starts.ready)
            .map(|(f, r)| *f - *r)
            .collect()
    };
    let median = |samples: &[Duration]| ms(percentile(samples, 50.0));
    let rows = [
        (
            "cold start: ready (init)",
            median(&peer.cold.ready),
            median(&rust_cold.ready),
        ),
        (
            "cold start: first request",
            median(&first_request(&peer.cold)),
            median(&first_request(rust_cold)),
        ),
        (
            "cold start: first response",
            median(&peer.cold.first),
            median(&rust_cold.first),
        ),
        (
            "warm /backup, new share p50",
            median(&peer.backup_new),
            median(&peer.rust_backup_new),
        ),
        (
            "warm /backup/fetch, 1 share p50",
            median(&peer.fetch_one),
            median(&peer.rust_fetch_one),
        ),
    ];
    println!(
        "\n| Node.js 20, AWS SDK v3 peer of backup ({} cold starts; {} warm requests, alternating with Rust's; medians) | Node.js | Rust | Node.js ÷ Rust |",
        peer.cold.ready.len(),
        peer.backup_new.len()
    );
    println!("|---|---|---|---|");
    for (label, node, rust) in rows {
        println!(
            "| {label} | {node:.2} ms | {rust:.2} ms | {:.1} |",
            node / rust
        );
        results["node"][label] = json!({ "medianMs": node, "rustMs": rust });
    }
    let (node_rss, rust_rss) = (peer.rss_kib as f64 / 1024.0, rss[0].1 as f64 / 1024.0);
    println!(
        "| peak RSS after the warm run | {node_rss:.1} MiB | {rust_rss:.1} MiB | {:.1} |",
        node_rss / rust_rss
    );
    results["nodeRssKib"] = json!(peer.rss_kib);
}

/// The request rate at which `BackupReservedConcurrency` (20) environments are all held.
const RESERVED_CONCURRENCY: f64 = 20.0;

fn tarpit_report(tarpit: &Tarpit, results: &mut Value) {
    println!(
        "\n| refused, secret from Secrets Manager ({} in a row at one warm process) | p50 | p99 | Lambda time per request | requests/s that hold all {RESERVED_CONCURRENCY} reserved environments | GetSecretValue calls |",
        tarpit.requests
    );
    println!("|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for stream in &tarpit.streams {
        let (p50, p99) = (
            percentile(&stream.latencies, 50.0),
            percentile(&stream.latencies, 99.0),
        );
        let per_request = ms(stream.elapsed) / tarpit.requests as f64;
        let saturating = RESERVED_CONCURRENCY * 1000.0 / per_request;
        println!(
            "| {} | {:.2} ms | {:.2} ms | {per_request:.2} ms | {saturating:.0} | {} in {:.1} s |",
            stream.name,
            ms(p50),
            ms(p99),
            stream.secret_reads,
            stream.elapsed.as_secs_f64()
        );
        rows.push(json!({ "stream": stream.name, "p50Ms": ms(p50), "p99Ms": ms(p99), "requests": tarpit.requests, "seconds": stream.elapsed.as_secs_f64(), "lambdaMsPerRequest": per_request, "saturatingRequestsPerSecond": saturating, "getSecretValueCalls": stream.secret_reads }));
    }
    results["tarpit"] = json!(rows);
}

fn size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// p50 and p99 of each operation, handler next to raw SDK, from the `results.json` of a run.
fn chart(results: &Value) {
    let commit = results["commit"].as_str().unwrap_or("?");
    let profile = results["profile"].as_str().unwrap_or("release");
    let network = results["network"].as_str().unwrap_or("loopback");
    let figure = |op: &Operation, key: &str| results["warm"][op.label()][key].as_f64().unwrap();
    let path = repo_root().join(format!("docs/performance-{profile}-{network}.svg"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let root = SVGBackend::new(&path, (960, 480)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let top = Operation::ALL
        .iter()
        .map(|op| figure(op, "handlerP99Ms").max(figure(op, "rawP99Ms")))
        .fold(0.0, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Warm latency, handler vs raw SDK (commit {commit}, {profile}, {network} network)"
            ),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..Operation::ALL.len() as f64, 0.0..top)
        .unwrap();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("ms")
        .draw()
        .unwrap();
    let series = [
        ("handler p50", RGBColor(31, 119, 180), 0.1, "handlerP50Ms"),
        ("raw SDK p50", RGBColor(255, 127, 14), 0.3, "rawP50Ms"),
        ("handler p99", RGBColor(158, 202, 225), 0.5, "handlerP99Ms"),
        ("raw SDK p99", RGBColor(253, 208, 162), 0.7, "rawP99Ms"),
    ];
    for (label, color, offset, key) in series {
        chart
            .draw_series(Operation::ALL.iter().enumerate().map(|(i, op)| {
                let x = i as f64 + offset;
                Rectangle::new([(x, 0.0), (x + 0.18, figure(op, key))], color.filled())
            }))
            .unwrap()
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    // One label under each group of bars (plotters' own would pick "nice" numbers instead).
    for (i, op) in Operation::ALL.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64 + 0.45, 0.0));
        let style =
            TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(op.label(), (x, y + 8), style))
            .unwrap();
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .unwrap();
    root.present().unwrap();
}
