//! `GET /clients/{clientId}/custodian-shares[/{backupMethod}]`: the optional eject endpoint.
//!
//! Without a backupMethod it returns every current share of the client (both curves, and a
//! legacy `UNKNOWN` one); with one, that share, or the legacy `UNKNOWN` share when the client has
//! only that (it was backed up before multi-backup, and is what Portal's eject then needs).
//!
//! With self-managed backups, Portal's eject needs the custodian share from the customer's own
//! backend, never from Portal. API Gateway admits only SigV4-signed callers that the customer's
//! IAM allows; this handler also refuses a request that arrives without that caller identity,
//! records who asked in the audit trail before it opens the share, and logs one line without it.

use super::admit::pair_id_asked;
use super::caller::caller_arn;
use super::error::{Rejection, json, within_budget};
use super::log::RequestLog;
use super::metrics::{Outcome, Route};
use super::path;
use crate::domain::custody::{Actor, Exported, Via};
use crate::domain::{BackupMethod, ClientId, Wanted};
use crate::store::ShareExporter;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use std::convert::Infallible;

/// Answers `{"clientId", "backupMethod", "version", "share"}` with one current share, or
/// `{"clientId", "shares": [{"backupMethod", "version", "share"}]}` with all of them.
pub async fn eject(
    store: &impl ShareExporter,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    let mut log = RequestLog::start(Route::Eject);
    log.caller = caller_arn(&request);
    let parameters = request.path_parameters();
    let client_id = parameters.first(path::CLIENT_ID).unwrap_or_default();
    let backup_method = parameters.first(path::BACKUP_METHOD);
    // Identifiers are logged only once validated: a rejected one may hold anything.
    log.client_id = ClientId::parse(client_id)
        .is_ok()
        .then(|| client_id.to_owned());
    log.backup_method = match backup_method {
        None => Some("*".to_owned()),
        Some(method) => BackupMethod::parse(method)
            .is_ok()
            .then(|| method.to_owned()),
    };
    let result = async {
        if request.method() != Method::GET {
            return Err(Rejection::MethodNotAllowed { allow: "GET" });
        }
        let arn = log.caller.clone().ok_or(Rejection::NoCallerIdentity)?;
        let client_id = ClientId::parse(client_id)?;
        let backup_method = backup_method.map(BackupMethod::parse).transpose()?;
        // `?backupSharePairId=`: that pair's share; without it, the method's newest.
        let pair_id = pair_id_asked(&request)?;
        let actor = Actor {
            arn,
            via: Via::EjectEndpoint,
            reason: None,
        };
        within_budget(async {
            let Some(backup_method) = backup_method else {
                return store.export_client(&client_id, &actor).await;
            };
            // As the app's GET: the pair's share, or the method's newest; then `UNKNOWN`'s.
            let wanted = Wanted {
                backup_method: &backup_method,
                backup_share_pair_id: pair_id.as_ref(),
            };
            let one = store.export_wanted(&client_id, wanted, &actor).await;
            one.map(|exported| vec![exported])
        })
        .await
    }
    .await;
    let answered = result.map(|exported| {
        log.versions = Some(versions(&exported));
        let entry = |Exported { record, share }: &Exported| {
            serde_json::json!({
                "backupMethod": record.backup_method,
                "version": record.version,
                "share": share.expose_secret(),
            })
        };
        let body = match (backup_method, exported.as_slice()) {
            (Some(_), [one]) => {
                let mut body = entry(one);
                body["clientId"] = client_id.into();
                body
            }
            _ => serde_json::json!({
                "clientId": client_id,
                "shares": exported.iter().map(entry).collect::<Vec<_>>(),
            }),
        };
        let ejected = Outcome::Read {
            word: "ejected",
            shares: exported.len(),
        };
        (ejected, json(StatusCode::OK, &body))
    });
    Ok(log.finish(answered))
}

/// `backupMethod:version` of each share ejected, for the log line.
fn versions(exported: &[Exported]) -> String {
    let version = |exported: &Exported| {
        format!(
            "{}:{}",
            exported.record.backup_method, exported.record.version
        )
    };
    exported.iter().map(version).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::runtime::request_from_event;

    fn event(user_arn: Option<&str>) -> String {
        let resource = "/clients/{clientId}/custodian-shares/{backupMethod}";
        let parameters = [("clientId", "c1"), ("backupMethod", "SECP256K1")];
        events::iam_event("GET", resource, &parameters, user_arn, None).to_string()
    }

    #[test]
    fn the_caller_is_the_sigv4_identity_api_gateway_passes() {
        let arn = "arn:aws:iam::123456789012:role/wallet-backend";
        let request = request_from_event(&event(Some(arn))).unwrap();
        assert_eq!(caller_arn(&request).as_deref(), Some(arn));
        assert_eq!(request.path_parameters().first(path::CLIENT_ID), Some("c1"));
    }

    #[test]
    fn without_an_identity_there_is_no_caller() {
        for arn in [None, Some(""), Some("anonymous")] {
            let request = request_from_event(&event(arn)).unwrap();
            assert_eq!(caller_arn(&request), None, "{arn:?}");
        }
    }
}
