//! The app's side of Self-Managed Backups, as Portal's SDK plays it against the client-share API:
//! backup (`backupWallet` → `PUT` the cipherText, and only after a 200
//! `storedClientBackupShare(true, method)`), then recovery (list the methods, `GET` the
//! cipherText for `recoverWallet`), and the refusals an app must be able to count on.
//!
//! It stores one test cipherText under a clearly marked method of the token's user, says so in
//! its report, and never prints the token or the cipherText.

use crate::exchange::{Answer, check, describe, exchange, shown};
use crate::{Check, PORTAL_TIMEOUT, Report};
use serde_json::{Value, json};
use std::time::Duration;

pub struct AppOptions {
    /// The client-share API's base URL (the stack's `ClientSharesUrl`, or `make run`'s :9001).
    pub base_url: String,
    /// A token of the app's identity provider for a test user (`make token` locally).
    pub token: String,
    /// The backupMethod the test cipherText is stored under.
    pub method: String,
}

/// The backup share pair the test cipherText is stored for.
const PAIR_ID: &str = "bsp_portal_sim";

/// Runs every app check in order and reports them all.
pub async fn run_app(options: &AppOptions) -> Report {
    let app = App::new(options);
    let cipher_text = realistic_cipher_text();
    let checks = vec![
        app.backup(&cipher_text).await,
        app.recovery(&cipher_text).await,
        app.recovery_by_pair(&cipher_text).await,
        app.without_token().await,
        app.bad_body(&cipher_text).await,
    ];
    Report {
        base_url: options.base_url.clone(),
        client_id: format!("the token's user, method {}", options.method),
        passed: checks.iter().all(|check| check.passed),
        checks,
        test_data: format!(
            "the token's user now holds a test client backup share under backupMethod \"{}\" \
             (replaced ones are kept in history); reuse the same --method on every run.",
            options.method
        ),
    }
}

/// A new cipherText as `backupWallet` returns it: base64 of a few hundred random bytes.
fn realistic_cipher_text() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let text: String = (0..684)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect();
    text + "=="
}

struct App<'a> {
    http: reqwest::Client,
    options: &'a AppOptions,
}

