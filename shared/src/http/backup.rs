//! `POST {base}/backup`: Portal sends a custodian backup share to store.

use super::admit::admit;
use super::error::{json, within_budget};
use super::log::RequestLog;
use super::metrics::{Outcome, Route};
use crate::domain::{Backup, InvalidRequest};
use crate::secret::Authenticator;
use crate::store::ShareWriter;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;

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
        log.backup_share_pair_id = backup
            .backup_share_pair_id
            .as_ref()
            .map(ToString::to_string);
        log.dropped_pair_id = backup.dropped_pair_id.as_ref().map(InvalidRequest::code);
        log.pair_id_disagrees = backup.pair_id_disagrees;
        within_budget(store.put_share(&backup)).await
    }
    .await;
    Ok(log.finish(result.map(|stored| {
        let body = serde_json::json!({ "message": "custodian backup share stored", "result": stored.as_str() });
        (Outcome::Stored(stored), json(StatusCode::OK, &body))
    })))
}
