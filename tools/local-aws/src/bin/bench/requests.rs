//! The requests the bench sends, built from the `events/` shapes, and how their answers read.

use crate::{METHODS, WARMUP};
use local_aws::events::{client_share_event, rest_event, set_header};
use local_aws::runtime_api::Function;
use local_aws::unique;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// An 8 KB share like Portal's (a stringified JSON object), different for each `n`, of one backup
/// share pair per client: a new client's share fills a new pair's slot, as almost every backup
/// does, and a client's next one replaces it.
pub fn share(client: &str, n: usize) -> String {
    let filler = "ab01".repeat(2000);
    json!({ "clientId": client, "backupSharePairId": "bsp_bench", "n": n, "share": filler })
        .to_string()
}

/// A `/backup` body, or a `/backup/fetch` one when `share` is empty.
pub fn body(client: &str, method: &str, share: &str) -> String {
    if share.is_empty() {
        json!({ "clientId": client }).to_string()
    } else {
        json!({ "clientId": client, "backupMethod": method, "share": share }).to_string()
    }
}

/// A webhook request for `route` with a body, as API Gateway passes it.
pub fn webhook(route: &str, body: &str) -> String {
    rest_event(route, body).to_string()
}

/// A client-share `PUT` or `GET` of `user`'s share.
pub fn client_event(method: &str, user: &str, cipher_text: &str) -> String {
    let body = json!({ "cipherText": cipher_text }).to_string();
    let body = (method == "PUT").then_some(body.as_str());
    client_share_event(method, Some(user), METHODS[0], body).to_string()
}

/// A webhook request for `route` with a wrong `X-Webhook-Secret`.
pub fn wrong_secret(route: &str) -> String {
    let client = unique("refused");
    let mut event = rest_event(route, &body(&client, METHODS[0], &share(&client, 0)));
    set_header(&mut event, "X-Webhook-Secret", &["not-the-secret"]);
    event.to_string()
}

/// The answer's HTTP status (0 if the invocation failed).
pub fn status(answer: &Result<Value, Value>) -> u64 {
    answer
        .as_ref()
        .ok()
        .and_then(|a| a["statusCode"].as_u64())
        .unwrap_or(0)
}

/// `count` invocations of `event`, each answering `expected`; the latencies after the warm-up.
pub async fn refusals(
    function: &Function,
    event: &str,
    count: usize,
    expected: u64,
) -> Vec<Duration> {
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