impl<'a> App<'a> {
    fn new(options: &'a AppOptions) -> Self {
        let http = reqwest::Client::builder()
            .timeout(PORTAL_TIMEOUT + Duration::from_secs(5))
            .user_agent("portal-sim-app")
            .build()
            .expect("HTTP client");
        Self { http, options }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        route: &'static str,
        path: &str,
        body: Option<Value>,
        token: bool,
    ) -> Answer {
        let url = format!("{}{path}", self.options.base_url.trim_end_matches('/'));
        let mut request = self
            .http
            .request(method, url)
            .header("accept", "application/json");
        if token {
            request = request.bearer_auth(&self.options.token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        exchange(route, request).await
    }

    fn share_path(&self) -> String {
        format!("/client-backup-shares/{}", self.options.method)
    }

    async fn put(&self, body: Value, token: bool) -> Answer {
        let path = self.share_path();
        self.call(reqwest::Method::PUT, "PUT share", &path, Some(body), token)
            .await
    }

    async fn get(&self, token: bool) -> Answer {
        let path = self.share_path();
        self.call(reqwest::Method::GET, "GET share", &path, None, token)
            .await
    }

    /// `backupWallet` → `PUT`; the app may tell Portal `storedClientBackupShare(true, …)` only
    /// after this 200. The SDK retries a failed store: the same cipherText again is `unchanged`.
    async fn backup(&self, cipher_text: &str) -> Check {
        let body = json!({ "cipherText": cipher_text, "backupSharePairId": PAIR_ID });
        let first = self.put(body.clone(), true).await;
        let again = self.put(body, true).await;
        let verdict =
            result(&first, &["created", "replaced"]).and_then(|()| result(&again, &["unchanged"]));
        check(
            "client-backup",
            verdict,
            "stored (200) before storedClientBackupShare(true); a retry is unchanged".into(),
            [first, again],
        )
    }

    /// Before `recoverWallet`: the list shows the method without any cipherText, and the `GET`
    /// returns the cipherText byte for byte.
    async fn recovery(&self, cipher_text: &str) -> Check {
        let list = self
            .call(
                reqwest::Method::GET,
                "GET list",
                "/client-backup-shares",
                None,
                true,
            )
            .await;
        let fetched = self.get(true).await;
        let verdict = match (list.call.status, &list.body) {
            (Some(200), Ok(body)) if body.to_string().contains(cipher_text) => {
                Err("the list carries a cipherText".to_owned())
            }
            (Some(200), Ok(body)) => {
                let listed = body["clientBackupShares"].as_array().is_some_and(|shares| {
                    shares
                        .iter()
                        .any(|share| share["backupMethod"] == self.options.method.as_str())
                });
                match listed {
                    true => Ok(()),
                    false => Err(format!("the list lacks {}", self.options.method)),
                }
            }
            (status, body) => Err(format!(
                "the list answered {}: {}",
                shown(status),
                describe(body)
            )),
        }
        .and_then(|()| same_cipher_text(&fetched, cipher_text));
        check(
            "client-recovery",
            verdict,
            "listed without a cipherText, and fetched back byte for byte".into(),
            [list, fetched],
        )
    }

    /// Recovery with the user's last completed pair: `GET ?backupSharePairId=` returns that
    /// pair's cipherText, and a pair never stored is a 404, never another pair's cipherText.
    async fn recovery_by_pair(&self, cipher_text: &str) -> Check {
        let of_pair = |pair: &str| format!("{}?backupSharePairId={pair}", self.share_path());
        let get = |path: String| async move {
            self.call(
                reqwest::Method::GET,
                "GET share of a pair",
                &path,
                None,
                true,
            )
            .await
        };
        let stored = get(of_pair(PAIR_ID)).await;
        let never = get(of_pair(&format!("bsp_never_{}", fastrand::u64(..)))).await;
        let verdict = same_cipher_text(&stored, cipher_text).and_then(|()| {
            match (never.call.status, &never.body) {
                (Some(404), Ok(body)) if body.get("cipherText").is_none() => Ok(()),
                (status, _) => Err(format!(
                    "a pair never stored answered {}, not 404",
                    shown(status)
                )),
            }
        });
        check(
            "client-recovery-by-pair",
            verdict,
            "the pair's cipherText by backupSharePairId; a pair never stored is a 404".into(),
            [stored, never],
        )
    }

    /// Without a token: 401 and no cipherText (API Gateway's authorizer, or the function).
    async fn without_token(&self) -> Check {
        let refused = self.get(false).await;
        let verdict = match (refused.call.status, &refused.body) {
            (Some(401), Ok(body)) if body.get("cipherText").is_some() => {
                Err("a cipherText came back without a token".to_owned())
            }
            (Some(401), _) => Ok(()),
            (status, _) => Err(format!("answered {}, not 401", shown(status))),
        };
        check(
            "client-no-token",
            verdict,
            "refused with 401 and no cipherText".into(),
            [refused],
        )
    }

    /// An empty cipherText is refused with 400 and the stored one is still there.
    async fn bad_body(&self, cipher_text: &str) -> Check {
        let refused = self.put(json!({ "cipherText": "" }), true).await;
        let fetched = self.get(true).await;
        let verdict = match refused.call.status {
            Some(400) => same_cipher_text(&fetched, cipher_text),
            status => Err(format!(
                "an empty cipherText answered {}, not 400",
                shown(status)
            )),
        };
        check(
            "client-bad-body",
            verdict,
            "an empty cipherText is refused with 400 and the stored one is kept".into(),
            [refused, fetched],
        )
    }
}

/// A `PUT` answered 200 with one of `results`.
fn result(answer: &Answer, results: &[&str]) -> Result<(), String> {
    match (answer.call.status, &answer.body) {
        (Some(200), Ok(body)) => match body["result"].as_str() {
            Some(result) if results.contains(&result) => Ok(()),
            other => Err(format!(
                "PUT answered result {other:?}, expected one of {results:?}"
            )),
        },
        (status, body) => Err(format!(
            "PUT answered {}: {}",
            shown(status),
            describe(body)
        )),
    }
}

fn same_cipher_text(fetched: &Answer, cipher_text: &str) -> Result<(), String> {
    match (fetched.call.status, &fetched.body) {
        (Some(200), Ok(body)) if body["cipherText"] == cipher_text => Ok(()),
        (Some(200), Ok(_)) => Err("GET returned another cipherText".into()),
        (status, body) => Err(format!(
            "GET answered {}: {}",
            shown(status),
            describe(body)
        )),
    }
}
