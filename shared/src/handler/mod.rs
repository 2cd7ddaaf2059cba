//! The two webhooks: an HTTP request in, an HTTP response out, with the store injected. The
//! optional eject endpoint, for the customer's own backend, is in [`eject`].
//!
//! Handlers never return `Err` (which API Gateway would turn into a bare 502): every failure
//! becomes a JSON response with the right status. Each request is logged as one line with its
//! outcome, never with its body or headers.

use crate::error::{MAX_BODY_BYTES, Rejection, json};
use crate::portal::{Backup, Fetch, InvalidRequest};
use crate::runtime::BODY_NOT_BASE64;
use crate::secret::{AuthFailure, Authenticator, SecretSlot};
use crate::store::{ClientShares, ShareReader, ShareWriter, StoreError};
use crate::telemetry::{self, Outcome, Route};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;
use std::time::{Duration, Instant};

pub mod eject;

/// The longest storage may take before the answer is 503: inside Portal's 10 s wait and the
/// function's timeout. A write cut off here may still land, which is safe: only a 200 promises.
pub const STORAGE_BUDGET: Duration = Duration::from_secs(6);

/// `POST {base}/backup`: store the custodian backup share Portal sent. Answers 200 only once
/// DynamoDB has acknowledged the write.
pub async fn backup(
    store: &impl ShareWriter,
    authenticator: &Authenticator,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    let mut log = RequestLog::start(Route::Backup);
    let result = async {
        let body = admit(authenticator, &request, &mut log).await?;
        let backup = Backup::from_json(body)?;
        log.client_id = Some(backup.client_id.to_string());
        log.backup_method = Some(backup.backup_method.to_string());
        log.dropped_pair_id = backup.dropped_pair_id.as_ref().map(InvalidRequest::code);
        within_budget(store.put_share(&backup)).await
    }
    .await;
    Ok(log.finish(result.map(|stored| {
        let body = serde_json::json!({ "message": "custodian backup share stored", "result": stored.as_str() });
        (Outcome::Stored(stored), json(StatusCode::OK, &body))
    })))
}

/// `POST {base}/backup/fetch`: every current share of the client, exactly as received, in
/// `backupShares`; the legacy `UNKNOWN` share also in `backupShare` for pre-multi-backup Portal.
pub async fn fetch(
    store: &impl ShareReader,
    authenticator: &Authenticator,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    let mut log = RequestLog::start(Route::Fetch);
    let result = async {
        let body = admit(authenticator, &request, &mut log).await?;
        let fetch = Fetch::from_json(body)?;
        log.client_id = Some(fetch.client_id.to_string());
        let found = within_budget(store.current_shares(&fetch.client_id)).await?;
        // An empty list would read as "no backup"; when every share is unreadable, say so.
        if found.shares.is_empty() && found.unreadable > 0 {
            return Err(StoreError::AllUnreadable(found.unreadable).into());
        }
        Ok(found)
    }
    .await;
    Ok(log.finish(result.map(|found| {
        let ClientShares { shares, unreadable } = found;
        let legacy = shares.iter().find(|current| current.backup_method.is_unknown());
        let mut body = serde_json::json!({
            "backupShares": shares.iter().map(|current| current.share.expose_secret()).collect::<Vec<_>>(),
        });
        if let Some(legacy) = legacy {
            body["backupShare"] = legacy.share.expose_secret().into();
        }
        let fetched = Outcome::Fetched {
            shares: shares.len(),
            unreadable,
        };
        (fetched, json(StatusCode::OK, &body))
    })))
}

async fn within_budget<T>(
    storage: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, Rejection> {
    match tokio::time::timeout(STORAGE_BUDGET, storage).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(Rejection::StorageTimeout),
    }
}

