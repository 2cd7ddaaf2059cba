//! Load against the real binaries and DynamoDB Local: many clients, each backing up both curves
//! at once, then fetching, then repeating or replacing a share, with 32 requests in flight over
//! pools of function processes (one request per process at a time, as Lambda runs them).
//!
//! Checked: every share that got a 200 is current or in history byte for byte; every fetch
//! returned exactly the shares current at that moment; no request got a 4xx. Printed: throughput,
//! p50/p99 per route, and the count of each status.
//!
//! `make test` runs it small (`LOAD_CLIENTS`, default 200); `make load` runs 5,000 clients.

use futures_util::StreamExt;
use local_aws::events::{DEV_SECRET, rest_event};
use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, unique};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

const CURVES: [&str; 2] = ["SECP256K1", "ED25519"];

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// What one route saw.
#[derive(Default)]
struct RouteReport {
    latencies: Vec<Duration>,
    statuses: BTreeMap<u64, usize>,
    /// `/backup`'s `result`: created, replaced, unchanged.
    results: BTreeMap<String, usize>,
}

impl RouteReport {
    fn record(&mut self, latency: Duration, status: u64, result: Option<&str>) {
        self.latencies.push(latency);
        *self.statuses.entry(status).or_default() += 1;
        if let Some(result) = result {
            *self.results.entry(result.to_owned()).or_default() += 1;
        }
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    fn line(&self, route: &str) -> String {
        format!(
            "{route:<14} {:>6} requests  statuses {:?}  results {:?}  p50 {:.1} ms  p99 {:.1} ms",
            self.latencies.len(),
            self.statuses,
            self.results,
            self.percentile(0.50).as_secs_f64() * 1000.0,
            self.percentile(0.99).as_secs_f64() * 1000.0,
        )
    }
}

/// Everything the clients saw, for the checks at the end.
#[derive(Default)]
struct Ledger {
    backup: RouteReport,
    fetch: RouteReport,
    /// (clientId, backupMethod, share) of every `/backup` answered 200.
    acknowledged: Vec<(String, String, String)>,
    fetches_checked: usize,
    problems: Vec<String>,
}

struct Load<'a> {
    backup: &'a Function,
    fetch: &'a Function,
    in_flight: Semaphore,
    ledger: Mutex<Ledger>,
}

