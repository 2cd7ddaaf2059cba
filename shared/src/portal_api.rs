//! Portal's Custodian API, as `reconcile` reads it: the paged list of clients with their wallets'
//! backup share pairs (`GET /api/v3/custodians/me/clients?cursor=&take=`), bearer the Portal API
//! key, which is never logged or printed.
//!
//! Paced to Portal's published limit for the Custodian API (200 requests a minute, its "Rate
//! Limits" page), and a 429, a 5xx or a failed connection is retried a bounded number of times,
//! each retry logged; what still fails is an error, never an empty page.

use crate::domain::reconcile::ClientsPage;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The Custodian API's documented maximum page size.
pub const MAX_TAKE: u32 = 100;
/// At most 200 requests a minute.
const PACE: Duration = Duration::from_millis(300);
const ATTEMPTS: u32 = 6;
/// Longest wait before a retry, whatever `Retry-After` asks.
const MAX_WAIT: Duration = Duration::from_secs(60);

pub struct PortalApi {
    http: reqwest::Client,
    base: String,
    key: SecretString,
    pace: Duration,
    backoff: Duration,
    last_request: Mutex<Option<Instant>>,
}

#[derive(Debug, thiserror::Error)]
pub enum PortalApiError {
    #[error("Portal refused the API key (401): check PORTAL_API_KEY or --api-key-secret")]
    Unauthorized,
    #[error("Portal answered {status} to {attempts} attempts at {page}")]
    Failed {
        status: u16,
        attempts: u32,
        page: String,
    },
    #[error("Portal did not answer {attempts} attempts at {page}: {cause}")]
    Unreachable {
        attempts: u32,
        page: String,
        cause: String,
    },
    #[error("Portal's answer to {page} is not the documented shape: {cause}")]
    Malformed { page: String, cause: String },
}

impl PortalApi {
    /// `base` is Portal's API origin (`https://api.portalhq.io`).
    pub fn new(base: &str, key: SecretString) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .user_agent(concat!(
                    "custodian-backup-reconcile/",
                    env!("CARGO_PKG_VERSION")
                ))
                .build()
                .expect("a TLS client"),
            base: base.trim_end_matches('/').to_owned(),
            key,
            pace: PACE,
            backoff: Duration::from_millis(500),
            last_request: Mutex::new(None),
        }
    }

    /// This client with other pacing and first backoff (tests against the stand-in).
    pub fn timed(self, pace: Duration, backoff: Duration) -> Self {
        Self {
            pace,
            backoff,
            ..self
        }
    }

    /// One page of clients, from `cursor` (the first page without).
    pub async fn clients_page(
        &self,
        cursor: Option<&str>,
        take: u32,
    ) -> Result<ClientsPage, PortalApiError> {
        let page = format!("the page after {}", cursor.unwrap_or("the start"));
        let mut query = vec![("take", take.min(MAX_TAKE).to_string())];
        query.extend(cursor.map(|cursor| ("cursor", cursor.to_owned())));
        let url = format!("{}/api/v3/custodians/me/clients", self.base);
        let mut last_status = None;
        let mut last_cause = String::new();
        for attempt in 1..=ATTEMPTS {
            self.wait_turn().await;
            let sent = self
                .http
                .get(&url)
                .query(&query)
                .bearer_auth(self.key.expose_secret())
                .header("accept", "application/json")
                .send()
                .await;
            let wait =
                match sent {
                    Ok(response) if response.status().is_success() => {
                        let body = response.bytes().await.map_err(|error| {
                            PortalApiError::Unreachable {
                                attempts: attempt,
                                page: page.clone(),
                                cause: error.without_url().to_string(),
                            }
                        })?;
                        return serde_json::from_slice(&body).map_err(|error| {
                            PortalApiError::Malformed {
                                page,
                                cause: error.to_string(),
                            }
                        });
                    }
                    Ok(response) if response.status() == reqwest::StatusCode::UNAUTHORIZED => {
                        return Err(PortalApiError::Unauthorized);
                    }
                    Ok(response) => {
                        let status = response.status();
                        last_status = Some(status.as_u16());
                        let retryable = status == reqwest::StatusCode::TOO_MANY_REQUESTS
                            || status.is_server_error();
                        if !retryable {
                            break;
                        }
                        retry_after(&response).unwrap_or(self.backoff * 2u32.pow(attempt - 1))
                    }
                    Err(error) => {
                        last_status = None;
                        last_cause = error.without_url().to_string();
                        self.backoff * 2u32.pow(attempt - 1)
                    }
                };
            if attempt < ATTEMPTS {
                let wait = wait.min(MAX_WAIT);
                tracing::warn!(attempt, status = ?last_status, wait_ms = wait.as_millis() as u64, "Portal's Custodian API did not answer a page; retrying");
                tokio::time::sleep(wait).await;
            }
        }
        Err(match last_status {
            Some(status) => PortalApiError::Failed {
                status,
                attempts: ATTEMPTS,
                page,
            },
            None => PortalApiError::Unreachable {
                attempts: ATTEMPTS,
                page,
                cause: last_cause,
            },
        })
    }

    /// Keeps requests `pace` apart.
    async fn wait_turn(&self) {
        let mut last = self.last_request.lock().await;
        if let Some(last) = *last {
            tokio::time::sleep_until(last + self.pace).await;
        }
        *last = Some(Instant::now());
    }
}

/// A `Retry-After` in seconds, as a rate limiter sends it.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let seconds = response.headers().get("retry-after")?.to_str().ok()?;
    seconds.trim().parse().ok().map(Duration::from_secs)
}
