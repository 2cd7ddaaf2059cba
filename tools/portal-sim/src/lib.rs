//! A Portal simulator: calls `{base}/backup` and `{base}/backup/fetch` exactly as Portal does and
//! checks every answer against the contract, so a deployment can be verified before a real
//! wallet backup depends on it. Its [`app`] mode plays the app's side against the client-share
//! API instead.
//!
//! It stores test shares under one clearly marked test `clientId` and says so in its report.
//! It never prints the secret.

pub mod app;
pub mod share;

use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Portal gives up on a webhook after this long.
pub const PORTAL_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Options {
    /// The webhook base URL registered in Portal, e.g. `https://…/v1`.
    pub base_url: String,
    pub secret: String,
    pub client_id: String,
    /// The method part of `backupMethod`; the curve is appended as Portal does.
    pub method: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub base_url: String,
    pub client_id: String,
    pub passed: bool,
    pub checks: Vec<Check>,
    /// What the run left behind, and how to find it.
    pub test_data: String,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    /// What went wrong, or what was confirmed.
    pub detail: String,
    pub calls: Vec<Call>,
}

#[derive(Debug, Serialize)]
pub struct Call {
    pub route: &'static str,
    pub status: Option<u16>,
    pub millis: f64,
    /// Took longer than Portal waits.
    pub too_slow: bool,
}

/// Runs every check in order and reports them all; a failed check does not stop the next.
pub async fn run(options: &Options) -> Report {
    let portal = Portal::new(options);
    let checks = vec![
        portal.multi_backup().await,
        portal.repeated_backup().await,
        portal.legacy_backup().await,
        portal.failed_rebackup().await,
        portal.wrong_secret().await,
        portal.missing_secret().await,
    ];
    Report {
        base_url: options.base_url.clone(),
        client_id: options.client_id.clone(),
        passed: checks.iter().all(|check| check.passed),
        checks,
        test_data: format!(
            "clientId \"{}\" now holds test shares (its methods and UNKNOWN); replaced ones are \
             in the history table. The receiver never deletes shares, so remove these items by \
             hand if you must, or reuse the same --client-id on every run.",
            options.client_id
        ),
    }
}

struct Portal<'a> {
    http: reqwest::Client,
    options: &'a Options,
}

/// One HTTP exchange as Portal would see it.
struct Answer {
    call: Call,
    body: Result<Value, String>,
}

impl Answer {
    fn status(&self) -> Option<u16> {
        self.call.status
    }
}

impl<'a> Portal<'a> {
    fn new(options: &'a Options) -> Self {
        let http = reqwest::Client::builder()
            // Longer than Portal waits, so a slow answer is measured and flagged, not just lost.
            .timeout(PORTAL_TIMEOUT + Duration::from_secs(5))
            .user_agent("portal-sim")
            .build()
            .expect("HTTP client");
        Self { http, options }
    }

