//! Refused requests. The floor: a request refused before storage by a function that holds its
//! secret in the environment (no Secrets Manager re-read can happen). The tarpit: streams of
//! refused requests at a function reading Secrets Manager, with the reads each caused counted on
//! the wire.

use crate::requests::{refusals, wrong_secret};
use crate::{WARMUP, profile};
use local_aws::aws_emulator;
use local_aws::events::set_header;
use local_aws::proxy::counting_proxy;
use local_aws::runtime_api::{Function, binary_of};
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Each refused request's latencies after the warm-up, by the function that refused it.
pub type Refused = Vec<(&'static str, Vec<Duration>)>;

/// `WARMUP + requests` refusals at a `backup` and a `backup-fetch` holding the secret
/// (`local_env`), and at the client-share function of a request without the token's claim.
pub async fn measure(
    local_env: &[(&str, &str)],
    client_shares: &Function,
    no_claim: String,
    requests: usize,
) -> Refused {
    let backup = Function::start(&binary_of(&profile(), "backup"), local_env).await;
    let fetch = Function::start(&binary_of(&profile(), "backup-fetch"), local_env).await;
    let mut refused = Vec::new();
    for (name, function, event) in [
        ("backup", &backup, wrong_secret("/backup")),
        ("backup-fetch", &fetch, wrong_secret("/backup/fetch")),
        ("client-backup-shares", client_shares, no_claim),
    ] {
        let latencies = refusals(function, &event, WARMUP + requests, 401).await;
        refused.push((name, latencies));
    }
    refused
}

/// Streams of refused requests at one warm function reading Secrets Manager.
pub struct Tarpit {
    /// Every request of each stream, including the warm-up ones `latencies` leaves out.
    pub requests: usize,
    pub streams: Vec<Stream>,
}

pub struct Stream {
    pub name: &'static str,
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
    pub secret_reads: usize,
}

/// `requests` requests without `X-Webhook-Secret`, then as many wrong secrets, in a row at one
/// warm function that reads its secret from Secrets Manager (`env`), through a proxy counting
/// its GetSecretValue calls.
pub async fn tarpit(env: &[(&str, &str)], requests: usize) -> Tarpit {
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
