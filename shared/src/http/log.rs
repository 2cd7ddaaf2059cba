//! One log line per request, on every route, and its metrics with it (`metrics::record`). Holds
//! only what is safe to log: never a body, a share or a secret.

use super::error::Rejection;
use super::metrics::{self, Outcome, Route};
use crate::domain::StoreError;
use crate::secret::SecretSlot;
use lambda_http::http::header::HeaderValue;
use lambda_http::{Body, Response};
use std::time::Instant;

/// What a request said its body was. Portal's current docs promise no `Content-Type`, so none
/// and an odd one are only logged and counted, never refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentType {
    Json,
    None,
    /// Anything but JSON, or several values.
    Other,
}

/// The fields of the line, filled in as the request is understood. `-` where not known.
pub struct RequestLog {
    route: Route,
    started: Instant,
    /// Set only once validated: a rejected one may hold anything.
    pub client_id: Option<String>,
    pub backup_method: Option<String>,
    pub backup_share_pair_id: Option<String>,
    pub secret_slot: Option<SecretSlot>,
    pub content_type: ContentType,
    /// Why an invalid optional `backupSharePairId` was dropped (the share was still stored).
    pub dropped_pair_id: Option<&'static str>,
    /// The body's `backupSharePairId` differs from the share's own (the body's was kept).
    pub pair_id_disagrees: bool,
    /// Eject: the SigV4 caller API Gateway authenticated.
    pub caller: Option<String>,
    /// Eject: `backupMethod:version` of each share returned.
    pub versions: Option<String>,
}

/// How a request ended, as the line reports it.
struct Ending {
    status: u16,
    outcome: &'static str,
    shares: usize,
    unreadable: usize,
    /// Shares left out because their KMS key could not be used.
    unopened: usize,
    /// The storage error behind a failure (an operation and a code, never data).
    cause: Option<String>,
}

impl RequestLog {
    pub fn start(route: Route) -> Self {
        Self {
            route,
            started: Instant::now(),
            client_id: None,
            backup_method: None,
            backup_share_pair_id: None,
            secret_slot: None,
            content_type: ContentType::Json,
            dropped_pair_id: None,
            pair_id_disagrees: false,
            caller: None,
            versions: None,
        }
    }

    /// Every route's answer goes out through here: counted in the metrics, then logged.
    pub fn finish(
        self,
        result: Result<(Outcome<'static>, Response<Body>), Rejection>,
    ) -> Response<Body> {
        let authenticated = self.secret_slot.is_some();
        let latency_ms = self.latency_ms();
        if self.content_type == ContentType::Other {
            metrics::odd_content_type();
        }
        if self.pair_id_disagrees {
            metrics::pair_id_mismatch();
        }
        let (response, ending) = match result {
            Ok((outcome, response)) => {
                metrics::record(self.route, authenticated, &outcome, latency_ms);
                let (unreadable, unopened) = match outcome {
                    Outcome::Fetched {
                        unreadable,
                        unopened,
                        ..
                    } => (unreadable, unopened),
                    _ => (0, 0),
                };
                let ending = Ending {
                    status: response.status().as_u16(),
                    outcome: outcome.code(),
                    shares: outcome.shares(),
                    unreadable,
                    unopened,
                    cause: None,
                };
                (response, ending)
            }
            Err(rejection) => {
                let outcome = Outcome::Rejected(&rejection);
                metrics::record(self.route, authenticated, &outcome, latency_ms);
                let ending = Ending {
                    status: rejection.status().as_u16(),
                    outcome: rejection.code(),
                    shares: 0,
                    unreadable: match rejection.store_error() {
                        Some(StoreError::AllUnreadable(count)) => *count,
                        _ => 0,
                    },
                    unopened: 0,
                    cause: rejection.store_error().map(ToString::to_string),
                };
                (rejection.into_response(), ending)
            }
        };
        self.write(&ending);
        response
    }

    /// Writes the line: ERROR for a 5xx, WARN for a 4xx or a 200 that left something out.
    fn write(self, ending: &Ending) {
        let latency_ms = self.latency_ms();
        let Ending {
            status,
            outcome,
            shares,
            unreadable,
            unopened,
            ..
        } = *ending;
        let or_dash = |text: &Option<String>| text.clone().unwrap_or_else(|| "-".to_owned());
        let route = self.route.as_str();
        let client_id = or_dash(&self.client_id);
        let backup_method = or_dash(&self.backup_method);
        let backup_share_pair_id = or_dash(&self.backup_share_pair_id);
        let pair_id_disagrees = self.pair_id_disagrees;
        let caller = or_dash(&self.caller);
        let versions = or_dash(&self.versions);
        let cause = or_dash(&ending.cause);
        let secret_slot = self.secret_slot.map_or("-", |slot| match slot {
            SecretSlot::Current => "current",
            SecretSlot::Previous => "previous",
        });
        let content_type = match self.content_type {
            ContentType::Json => "json",
            ContentType::None => "none",
            ContentType::Other => "other",
        };
        let dropped_pair_id = self.dropped_pair_id.unwrap_or("-");
        macro_rules! line {
            ($level:ident) => {
                tracing::$level!(
                    route,
                    status,
                    outcome,
                    client_id,
                    backup_method,
                    backup_share_pair_id,
                    pair_id_disagrees,
                    secret_slot,
                    caller,
                    shares,
                    unreadable,
                    unopened,
                    versions,
                    content_type,
                    dropped_pair_id,
                    latency_ms,
                    cause,
                    "request"
                )
            };
        }
        let left_something_out = unreadable > 0
            || unopened > 0
            || self.dropped_pair_id.is_some()
            || self.pair_id_disagrees;
        // One call site a level: each is a copy of the whole line's code.
        if status >= 500 {
            line!(error)
        } else if status >= 400 || left_something_out {
            line!(warn)
        } else {
            line!(info)
        }
    }

    fn latency_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }
}

/// `application/json` or any `+json` type, parameters ignored.
pub fn is_json(content_type: &HeaderValue) -> bool {
    let Ok(value) = content_type.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}
