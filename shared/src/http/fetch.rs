//! `POST {base}/backup/fetch`: Portal reads back every stored share of a client, right after each
//! `/backup` to validate it, and at recovery.

use super::admit::{admit, within_budget};
use super::error::json;
use super::log::RequestLog;
use super::metrics::{Outcome, Route};
use crate::domain::{ClientShares, Fetch, StoreError};
use crate::secret::Authenticator;
use crate::store::ShareReader;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;

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
        let ClientShares {
            shares,
            unreadable,
            unopened,
        } = found;
        let legacy = shares
            .iter()
            .find(|current| current.backup_method.is_unknown());
        // Borrowed, not copied: the shares are in memory once more only as the body's text.
        let body = Answer {
            backup_shares: shares
                .iter()
                .map(|current| current.share.expose_secret())
                .collect(),
            backup_share: legacy.map(|legacy| legacy.share.expose_secret()),
        };
        let fetched = Outcome::Fetched {
            shares: shares.len(),
            unreadable,
            unopened,
        };
        (fetched, json(StatusCode::OK, &body))
    })))
}

/// `/backup/fetch`'s 200 body.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_share: Option<&'a str>,
    backup_shares: Vec<&'a str>,
}
