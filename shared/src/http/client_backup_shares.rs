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

use super::admit::{body, pair_id_asked};
use super::error::{Rejection, json, within_budget};
use super::log::RequestLog;
use super::metrics::{Outcome, Route};
use super::runtime::URI_NOT_VALID;
use crate::domain::client_share::client_share_from_json;
use crate::domain::{BackupMethod, ClientId, Wanted};
use crate::store::{ShareLookup, ShareWriter};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Value, json};
use std::convert::Infallible;

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
            return Err(Rejection::QueryNotValid);
        }
        let backup_method = method.as_deref().map(BackupMethod::parse).transpose()?;
        log.backup_method = backup_method.as_ref().map(ToString::to_string);
        match (request.method(), backup_method) {
            (&Method::PUT, Some(backup_method)) => put(store, &request, owner, backup_method).await,
            (&Method::GET, Some(backup_method)) => {
                get(store, &request, &owner, &backup_method).await
            }
            (&Method::GET, None) => list(store, &owner).await,
            (_, Some(_)) => Err(Rejection::MethodNotAllowed { allow: "GET, PUT" }),
            (_, None) => Err(Rejection::MethodNotAllowed { allow: "GET" }),
        }
    }
    .await;
    Ok(log.finish(result.map(|(outcome, body)| (outcome, json(StatusCode::OK, &body)))))
}

/// What a request answered, and its body.
type Answer = Result<(Outcome<'static>, Value), Rejection>;

async fn put(
    store: &impl ShareWriter,
    request: &Request,
    owner: ClientId,
    backup_method: BackupMethod,
) -> Answer {
    let share = client_share_from_json(body(request)?, owner, backup_method)?;
    let stored = within_budget(store.put_share(&share)).await?;
    Ok((
        Outcome::Stored(stored),
        json!({ "result": stored.as_str() }),
    ))
}

async fn get(
    store: &impl ShareLookup,
    request: &Request,
    owner: &ClientId,
    backup_method: &BackupMethod,
) -> Answer {
    let pair_id = pair_id_asked(request)?;
    let wanted = Wanted {
        backup_method,
        backup_share_pair_id: pair_id.as_ref(),
    };
    let found = within_budget(store.find_share(owner, wanted)).await?;
    let (record, share) = found.ok_or(Rejection::ClientShareNotFound)?;
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
    let fetched = Outcome::Read {
        word: "fetched",
        shares: 1,
    };
    Ok((fetched, body))
}

async fn list(store: &impl ShareLookup, owner: &ClientId) -> Answer {
    let records = within_budget(store.current_records(owner)).await?;
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
    let listed_outcome = Outcome::Read {
        word: "listed",
        shares: 0,
    };
    Ok((listed_outcome, json!({ "clientBackupShares": listed })))
}

mod callers;
#[cfg(test)]
mod tests;
