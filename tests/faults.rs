//! Faults against the real binaries: DynamoDB frozen, killed and restarted under traffic, and a
//! function process killed mid-request. Each request gets a 200 whose share is durably stored, or
//! a 5xx, inside Portal's 10 s; service resumes without restarting anything; a retry succeeds.
//! (Throttling and transaction conflicts, which DynamoDB Local cannot produce, are in
//! `shared/src/store/mocked.rs`.)

use custodian_backup::config::HistoryRetention;
use local_aws::dynamodb_local::Restartable;
use local_aws::events::{DEV_SECRET, rest_event};
use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, unique};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The function's timeout in `template.yaml`: an answer must come before it, and so well inside
/// Portal's 10 s.
const LAMBDA_TIMEOUT: Duration = Duration::from_secs(8);

fn backup_event(client: &str, share: &str) -> String {
    let body = json!({ "clientId": client, "backupMethod": "GDRIVE-SECP256K1", "share": share });
    rest_event("/backup", &body.to_string()).to_string()
}

fn status(response: &Value) -> u64 {
    response["statusCode"].as_u64().unwrap_or_default()
}

#[derive(Default)]
struct Tally {
    statuses: BTreeMap<u64, usize>,
    slowest: Duration,
    acknowledged: Vec<(String, String)>,
    problems: Vec<String>,
    /// 200s since the last restart.
    since_restart: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_frozen_then_killed_and_restarted_never_loses_an_acknowledged_share() {
    let mut db = Restartable::start();
    let f = Fixture::on(&db.endpoint(), HistoryRetention::days(30)).await;
    let env = f.function_env(DEV_SECRET);
    let backup = Function::start_pool(&binary("backup"), &env, 4).await;
    let stop = AtomicBool::new(false);
    let tally = Mutex::new(Tally::default());

    let writer = || async {
        while !stop.load(Ordering::Relaxed) {
            let client = unique("fault");
            let share = format!("share-of-{client}");
            let started = Instant::now();
            let outcome = backup
                .invoke_within(&backup_event(&client, &share), Duration::from_secs(12))
                .await;
            let latency = started.elapsed();
            let mut tally = tally.lock().await;
            tally.slowest = tally.slowest.max(latency);
            match outcome {
                Some(Ok(response)) => {
                    let status = status(&response);
                    *tally.statuses.entry(status).or_default() += 1;
                    match status {
                        200 => {
                            tally.acknowledged.push((client, share));
                            tally.since_restart += 1;
                        }
                        500.. => {}
                        _ => tally.problems.push(format!("{status}: {response}")),
                    }
                    if latency >= LAMBDA_TIMEOUT {
                        tally.problems.push(format!("answered after {latency:?}"));
                    }
                }
                Some(Err(error)) => tally.problems.push(format!("function error: {error}")),
                None => tally.problems.push("no answer within 12 s".into()),
            }
            drop(tally);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let faults = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        db.freeze();
        tokio::time::sleep(Duration::from_secs(6)).await;
        db.thaw();
        tokio::time::sleep(Duration::from_secs(2)).await;
        db.kill();
        tokio::time::sleep(Duration::from_secs(3)).await;
        tally.lock().await.since_restart = 0;
        db.restart();
        // Serving again, with the same function processes.
        let deadline = Instant::now() + Duration::from_secs(30);
        while tally.lock().await.since_restart < 20 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stop.store(true, Ordering::Relaxed);
    };
    tokio::join!(faults, writer(), writer(), writer(), writer());
    let tally = tally.into_inner();

    let stored: BTreeSet<(String, String)> = {
        let mut stored = BTreeSet::new();
        for item in f.scan(&f.tables.shares).await {
            let client = item["clientId"].as_s().expect("clientId").clone();
            stored.insert((client, f.share_in(&item).await));
        }
        stored
    };
    let lost = tally
        .acknowledged
        .iter()
        .filter(|share| !stored.contains(*share))
        .count();
    println!(
        "DynamoDB frozen 6 s, then killed 3 s and restarted: statuses {:?}, slowest answer {:?}, \
         acknowledged {}, lost {lost}, 200s after the restart {}",
        tally.statuses,
        tally.slowest,
        tally.acknowledged.len(),
        tally.since_restart
    );
    assert!(tally.problems.is_empty(), "{:#?}", tally.problems);
    assert_eq!(lost, 0, "shares that got a 200 are missing");
    assert!(
        tally.statuses.keys().any(|status| *status >= 500),
        "the outage never showed: the test did not test anything"
    );
    assert!(
        tally.since_restart >= 20,
        "service did not resume after the restart"
    );
}

#[tokio::test]
async fn a_function_killed_mid_request_stores_the_share_whole_or_not_at_all() {
    let f = Fixture::new().await;
    let env = f.function_env(DEV_SECRET);
    let client = unique("kill");
    let mut current = "the first share".to_owned();
    let first = Function::start(&binary("backup"), &env).await;
    assert_eq!(
        status(
            &first
                .invoke(&backup_event(&client, &current))
                .await
                .unwrap()
        ),
        200
    );
    drop(first);

    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for round in 0..20 {
        let next = format!("share {round} of {client}");
        // A warm process, and how long a replacement takes it: the kill lands anywhere from
        // before the request to after its answer.
        let function = Function::start(&binary("backup"), &env).await;
        let warm = unique("warm");
        let warm_up = |share: &str| backup_event(&warm, share);
        assert_eq!(
            status(&function.invoke(&warm_up("one")).await.unwrap()),
            200
        );
        let started = Instant::now();
        assert_eq!(
            status(&function.invoke(&warm_up("two")).await.unwrap()),
            200
        );
        let span = started.elapsed().as_micros() as u64 * 3 / 2;
        let delay = Duration::from_micros(fastrand::u64(0..=span));
        let event = backup_event(&client, &next);
        let (outcome, ()) = tokio::join!(
            function.invoke_within(&event, delay + Duration::from_millis(500)),
            async {
                tokio::time::sleep(delay).await;
                function.kill();
            }
        );
        let answered = matches!(&outcome, Some(Ok(response)) if status(response) == 200);

        // Whole or not at all: the current share is the old one or the new one, and if it is the
        // new one the old one is in history.
        let shares = f.scan(&f.tables.shares).await;
        let ours: Vec<_> = shares
            .iter()
            .filter(|item| item["clientId"].as_s().ok() == Some(&client))
            .collect();
        assert_eq!(ours.len(), 1, "round {round}");
        let now = f.share_in(ours[0]).await;
        let history: Vec<String> = {
            let mut opened = Vec::new();
            for item in f.scan(&f.tables.history).await {
                if item["clientId"].as_s().ok() == Some(&client) {
                    opened.push(f.share_in(&item).await);
                }
            }
            opened
        };
        if now == next {
            assert!(
                history.contains(&current),
                "round {round}: the old share was lost"
            );
        } else {
            assert_eq!(
                now, current,
                "round {round}: a share nobody sent is current"
            );
            assert!(
                !answered,
                "round {round}: a 200 for a share that is not stored"
            );
        }
        *seen
            .entry(match (answered, now == next) {
                (true, _) => "answered before the kill",
                (false, true) => "killed after the write",
                (false, false) => "killed before the write",
            })
            .or_default() += 1;

        // Portal retries; a fresh process stores it.
        let retry = Function::start(&binary("backup"), &env).await;
        let response = retry.invoke(&backup_event(&client, &next)).await.unwrap();
        assert_eq!(status(&response), 200, "round {round}: {response}");
        current = next;
    }
    println!("a function killed at a random point of 20 requests: {seen:?}");
}
