//! The webhook secret kept in AWS Secrets Manager.
//!
//! Both `AWSCURRENT` and `AWSPREVIOUS` are accepted, so rotating the secret (a new value becomes
//! `AWSCURRENT`, the old one `AWSPREVIOUS`) never locks Portal out. The values are cached across
//! invocations and re-read when older than [`MAX_AGE`]; values that could not be re-read for
//! [`HARD_EXPIRY`] are dropped, so a revoked or retired secret stops working even while Secrets
//! Manager is unreachable (503 until it answers).
//!
//! A presented secret that matches neither may be one rotated in since the last read, so it may
//! cause one re-read, at most one per [`MIN_REFRESH_INTERVAL`]; every other refusal answers at
//! once. No refused request ever waits for a turn: Lambda gives an environment one request at a
//! time, so a stream of wrong secrets would otherwise hold every environment Portal needs. A
//! missing, empty or repeated header, or a value no dashboard field holds, never costs a read at
//! all. Portal's first call with a newly rotated secret still finds it: the new value is put in
//! Secrets Manager before it is entered in Portal's dashboard, and any read since then holds it.

use super::{AuthFailure, SecretSlot, WebhookSecrets, could_be_rotated_in, presented};
use crate::aws::error_detail;
use crate::budget;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use lambda_http::http::HeaderMap;
use secrecy::SecretString;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long fetched values are trusted: also how long a retired `AWSPREVIOUS` stays accepted.
pub const MAX_AGE: Duration = Duration::from_secs(5 * 60);
/// How long values are used without a successful re-read before they are dropped.
pub const HARD_EXPIRY: Duration = Duration::from_secs(15 * 60);
/// The least time between two reads of Secrets Manager caused by a secret that matched nothing
/// ([`budget::SECRET_REREAD_INTERVAL`]).
pub const MIN_REFRESH_INTERVAL: Duration = budget::SECRET_REREAD_INTERVAL;
/// The least time between two attempts to refresh stale values while Secrets Manager fails, so
/// that during an outage (each failed read can take the whole read budget) few requests wait.
pub const STALE_RETRY_INTERVAL: Duration = Duration::from_secs(10);
/// The longest a read may hold up a request (or init) ([`budget::SECRET_READ`]).
pub const READ_BUDGET: Duration = budget::SECRET_READ;

const CURRENT: &str = "AWSCURRENT";
const PREVIOUS: &str = "AWSPREVIOUS";

pub struct ManagedSecret {
    client: Client,
    secret_id: String,
    timing: Timing,
    cache: Mutex<Cache>,
}

/// The cache's clock: [`MAX_AGE`], [`HARD_EXPIRY`], [`MIN_REFRESH_INTERVAL`] and
/// [`STALE_RETRY_INTERVAL`] in production, shorter in tests.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub max_age: Duration,
    pub hard_expiry: Duration,
    pub min_refresh_interval: Duration,
    pub stale_retry_interval: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            max_age: MAX_AGE,
            hard_expiry: HARD_EXPIRY,
            min_refresh_interval: MIN_REFRESH_INTERVAL,
            stale_retry_interval: STALE_RETRY_INTERVAL,
        }
    }
}

#[derive(Default)]
struct Cache {
    secrets: Option<WebhookSecrets>,
    fetched_at: Option<Instant>,
    /// When the last read started, successful or not, for any reason.
    attempted_at: Option<Instant>,
}

impl Cache {
    /// Drops values that have not been re-read successfully for `hard_expiry`.
    fn expire(&mut self, hard_expiry: Duration, now: Instant) {
        if self
            .fetched_at
            .is_some_and(|fetched| now.duration_since(fetched) >= hard_expiry)
        {
            self.secrets = None;
        }
    }

    fn verify(&self, headers: &HeaderMap) -> Result<SecretSlot, AuthFailure> {
        match &self.secrets {
            Some(secrets) => secrets.verify(headers),
            None => Err(AuthFailure::Unavailable),
        }
    }
}

