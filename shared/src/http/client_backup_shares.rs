//! The client-share API, the other half of Self-Managed Backups: the app stores and fetches its
//! encrypted client backup share (the `cipherText` of `portal.backupWallet()`, one per backup
//! method).
//!
//! - `PUT /client-backup-shares/{backupMethod}` `{"cipherText", "backupSharePairId"?}` stores it;
//! - `GET /client-backup-shares/{backupMethod}?backupSharePairId=…` returns that pair's, byte for
//!   byte, or 404 (never another pair's); without the pair id, the newest of the method (or the
//!   legacy `UNKNOWN` one when there is none for the method);
//! - `GET /client-backup-shares` lists every method and pair stored, never a cipherText.
//!
//! Each pair has its own slot (the app stores a new pair's cipherText before Portal marks the
//! pair completed, and that upload may fail), so a new pair never replaces another's.
//!
//! The owner is the verified token's owner claim (`sub` unless configured), which API Gateway's
//! JWT authorizer checked and passes in the request context: never a path or body value, so one
//! user can never name another's share. A request without the claim is refused, in case the
//! route is ever wired without the authorizer.
//!
//! For the Enclave MPC API the customer's *backend* stores them instead, under
//! `/clients/{clientId}/client-backup-shares[/{backupMethod}]` on the REST API with IAM
//! authorization: there the owner is the path's `clientId`, taken only from a SigV4 caller
//! ([`Callers::Backend`]). Which of the two a function serves is fixed when it starts.

pub use callers::Callers;

use super::admit::within_budget;
use super::error::{ErrorBody, MAX_BODY_BYTES, Rejection, json};
use super::log::{Ending, RequestLog};
use super::metrics::{self, Route};
use super::runtime::{BODY_NOT_BASE64, URI_NOT_VALID};
use crate::domain::client_owner::NoOwner;
use crate::domain::client_share::{InvalidClientShare, client_share_from_json};
use crate::domain::{
    BACKUP_SHARE_PAIR_ID, BackupMethod, BackupSharePairId, ClientId, InvalidRequest, Wanted,
};
use crate::store::{ShareLookup, ShareWriter};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Value, json};
use std::convert::Infallible;