    async fn post(&self, route: &'static str, body: &Value, secret: Option<&str>) -> Answer {
        let url = format!("{}{route}", self.options.base_url.trim_end_matches('/'));
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body.to_string());
        if let Some(secret) = secret {
            request = request.header("x-webhook-secret", secret);
        }
        exchange(route, request).await
    }

    async fn backup(&self, backup_method: Option<&str>, share: &str) -> Answer {
        self.backup_of_pair(backup_method, share, None).await
    }

    /// A backup whose body names its backup share pair, as Portal's SDK sends it.
    async fn backup_of_pair(
        &self,
        backup_method: Option<&str>,
        share: &str,
        pair_id: Option<&str>,
    ) -> Answer {
        let mut body = json!({ "clientId": self.options.client_id, "share": share });
        if let Some(method) = backup_method {
            body["backupMethod"] = method.into();
        }
        if let Some(pair_id) = pair_id {
            body["backupSharePairId"] = pair_id.into();
        }
        self.post("/backup", &body, Some(&self.options.secret))
            .await
    }

    async fn fetch(&self) -> Answer {
        self.post(
            "/backup/fetch",
            &json!({ "clientId": self.options.client_id }),
            Some(&self.options.secret),
        )
        .await
    }

    /// Portal's backup: one `/backup` per curve, sent together, then an immediate fetch that must
    /// return both shares byte for byte.
    async fn multi_backup(&self) -> Check {
        let methods =
            ["SECP256K1", "ED25519"].map(|curve| format!("{}-{curve}", self.options.method));
        let shares =
            ["SECP256K1", "ED25519"].map(|curve| share::realistic(&self.options.client_id, curve));
        let (first, second) = tokio::join!(
            self.backup(Some(&methods[0]), &shares[0]),
            self.backup(Some(&methods[1]), &shares[1])
        );
        let fetch = self.fetch().await;
        let verdict = stored(&[&first, &second]).and_then(|()| contains(&fetch, &shares));
        check(
            "multi-backup",
            verdict,
            format!(
                "{} and {} stored and fetched back byte for byte",
                methods[0], methods[1]
            ),
            [first, second, fetch],
        )
    }

    /// A retried backup of the same share must succeed again and change nothing.
    async fn repeated_backup(&self) -> Check {
        let method = format!("{}-SECP256K1", self.options.method);
        let share = share::realistic(&self.options.client_id, "SECP256K1");
        let first = self.backup(Some(&method), &share).await;
        let again = self.backup(Some(&method), &share).await;
        let fetch = self.fetch().await;
        let verdict =
            stored(&[&first, &again]).and_then(|()| contains(&fetch, std::slice::from_ref(&share)));
        check(
            "repeated-backup",
            verdict,
            "a retried identical backup is accepted and the share is unchanged".into(),
            [first, again, fetch],
        )
    }

    /// Pre-multi-backup Portal: no `backupMethod`, and the fetch answer read as `backupShare`.
    async fn legacy_backup(&self) -> Check {
        let share = share::realistic(&self.options.client_id, "SECP256K1");
        let backup = self.backup(None, &share).await;
        let fetch = self.fetch().await;
        let verdict = stored(&[&backup])
            .and_then(|()| contains(&fetch, std::slice::from_ref(&share)))
            .and_then(|()| {
                match fetch
                    .body
                    .as_ref()
                    .ok()
                    .and_then(|body| body["backupShare"].as_str())
                {
                    Some(legacy) if legacy == share => Ok(()),
                    Some(_) => Err("`backupShare` is not the legacy share just sent".into()),
                    None => Err("`backupShare` missing from the fetch answer".into()),
                }
            });
        check(
            "legacy-backup",
            verdict,
            "a backup without backupMethod is returned as backupShare".into(),
            [backup, fetch],
        )
    }

    /// A re-backup whose client step fails: pair A completed, then pair B's custodian half
    /// arrived but the app never stored B's cipherText, so A is still the user's last completed
    /// pair. Recovery needs A's custodian share: the fetch must still return it, beside B's.
    async fn failed_rebackup(&self) -> Check {
        let method = format!("{}-SECP256K1", self.options.method);
        let [a, b] = ["SECP256K1"; 2].map(|curve| share::realistic(&self.options.client_id, curve));
        let pair_of = |share: &str| {
            let share: Value = serde_json::from_str(share).expect("a realistic share is JSON");
            share["backupSharePairId"].as_str().map(str::to_owned)
        };
        // A's pair id in the body too; B's only inside its share, as older SDKs send it.
        let first = self
            .backup_of_pair(Some(&method), &a, pair_of(&a).as_deref())
            .await;
        let second = self.backup(Some(&method), &b).await;
        let fetch = self.fetch().await;
        let verdict = stored(&[&first, &second]).and_then(|()| contains(&fetch, &[a, b]));
        check(
            "failed-rebackup",
            verdict,
            "after a re-backup whose client step failed, the earlier pair's custodian share is still fetched for recovery, beside the new one".into(),
            [first, second, fetch],
        )
    }

    /// A wrong secret must be refused, store nothing, and echo neither the secret nor the share.
    async fn wrong_secret(&self) -> Check {
        let wrong = format!("portal-sim-wrong-secret-{}", fastrand::u64(..));
        let canary = format!("portal-sim-canary-share-{}", fastrand::u64(..));
        let body = json!({ "clientId": self.options.client_id, "backupMethod": "PORTAL-SIM-CANARY", "share": canary });
        let refused = self.post("/backup", &body, Some(&wrong)).await;
        let fetch = self.fetch().await;
        let verdict = refusal(&refused, &[&wrong, &canary]).and_then(|()| match &fetch.body {
            Ok(body) if body.to_string().contains(&canary) => {
                Err("a share sent with a wrong secret was stored".into())
            }
            Ok(_) if fetch.status() == Some(200) => Ok(()),
            _ => Err(format!("/backup/fetch answered {}", shown(fetch.status()))),
        });
        check(
            "wrong-secret",
            verdict,
            "refused with 401, nothing stored, nothing echoed".into(),
            [refused, fetch],
        )
    }

    /// Without the header, even a fetch is refused and returns no share.
    async fn missing_secret(&self) -> Check {
        let refused = self
            .post(
                "/backup/fetch",
                &json!({ "clientId": self.options.client_id }),
                None,
            )
            .await;
        let verdict =
            refusal(&refused, &[&self.options.secret]).and_then(|()| match &refused.body {
                Ok(body) if body.get("backupShares").is_some() => {
                    Err("shares returned without a secret".into())
                }
                _ => Ok(()),
            });
        check(
            "missing-secret",
            verdict,
            "refused with 401 and no shares".into(),
            [refused],
        )
    }
}

/// Sends `request` and times it: one exchange as Portal (or, in the app mode, the app) sees it.
async fn exchange(route: &'static str, request: reqwest::RequestBuilder) -> Answer {
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

fn check<const N: usize>(
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
fn stored(answers: &[&Answer]) -> Result<(), String> {
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
fn contains(fetch: &Answer, shares: &[String]) -> Result<(), String> {
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
fn refusal(answer: &Answer, secrets: &[&str]) -> Result<(), String> {
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

fn shown(status: Option<u16>) -> String {
    status.map_or_else(|| "nothing".to_owned(), |status| status.to_string())
}

fn describe(body: &Result<Value, String>) -> String {
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

impl Report {
    /// The human-readable report.
    pub fn render(&self) -> String {
        let mut out = format!(
            "Portal simulator against {}\n  test clientId: {}\n\n",
            self.base_url, self.client_id
        );
        for check in &self.checks {
            let timings: Vec<String> = check
                .calls
                .iter()
                .map(|c| {
                    format!(
                        "{} {} {:.0} ms",
                        c.route,
                        c.status.map_or("-".into(), |s| s.to_string()),
                        c.millis
                    )
                })
                .collect();
            out += &format!(
                "  {}  {:<16} {}\n        {}\n",
                if check.passed { "PASS" } else { "FAIL" },
                check.name,
                check.detail,
                timings.join(" · ")
            );
        }
        let passed = self.checks.iter().filter(|c| c.passed).count();
        out += &format!(
            "\n{}: {passed} of {} checks passed\n",
            if self.passed { "PASS" } else { "FAIL" },
            self.checks.len()
        );
        out += &format!("\nTest data: {}\n", self.test_data);
        out
    }
}