/// The checks both routes share, cheapest and least revealing first: the secret before
/// anything about the request is looked at.
async fn admit<'r>(
    authenticator: &Authenticator,
    request: &'r Request,
    log: &mut RequestLog,
) -> Result<&'r [u8], Rejection> {
    log.secret_slot = Some(
        authenticator
            .verify(request.headers())
            .await
            .map_err(|failure| match failure {
                AuthFailure::NotConfigured => Rejection::SecretNotConfigured,
                AuthFailure::Refused => Rejection::Unauthorized,
                AuthFailure::Unavailable => Rejection::SecretUnavailable,
            })?,
    );
    if request.method() != Method::POST {
        return Err(Rejection::MethodNotAllowed);
    }
    // Parsed as JSON whatever it says: refusing a body Portal sent would lose its share.
    let content_types = request.headers().get_all(header::CONTENT_TYPE);
    log.content_type = match content_types.iter().next() {
        None => ContentType::None,
        Some(_) if content_types.iter().all(is_json) => ContentType::Json,
        Some(_) => ContentType::Other,
    };
    // lambda_http has already decoded a base64 body (`isBase64Encoded`) into bytes; one that was
    // not base64 was dropped and marked by `runtime`.
    if request.headers().contains_key(BODY_NOT_BASE64) {
        return Err(Rejection::BodyNotBase64);
    }
    let body: &[u8] = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(Rejection::PayloadTooLarge);
    }
    Ok(body)
}

/// What a request said its body was. Portal's current docs promise no `Content-Type`, so none
/// and an odd one are only logged and counted, never refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ContentType {
    Json,
    None,
    /// Anything but JSON, or several values.
    Other,
}

/// `application/json` or any `+json` type, parameters ignored.
fn is_json(content_type: &header::HeaderValue) -> bool {
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

/// One log line and one set of metrics per request. Holds only what is safe to log: never a
/// body, share or secret.
struct RequestLog {
    route: Route,
    started: Instant,
    client_id: Option<String>,
    backup_method: Option<String>,
    secret_slot: Option<SecretSlot>,
    content_type: ContentType,
    /// Why an invalid optional `backupSharePairId` was dropped (the share was still stored).
    dropped_pair_id: Option<&'static str>,
}

impl RequestLog {
    fn start(route: Route) -> Self {
        Self {
            route,
            started: Instant::now(),
            client_id: None,
            backup_method: None,
            secret_slot: None,
            content_type: ContentType::Json,
            dropped_pair_id: None,
        }
    }

    fn finish(
        self,
        result: Result<(Outcome<'static>, Response<Body>), Rejection>,
    ) -> Response<Body> {
        let latency_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let authenticated = self.secret_slot.is_some();
        if self.content_type == ContentType::Other {
            telemetry::odd_content_type();
        }
        let (outcome, shares, unreadable, response, cause) = match result {
            Ok((outcome, response)) => {
                telemetry::record(self.route, authenticated, &outcome, latency_ms);
                let (shares, unreadable) = match outcome {
                    Outcome::Fetched { shares, unreadable } => (shares, unreadable),
                    _ => (0, 0),
                };
                (outcome.code(), shares, unreadable, response, None)
            }
            Err(rejection) => {
                let outcome = Outcome::Rejected(&rejection);
                telemetry::record(self.route, authenticated, &outcome, latency_ms);
                let cause = rejection.store_error().map(ToString::to_string);
                let unreadable = match rejection.store_error() {
                    Some(StoreError::AllUnreadable(count)) => *count,
                    _ => 0,
                };
                (
                    rejection.code(),
                    0,
                    unreadable,
                    rejection.into_response(),
                    cause,
                )
            }
        };
        let content_type = match self.content_type {
            ContentType::Json => "json",
            ContentType::None => "none",
            ContentType::Other => "other",
        };
        let dropped_pair_id = self.dropped_pair_id.unwrap_or("-");
        let status = response.status().as_u16();
        let route = self.route.as_str();
        let client_id = self.client_id.as_deref().unwrap_or("-");
        let backup_method = self.backup_method.as_deref().unwrap_or("-");
        let secret_slot = self.secret_slot.map_or("-", |slot| match slot {
            SecretSlot::Current => "current",
            SecretSlot::Previous => "previous",
        });
        let cause = cause.as_deref().unwrap_or("-");
        macro_rules! line {
            ($level:ident) => {
                tracing::$level!(
                    route,
                    status,
                    outcome,
                    client_id,
                    backup_method,
                    secret_slot,
                    shares,
                    unreadable,
                    content_type,
                    dropped_pair_id,
                    latency_ms,
                    cause,
                    "request"
                )
            };
        }
        match status {
            500.. => line!(error),
            400..=499 => line!(warn),
            _ if unreadable > 0 || self.dropped_pair_id.is_some() => line!(warn),
            _ => line!(info),
        }
        response
    }
}

#[cfg(test)]
mod tests;
