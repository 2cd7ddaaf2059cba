//! One HTTP exchange as Portal (or, in the app mode, the app) sees it, and the verdicts the checks
//! draw from answers: never with the secret, a share or a cipherText in a message.

use crate::PORTAL_TIMEOUT;
use crate::report::{Call, Check};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Instant;

/// One HTTP exchange as Portal would see it.
pub struct Answer {
    pub call: Call,
    pub body: Result<Value, String>,
}

impl Answer {
    pub fn status(&self) -> Option<u16> {
        self.call.status
    }
}

/// Sends `request` and times it: one exchange as Portal (or, in the app mode, the app) sees it.
pub async fn exchange(route: &'static str, request: reqwest::RequestBuilder) -> Answer {
    let started = Instant::now();
    let (status, body) = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            let body =
                serde_json::from_str(&text).map_err(|_| format!("not JSON: {} bytes", text.len()));
            (Some(status), body)
        }
        Err(error) => (None, Err(format!("no answer: {}", without_url(&error)))),
    };
    let elapsed = started.elapsed();
    let call = Call {
        route,
        status,
        millis: elapsed.as_secs_f64() * 1000.0,
        too_slow: elapsed > PORTAL_TIMEOUT,
    };
    Answer { call, body }
}

pub fn check<const N: usize>(
    name: &'static str,
    verdict: Result<(), String>,
    confirmed: String,
    answers: [Answer; N],
) -> Check {
    let calls: Vec<Call> = answers.into_iter().map(|answer| answer.call).collect();
    let slow: Vec<String> = calls
        .iter()
        .filter(|c| c.too_slow)
        .map(|c| format!("{} took {:.0} ms", c.route, c.millis))
        .collect();
    let verdict = verdict.and_then(|()| match slow.is_empty() {
        true => Ok(()),
        false => Err(format!("slower than Portal's 10 s: {}", slow.join(", "))),
    });
    let passed = verdict.is_ok();
    Check {
        name,
        passed,
        detail: verdict.err().unwrap_or(confirmed),
        calls,
    }
}

/// Every backup answered 200 with a JSON body.
pub fn stored(answers: &[&Answer]) -> Result<(), String> {
    for answer in answers {
        match (answer.status(), &answer.body) {
            (Some(200), Ok(_)) => {}
            (status, body) => {
                return Err(format!(
                    "/backup answered {}: {}",
                    shown(status),
                    describe(body)
                ));
            }
        }
    }
    Ok(())
}

/// The fetch answered 200 and `backupShares` holds each of `shares` exactly.
pub fn contains(fetch: &Answer, shares: &[String]) -> Result<(), String> {
    let body = match (fetch.status(), &fetch.body) {
        (Some(200), Ok(body)) => body,
        (status, body) => {
            return Err(format!(
                "/backup/fetch answered {}: {}",
                shown(status),
                describe(body)
            ));
        }
    };
    let Some(returned) = body["backupShares"].as_array() else {
        return Err("`backupShares` is not an array".into());
    };
    let returned: BTreeSet<&str> = returned.iter().filter_map(Value::as_str).collect();
    let missing = shares
        .iter()
        .filter(|share| !returned.contains(share.as_str()))
        .count();
    match missing {
        0 => Ok(()),
        n => Err(format!(
            "{n} of {} shares just stored are not returned byte for byte",
            shares.len()
        )),
    }
}

/// A 401 whose body contains none of `secrets`.
pub fn refusal(answer: &Answer, secrets: &[&str]) -> Result<(), String> {
    if answer.status() != Some(401) {
        return Err(format!(
            "{} answered {}, not 401",
            answer.call.route,
            shown(answer.status())
        ));
    }
    let echoed = answer
        .body
        .as_ref()
        .map(|body| body.to_string())
        .unwrap_or_default();
    match secrets.iter().any(|secret| echoed.contains(secret)) {
        true => Err("the refusal echoes a secret or share".into()),
        false => Ok(()),
    }
}

pub fn shown(status: Option<u16>) -> String {
    status.map_or_else(|| "nothing".to_owned(), |status| status.to_string())
}

pub fn describe(body: &Result<Value, String>) -> String {
    match body {
        Ok(body) => body
            .get("error")
            .map_or_else(|| "unexpected body".to_owned(), Value::to_string),
        Err(problem) => problem.clone(),
    }
}

/// reqwest's error text names the URL; keep only the cause.
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    kind.to_owned()
}
