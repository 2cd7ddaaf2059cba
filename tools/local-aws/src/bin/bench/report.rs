//! What a run prints and keeps: the Markdown tables, `target/bench/<profile>/results-<network>.json`
//! (which `--compare` and `--chart` read back), and the chart.

use crate::cold::ColdStarts;
use crate::connection::Setup;
use crate::floor::Tarpit;
use crate::operation::Operation;
use crate::{Run, chart, network, node, profile};
use local_aws::repo_root;
use serde_json::{Value, json};
use std::time::Duration;

pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Prints every table, writes `results-<network>.json` and draws the chart.
pub fn report(run: &Run) {
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
        let request = starts.first_request();
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
    chart::draw(&results);
}

/// The Node.js peer next to the Rust functions' figures of the same run.
fn peer_report(
    cold: &[(String, ColdStarts)],
    peer: &node::Peer,
    rss: &[(&str, u64, u64)],
    results: &mut Value,
) {
    let rust_cold = &cold[0].1; // backup, secret from Secrets Manager, as the peer reads it
    let median = |samples: &[Duration]| ms(percentile(samples, 50.0));
    let rows = [
        (
            "cold start: ready (init)",
            median(&peer.cold.ready),
            median(&rust_cold.ready),
        ),
        (
            "cold start: first request",
            median(&peer.cold.first_request()),
            median(&rust_cold.first_request()),
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
