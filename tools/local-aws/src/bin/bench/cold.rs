//! Cold starts: fresh processes of `backup` and `backup-fetch`, with the webhook secret from
//! Secrets Manager (as deployed) and from the environment (as `make run`), each next to the same
//! storage calls made by SDK clients that had never connected.

use crate::operation::Operation;
use crate::raw::Raw;
use crate::requests::{body, share, status, webhook};
use crate::{METHODS, profile};
use local_aws::runtime_api::{Function, binary_of};
use local_aws::{Fixture, unique};
use std::time::Duration;

/// One function's fresh processes: start to first poll, start to first answer, and the same
/// storage calls made by SDK clients that had never connected.
#[derive(Default)]
pub struct ColdStarts {
    pub ready: Vec<Duration>,
    pub first: Vec<Duration>,
    pub raw: Vec<Duration>,
}

impl ColdStarts {
    /// From the first poll to the first answer: the first request's own time.
    pub fn first_request(&self) -> Vec<Duration> {
        self.first
            .iter()
            .zip(&self.ready)
            .map(|(first, ready)| *first - *ready)
            .collect()
    }
}

/// One fresh process per client of `fetched` (whose share each cold fetch reads), per function
/// and per place the secret comes from; each row named `<function>, secret from <place>`.
pub async fn measure(
    f: &Fixture,
    raw: &Raw,
    deployed_env: &[(&str, &str)],
    local_env: &[(&str, &str)],
    fetched: &[String],
) -> Vec<(String, ColdStarts)> {
    let mut cold = Vec::new();
    let configurations = [
        ("Secrets Manager", deployed_env),
        ("environment", local_env),
    ];
    let functions = [
        ("backup", "/backup", Operation::BackupNew),
        ("backup-fetch", "/backup/fetch", Operation::FetchOne),
    ];
    for ((secret, env), (name, route, operation)) in configurations
        .into_iter()
        .flat_map(|configuration| functions.map(|function| (configuration, function)))
    {
        let mut starts = ColdStarts::default();
        for fetched in fetched {
            let function = Function::start(&binary_of(&profile(), name), env).await;
            let client = match operation {
                Operation::BackupNew => unique("cold"),
                _ => fetched.clone(),
            };
            let text = share(&client, 0);
            let event = match operation {
                Operation::BackupNew => webhook(route, &body(&client, METHODS[0], &text)),
                _ => webhook(route, &body(&client, "", "")),
            };
            let ready = function.ready_after().await;
            let answer = function.invoke(&event).await;
            starts.first.push(function.started.elapsed());
            starts.ready.push(ready);
            assert_eq!(status(&answer), 200, "{answer:?}");
            // The same calls from clients that have never connected: storage's own first time.
            let fresh = raw.fresh(f).await;
            starts.raw.push(fresh.time(operation, &client, &text).await);
        }
        cold.push((format!("{name}, secret from {secret}"), starts));
    }
    cold
}