#[derive(Debug, thiserror::Error)]
pub(super) enum Refusal {
    #[error("this route needs a verified token naming its owner: {0}")]
    Unauthenticated(NoOwner),
    #[error("this route needs an IAM (SigV4) caller identity, and the request has none")]
    NoCallerIdentity,
    #[error("the method is not allowed on this path")]
    MethodNotAllowed { allow: &'static str },
    #[error("no client backup share is stored for this backupMethod")]
    NotFound,
    #[error("request body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("request body is marked base64-encoded but is not valid base64")]
    BodyNotBase64,
    #[error("the query string is not a valid URI query (percent-encode it)")]
    QueryNotValid,
    #[error(transparent)]
    Invalid(#[from] InvalidClientShare),
    #[error(transparent)]
    Storage(Rejection),
}

impl From<InvalidRequest> for Refusal {
    fn from(invalid: InvalidRequest) -> Self {
        Self::Invalid(invalid.into())
    }
}

/// Answers one request of the app (or, for the Enclave MPC API, of the customer's backend).
pub async fn client_backup_shares(
    store: &(impl ShareWriter + ShareLookup),
    callers: &Callers,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    let mut log = RequestLog::start(Route::ClientBackupShares);
    let method = request
        .path_parameters()
        .first(super::path::BACKUP_METHOD)
        .map(str::to_owned);
    let result = async {
        let (owner, caller) = callers.owner(&request)?;
        log.client_id = Some(owner.to_string());
        log.caller = caller;
        // Dropped by the runtime's guard: answering without it could name another pair's share.
        if request.headers().contains_key(URI_NOT_VALID) {
            return Err(Refusal::QueryNotValid);
        }
        let backup_method = method.as_deref().map(BackupMethod::parse).transpose()?;
        log.backup_method = backup_method.as_ref().map(ToString::to_string);
        match (request.method(), backup_method) {
            (&Method::PUT, Some(backup_method)) => put(store, &request, owner, backup_method).await,
            (&Method::GET, Some(backup_method)) => {
                get(store, &request, &owner, &backup_method).await
            }
            (&Method::GET, None) => list(store, &owner).await,
            (_, Some(_)) => Err(Refusal::MethodNotAllowed { allow: "GET, PUT" }),
            (_, None) => Err(Refusal::MethodNotAllowed { allow: "GET" }),
        }
    }
    .await;
    let (response, outcome, shares, cause) = match result {
        Ok((outcome, shares, body)) => (json(StatusCode::OK, &body), outcome, shares, None),
        Err(refusal) => {
            let cause = match &refusal {
                Refusal::Storage(rejection) => rejection.store_error().map(ToString::to_string),
                _ => None,
            };
            (refusal.response(), refusal.code(), 0, cause)
        }
    };
    let status = response.status().as_u16();
    metrics::client_backup_share(outcome, status, shares);
    log.write(&Ending {
        status,
        outcome,
        shares,
        unreadable: 0,
        unopened: 0,
        cause,
    });
    Ok(response)
}

/// What a request answered: the outcome word, how many cipherTexts it returned, the body.
type Answer = Result<(&'static str, usize, Value), Refusal>;

async fn put(
    store: &impl ShareWriter,
    request: &Request,
    owner: ClientId,
    backup_method: BackupMethod,
) -> Answer {
    if request.headers().contains_key(BODY_NOT_BASE64) {
        return Err(Refusal::BodyNotBase64);
    }
    let body: &[u8] = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(Refusal::PayloadTooLarge);
    }
    let share = client_share_from_json(body, owner, backup_method)?;
    let stored = within_budget(store.put_share(&share))
        .await
        .map_err(Refusal::Storage)?;
    Ok((stored.as_str(), 0, json!({ "result": stored.as_str() })))
}

async fn get(
    store: &impl ShareLookup,
    request: &Request,
    owner: &ClientId,
    backup_method: &BackupMethod,
) -> Answer {
    let sent = request
        .query_string_parameters_ref()
        .and_then(|query| query.all(BACKUP_SHARE_PAIR_ID))
        .unwrap_or_default();
    let pair_id = match sent.as_slice() {
        [] => None,
        [pair_id] => Some(BackupSharePairId::parse(pair_id)?),
        _ => return Err(InvalidRequest::DuplicateField(BACKUP_SHARE_PAIR_ID).into()),
    };
    let wanted = Wanted {
        backup_method,
        backup_share_pair_id: pair_id.as_ref(),
    };
    let found = within_budget(store.find_share(owner, wanted))
        .await
        .map_err(Refusal::Storage)?;
    let (record, share) = found.ok_or(Refusal::NotFound)?;
    let mut body = json!({
        "backupMethod": record.backup_method,
        "cipherText": share.expose_secret(),
        "storedAt": record.stored_at,
    });
    if let Some(pair_id) = record.backup_share_pair_id {
        body["backupSharePairId"] = pair_id.into();
    }
    // A share stored before the app sent a backup method answers for any method, as portalex does.
    if record.backup_method != backup_method.as_str() {
        body["requestedBackupMethod"] = backup_method.as_str().into();
    }
    Ok(("fetched", 1, body))
}

async fn list(store: &impl ShareLookup, owner: &ClientId) -> Answer {
    let records = within_budget(store.current_records(owner))
        .await
        .map_err(Refusal::Storage)?;
    let listed: Vec<Value> = records
        .into_iter()
        .map(|record| {
            let mut entry =
                json!({ "backupMethod": record.backup_method, "storedAt": record.stored_at });
            if let Some(pair_id) = record.backup_share_pair_id {
                entry["backupSharePairId"] = pair_id.into();
            }
            entry
        })
        .collect();
    Ok(("listed", 0, json!({ "clientBackupShares": listed })))
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::NoCallerIdentity => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge | Self::Invalid(InvalidClientShare::CipherTextTooLarge) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::BodyNotBase64
            | Self::QueryNotValid
            | Self::Invalid(InvalidClientShare::Invalid(_)) => StatusCode::BAD_REQUEST,
            Self::Storage(rejection) => rejection.status(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "unauthenticated",
            Self::NoCallerIdentity => "no_caller_identity",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::BodyNotBase64 => "invalid_base64",
            Self::QueryNotValid => "invalid_query",
            Self::Invalid(InvalidClientShare::CipherTextTooLarge) => "cipher_text_too_large",
            Self::Invalid(InvalidClientShare::Invalid(invalid)) => invalid.code(),
            Self::Storage(rejection) => rejection.code(),
        }
    }

    fn response(&self) -> Response<Body> {
        let mut response = ErrorBody::new(self.code(), self.to_string()).response(self.status());
        if let Self::MethodNotAllowed { allow } = self {
            let allow = header::HeaderValue::from_static(allow);
            response.headers_mut().insert(header::ALLOW, allow);
        }
        response
    }
}

mod callers;
#[cfg(test)]
mod tests;
