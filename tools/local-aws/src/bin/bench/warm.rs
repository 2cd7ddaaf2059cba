//! Warm latency: each operation `requests` times at one warm process, each request next to the
//! same storage calls made directly (interleaved, so both meet the emulators in the same state).

use crate::operation::Operation;
use crate::raw::Raw;
use crate::requests::{body, client_event, share, status, webhook};
use crate::{METHODS, WARMUP};
use local_aws::runtime_api::Function;
use local_aws::unique;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One operation's latencies after the warm-up: the handler's, and storage's alone.
pub struct Latencies {
    pub handler: Vec<Duration>,
    pub raw: Vec<Duration>,
}

/// The warm processes and the clients whose shares they replace, repeat and fetch.
pub struct Warm<'a> {
    pub backup: &'a Function,
    pub fetch: &'a Function,
    pub client_shares: &'a Function,
    /// A client with one share stored, and one with eight.
    pub one: &'a str,
    pub eight: &'a str,
    pub repeat: &'a str,
    pub replace: &'a str,
    /// An app user with a client share stored, and a cipherText to store.
    pub app_user: &'a str,
    pub cipher_text: &'a str,
}

/// Every operation of [`Operation::ALL`], `WARMUP + requests` times each.
pub async fn measure(warm: &Warm<'_>, raw: &Raw, requests: usize) -> HashMap<Operation, Latencies> {
    let mut measured = HashMap::new();
    for operation in Operation::ALL {
        let mut latencies = Latencies {
            handler: Vec::new(),
            raw: Vec::new(),
        };
        for i in 0..WARMUP + requests {
            let (function, event, raw_client, text, expected) = request(warm, operation, i);
            let started = Instant::now();
            let answer = function.invoke(&event).await;
            let handler = started.elapsed();
            assert_eq!(status(&answer), 200, "{answer:?}");
            if !expected.is_empty() {
                let body: Value =
                    serde_json::from_str(answer.unwrap()["body"].as_str().unwrap()).unwrap();
                assert_eq!(body["result"], expected);
            }
            let raw = raw.time(operation, &raw_client, &text).await;
            if i >= WARMUP {
                latencies.handler.push(handler);
                latencies.raw.push(raw);
            }
        }
        measured.insert(operation, latencies);
    }
    measured
}

/// The `i`th request of `operation`: the function, the event, the client whose storage calls
/// are timed beside it with the share they carry, and the `result` a `/backup` must answer.
fn request<'a>(
    warm: &Warm<'a>,
    operation: Operation,
    i: usize,
) -> (&'a Function, String, String, String, &'static str) {
    let backup = |client: &str, text: &str| webhook("/backup", &body(client, METHODS[0], text));
    let fetch = |client: &str| webhook("/backup/fetch", &body(client, "", ""));
    match operation {
        Operation::BackupNew => {
            let client = unique("new");
            let text = share(&client, 0);
            (warm.backup, backup(&client, &text), client, text, "created")
        }
        Operation::BackupReplace => {
            let text = share(warm.replace, i + 1);
            let event = backup(warm.replace, &text);
            (
                warm.backup,
                event,
                warm.replace.to_owned(),
                text,
                "replaced",
            )
        }
        Operation::BackupRepeat => {
            let text = share(warm.repeat, 0);
            let event = backup(warm.repeat, &text);
            (
                warm.backup,
                event,
                warm.repeat.to_owned(),
                text,
                "unchanged",
            )
        }
        Operation::FetchOne => {
            let event = fetch(warm.one);
            (warm.fetch, event, warm.one.to_owned(), String::new(), "")
        }
        Operation::FetchEight => {
            let event = fetch(warm.eight);
            (warm.fetch, event, warm.eight.to_owned(), String::new(), "")
        }
        // Timed beside a new backup's storage calls, under a client of its own.
        Operation::ClientSharePut => {
            let user = unique("app-new");
            let event = client_event("PUT", &user, warm.cipher_text);
            let text = warm.cipher_text.to_owned();
            (warm.client_shares, event, user, text, "")
        }
        // Timed beside one share's fetch.
        Operation::ClientShareGet => {
            let event = client_event("GET", warm.app_user, "");
            (
                warm.client_shares,
                event,
                warm.one.to_owned(),
                String::new(),
                "",
            )
        }
    }
}