/// Why Secrets Manager could not be read. Holds an error code, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("Secrets Manager GetSecretValue ({stage}) failed: {detail}")]
    Unavailable { stage: &'static str, detail: String },
    #[error("the secret's {0} version holds no text (binary secrets are not supported)")]
    NotText(&'static str),
}

impl ManagedSecret {
    /// `secret_id` is the secret's ARN or name.
    pub fn new(client: Client, secret_id: String) -> Self {
        Self::with_timing(client, secret_id, Timing::default())
    }

    /// [`ManagedSecret::new`] with other cache timings, for tests.
    pub fn with_timing(client: Client, secret_id: String, timing: Timing) -> Self {
        Self {
            client,
            secret_id,
            timing,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// Reads the secret now (at init, before the first request waits for it).
    pub async fn load(&self) -> Result<(), SecretError> {
        let mut cache = self.cache.lock().await;
        self.refresh(&mut cache).await
    }

    pub async fn verify(&self, headers: &HeaderMap) -> Result<SecretSlot, AuthFailure> {
        // Refused before the lock: nothing held or read could make such a header match.
        let presented = presented(headers).ok_or(AuthFailure::Refused)?;
        let arrived = Instant::now();
        let mut cache = self.cache.lock().await;
        // No dashboard field holds it: compared with what is held, never worth a read.
        if !could_be_rotated_in(presented) {
            cache.expire(self.timing.hard_expiry, arrived);
            return cache.verify(headers).map_err(|_| AuthFailure::Refused);
        }
        let stale = cache
            .fetched_at
            .is_none_or(|fetched| arrived.duration_since(fetched) >= self.timing.max_age);
        let retry_due = cache
            .attempted_at
            .is_none_or(|last| arrived.duration_since(last) >= self.timing.stale_retry_interval);
        if stale && retry_due {
            // A failed read keeps the values already held (until the hard expiry): Secrets
            // Manager being briefly unreachable must not lock Portal out.
            let _ = self.refresh(&mut cache).await;
        }
        cache.expire(self.timing.hard_expiry, Instant::now());
        match cache.verify(headers) {
            Err(AuthFailure::Refused | AuthFailure::Unavailable)
                if self.reread_due(&cache, arrived) =>
            {
                let _ = self.refresh(&mut cache).await;
                cache.expire(self.timing.hard_expiry, Instant::now());
                cache.verify(headers)
            }
            verified => verified,
        }
    }

    /// A value that matched nothing is re-read for when no read began since it arrived and the
    /// last began at least [`Timing::min_refresh_interval`] before.
    fn reread_due(&self, cache: &Cache, arrived: Instant) -> bool {
        cache.attempted_at.is_none_or(|last| {
            last < arrived && arrived.duration_since(last) >= self.timing.min_refresh_interval
        })
    }

    async fn refresh(&self, cache: &mut Cache) -> Result<(), SecretError> {
        cache.attempted_at = Some(Instant::now());
        let both = async {
            let (current, previous) = tokio::join!(self.read(CURRENT), self.read(PREVIOUS));
            current.and_then(|current| Ok((current, previous?)))
        };
        let result = tokio::time::timeout(READ_BUDGET, both)
            .await
            .unwrap_or_else(|_| {
                Err(SecretError::Unavailable {
                    stage: CURRENT,
                    detail: "no answer within the read budget".into(),
                })
            });
        match result {
            Ok((current, previous)) => {
                cache.secrets = Some(WebhookSecrets::new(current, previous));
                cache.fetched_at = cache.attempted_at;
                Ok(())
            }
            Err(error) => {
                tracing::error!(cause = %error, "could not read the webhook secret");
                Err(error)
            }
        }
    }

    /// One staging label's value; `None` when no version carries it (no rotation yet).
    async fn read(&self, stage: &'static str) -> Result<Option<SecretString>, SecretError> {
        let result = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .version_stage(stage)
            .send()
            .await;
        match result {
            Ok(output) => match output.secret_string {
                Some(text) => Ok(Some(SecretString::from(text))),
                None => Err(SecretError::NotText(stage)),
            },
            Err(error)
                if stage == PREVIOUS
                    && matches!(
                        error.as_service_error(),
                        Some(GetSecretValueError::ResourceNotFoundException(_))
                    ) =>
            {
                Ok(None)
            }
            Err(error) => Err(SecretError::Unavailable {
                stage,
                detail: error_detail(&error),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    /// A server that accepts connections and never answers: a hung dependency.
    async fn black_hole() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        format!("http://{address}")
    }

    #[tokio::test]
    async fn a_secrets_manager_that_never_answers_holds_a_request_up_for_the_read_budget_only() {
        let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region("us-east-1")
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "local", "local", None, None, "tests",
            ));
        let sdk = crate::aws::sdk_config(loader).await;
        let client = Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(&sdk)
                .endpoint_url(black_hole().await)
                .build(),
        );
        let secret = ManagedSecret::new(client, "webhook-secret".into());
        let started = Instant::now();
        assert!(secret.load().await.is_err());
        assert!(started.elapsed() < READ_BUDGET + Duration::from_millis(500));

        let mut headers = HeaderMap::new();
        headers.insert("x-webhook-secret", HeaderValue::from_static("anything"));
        let started = Instant::now();
        assert!(matches!(
            secret.verify(&headers).await,
            Err(AuthFailure::Unavailable)
        ));
        let took = started.elapsed();
        assert!(
            took < READ_BUDGET + Duration::from_millis(500),
            "a request waited {took:?}"
        );
    }
}
