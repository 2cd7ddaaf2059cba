//! The webhook checks, each a sequence of calls exactly as Portal makes them.

use crate::exchange::{Answer, check, contains, exchange, refusal, shown, stored};
use crate::{Check, Options, PORTAL_TIMEOUT, share};
use serde_json::{Value, json};
use std::time::Duration;

pub struct Portal<'a> {
    http: reqwest::Client,
    options: &'a Options,
}

impl<'a> Portal<'a> {
    pub fn new(options: &'a Options) -> Self {
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
    pub async fn multi_backup(&self) -> Check {
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
    pub async fn repeated_backup(&self) -> Check {
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
    pub async fn legacy_backup(&self) -> Check {
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
    pub async fn failed_rebackup(&self) -> Check {
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
    pub async fn wrong_secret(&self) -> Check {
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
    pub async fn missing_secret(&self) -> Check {
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