impl Load<'_> {
    /// One `/backup`; `true` on a 200. A 5xx is allowed (the share may or may not be stored);
    /// anything else is a problem.
    async fn backup(&self, client: &str, method: &str, share: &str) -> bool {
        let body = json!({ "clientId": client, "backupMethod": method, "share": share });
        let (latency, status, reply) = self.call(self.backup, "/backup", &body).await;
        let mut ledger = self.ledger.lock().await;
        ledger
            .backup
            .record(latency, status, reply["result"].as_str());
        match status {
            200 => {
                ledger
                    .acknowledged
                    .push((client.into(), method.into(), share.into()));
                true
            }
            500.. => false,
            _ => {
                ledger
                    .problems
                    .push(format!("/backup for {client} {method}: {status} {reply}"));
                false
            }
        }
    }

    /// One `/backup/fetch`, checked against `expected` when every earlier write got a 200.
    async fn fetch(&self, client: &str, expected: Option<&BTreeSet<String>>) {
        let body = json!({ "clientId": client });
        let (latency, status, reply) = self.call(self.fetch, "/backup/fetch", &body).await;
        let mut ledger = self.ledger.lock().await;
        ledger.fetch.record(latency, status, None);
        if status != 200 {
            if status < 500 {
                ledger
                    .problems
                    .push(format!("/backup/fetch for {client}: {status} {reply}"));
            }
            return;
        }
        let Some(expected) = expected else {
            return;
        };
        let fetched: BTreeSet<String> = reply["backupShares"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|share| share.as_str().map(str::to_owned))
            .collect();
        if &fetched == expected {
            ledger.fetches_checked += 1;
        } else {
            ledger.problems.push(format!(
                "/backup/fetch for {client} returned {} shares, not the {} current ones",
                fetched.len(),
                expected.len()
            ));
        }
    }

    async fn call(&self, function: &Function, path: &str, body: &Value) -> (Duration, u64, Value) {
        let event = rest_event(path, &body.to_string()).to_string();
        let _permit = self.in_flight.acquire().await.expect("semaphore");
        let started = Instant::now();
        let response = function.invoke(&event).await.expect("a response");
        let latency = started.elapsed();
        let status = response["statusCode"].as_u64().unwrap_or_default();
        let reply = response["body"]
            .as_str()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or(Value::Null);
        (latency, status, reply)
    }

    /// What Portal does for one user: both curves at once, a fetch to validate, and for some a
    /// repeated or replacing backup followed by another fetch.
    async fn client(&self, index: usize) {
        let client = unique("load");
        let share = |curve: &str, version: u32| {
            format!(
                "{{\"clientId\":\"{client}\",\"curve\":\"{curve}\",\"version\":{version},\"share\":\"{:032x}{:032x}\"}}",
                fastrand::u128(..),
                fastrand::u128(..)
            )
        };
        let methods = CURVES.map(|curve| format!("GDRIVE-{curve}"));
        let first = CURVES.map(|curve| share(curve, 1));
        let (a, b) = tokio::join!(
            self.backup(&client, &methods[0], &first[0]),
            self.backup(&client, &methods[1], &first[1]),
        );
        let mut current: BTreeSet<String> = first.iter().cloned().collect();
        let mut exact = a && b;
        self.fetch(&client, exact.then_some(&current)).await;
        match index % 4 {
            0 => {
                exact &= self.backup(&client, &methods[0], &first[0]).await;
            }
            1 => {
                let replacement = share(CURVES[0], 2);
                exact &= self.backup(&client, &methods[0], &replacement).await;
                current.remove(&first[0]);
                current.insert(replacement);
            }
            _ => return,
        }
        self.fetch(&client, exact.then_some(&current)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_share_that_got_a_200_survives_load_and_every_fetch_sees_the_current_shares() {
    let clients = setting("LOAD_CLIENTS", 200);
    let concurrency = setting("LOAD_CONCURRENCY", 32);
    let processes = setting("LOAD_PROCESSES", concurrency);
    let f = Fixture::new().await;
    let env = f.function_env(DEV_SECRET);
    let backup = Function::start_pool(&binary("backup"), &env, processes).await;
    let fetch = Function::start_pool(&binary("backup-fetch"), &env, processes).await;
    let load = Load {
        backup: &backup,
        fetch: &fetch,
        in_flight: Semaphore::new(concurrency),
        ledger: Mutex::default(),
    };

    let started = Instant::now();
    futures_util::stream::iter(0..clients)
        .for_each_concurrent(concurrency, |index| load.client(index))
        .await;
    let elapsed = started.elapsed();
    let ledger = load.ledger.into_inner();

    // Every acknowledged share, current or in history, opened and compared byte for byte.
    let mut stored: BTreeSet<(String, String, String)> = BTreeSet::new();
    let items: Vec<_> = f
        .scan(&f.tables.shares)
        .await
        .into_iter()
        .chain(f.scan(&f.tables.history).await)
        .collect();
    let opened: Vec<_> = futures_util::stream::iter(&items)
        .map(|item| async {
            let text = |name: &str| item[name].as_s().expect("a string key").clone();
            (
                text("clientId"),
                text("backupMethod"),
                f.share_in(item).await,
            )
        })
        .buffer_unordered(16)
        .collect()
        .await;
    stored.extend(opened);
    let lost = ledger
        .acknowledged
        .iter()
        .filter(|share| !stored.contains(*share))
        .count();

    let requests = ledger.backup.latencies.len() + ledger.fetch.latencies.len();
    println!(
        "load: {clients} clients, {requests} requests at {concurrency}-way concurrency over \
         {processes} backup + {processes} fetch processes [debug build, DynamoDB Local, KMS emulator]"
    );
    println!(
        "  {:.1} s, {:.0} requests/s",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );
    println!("  {}", ledger.backup.line("/backup"));
    println!("  {}", ledger.fetch.line("/backup/fetch"));
    println!(
        "  acknowledged shares {}, lost {lost}; fetches checked exactly {}; items stored {}",
        ledger.acknowledged.len(),
        ledger.fetches_checked,
        items.len()
    );
    for (name, function) in [("backup", &backup), ("backup-fetch", &fetch)] {
        let peak = function
            .peak_rss_kib()
            .into_iter()
            .max()
            .unwrap_or_default();
        println!(
            "  {name}: peak RSS of the largest process {:.1} MiB",
            peak as f64 / 1024.0
        );
    }

    assert!(
        ledger.problems.is_empty(),
        "{} problems:\n{}",
        ledger.problems.len(),
        ledger.problems.join("\n")
    );
    assert_eq!(lost, 0, "shares that got a 200 are missing");
    let expected_backups = clients * 2 + clients.div_ceil(4) + (clients + 2) / 4;
    assert_eq!(ledger.backup.latencies.len(), expected_backups);
    assert!(
        ledger.fetches_checked > 0,
        "no fetch could be checked exactly"
    );
}
