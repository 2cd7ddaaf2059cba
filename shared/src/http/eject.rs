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

use super::caller::caller_arn;
use super::error::{ErrorBody, json};
use super::log::{Ending, RequestLog};
use super::metrics::Route;
use super::path;
use crate::budget;
use crate::domain::custody::{Actor, CustodyError, Exported, Via};
use crate::domain::{
    BACKUP_SHARE_PAIR_ID, BackupMethod, BackupSharePairId, ClientId, InvalidRequest, Wanted,
};
use crate::store::ShareExporter;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use std::convert::Infallible;

#[derive(Debug, thiserror::Error)]
enum EjectError {
    #[error("only GET is allowed")]
    MethodNotAllowed,
    #[error("this route needs an IAM (SigV4) caller identity, and the request has none")]
    NoCallerIdentity,
    #[error(transparent)]
    InvalidRequest(#[from] InvalidRequest),
    #[error(transparent)]
    Custody(#[from] CustodyError),
    #[error("storage did not answer in time; retry later")]
    StorageTimeout,
}

/// Answers `{"clientId", "backupMethod", "version", "share"}` with one current share, or
/// `{"clientId", "shares": [{"backupMethod", "version", "share"}]}` with all of them.
pub async fn eject(
    store: &impl ShareExporter,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    let mut log = RequestLog::start(Route::Eject);
    let caller = caller_arn(&request);
    let parameters = request.path_parameters();
    let client_id = parameters.first(path::CLIENT_ID).unwrap_or_default();
    let backup_method = parameters.first(path::BACKUP_METHOD);
    let result = async {
        if request.method() != Method::GET {
            return Err(EjectError::MethodNotAllowed);
        }
        let arn = caller.clone().ok_or(EjectError::NoCallerIdentity)?;
        let client_id = ClientId::parse(client_id)?;
        let backup_method = backup_method.map(BackupMethod::parse).transpose()?;
        // `?backupSharePairId=`: that pair's share; without it, the method's newest.
        let query = request.query_string_parameters();
        let pair_id = match query
            .all(BACKUP_SHARE_PAIR_ID)
            .unwrap_or_default()
            .as_slice()
        {
            [] => None,
            [pair_id] => Some(BackupSharePairId::parse(pair_id)?),
            _ => return Err(InvalidRequest::DuplicateField(BACKUP_SHARE_PAIR_ID).into()),
        };
        let actor = Actor {
            arn,
            via: Via::EjectEndpoint,
            reason: None,
        };
        let exported = async {
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
        };
        tokio::time::timeout(budget::STORAGE, exported)
            .await
            .map_err(|_| EjectError::StorageTimeout)?
            .map_err(EjectError::from)
    }
    .await;
    let (response, versions, outcome, cause) = match result {
        Ok(exported) => {
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
            let versions = exported
                .iter()
                .map(|exported| {
                    format!(
                        "{}:{}",
                        exported.record.backup_method, exported.record.version
                    )
                })
                .collect::<Vec<_>>()
                .join(",");
            (json(StatusCode::OK, &body), Some(versions), "ejected", None)
        }
        Err(error) => {
            let cause = match &error {
                EjectError::Custody(CustodyError::Store(store)) => Some(store.to_string()),
                _ => None,
            };
            (error.response(), None, error.code(), cause)
        }
    };
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
    log.caller = caller;
    log.versions = versions;
    log.write(&Ending {
        status: response.status().as_u16(),
        outcome,
        shares: 0,
        unreadable: 0,
        unopened: 0,
        cause,
    });
    Ok(response)
}

impl EjectError {
    fn status(&self) -> StatusCode {
        match self {
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::NoCallerIdentity => StatusCode::FORBIDDEN,
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::Custody(error) if error.is_not_found() => StatusCode::NOT_FOUND,
            Self::Custody(CustodyError::Store(error)) if error.is_integrity_failure() => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::Custody(_) | Self::StorageTimeout => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::MethodNotAllowed => "method_not_allowed",
            Self::NoCallerIdentity => "no_caller_identity",
            Self::InvalidRequest(invalid) => invalid.code(),
            Self::Custody(error) => error.code(),
            Self::StorageTimeout => "storage_timeout",
        }
    }

    /// Storage errors say what to do, not which AWS call failed (that is in the log line).
    fn message(&self) -> String {
        match self {
            Self::Custody(CustodyError::Store(error)) if error.is_integrity_failure() => {
                "the stored share failed its integrity check; nothing was returned".to_owned()
            }
            Self::Custody(CustodyError::Store(_)) => {
                "storage is unavailable; nothing was returned, retry later".to_owned()
            }
            other => other.to_string(),
        }
    }

    fn response(&self) -> Response<Body> {
        ErrorBody::new(self.code(), self.message()).response(self.status())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::runtime::request_from_event;
    use serde_json::json;

    fn event(user_arn: Option<&str>) -> String {
        json!({
            "httpMethod": "GET",
            "path": "/clients/c1/custodian-shares/SECP256K1",
            "resource": "/clients/{clientId}/custodian-shares/{backupMethod}",
            "pathParameters": { "clientId": "c1", "backupMethod": "SECP256K1" },
            "headers": {}, "multiValueHeaders": {}, "body": null, "isBase64Encoded": false,
            "requestContext": {
                "stage": "v1", "httpMethod": "GET", "accountId": "123456789012",
                "resourcePath": "/clients/{clientId}/custodian-shares/{backupMethod}",
                "identity": { "userArn": user_arn, "sourceIp": "10.0.0.1" },
            },
        })
        .to_string()
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

    #[test]
    fn errors_map_to_statuses_a_backend_can_act_on() {
        let cases = [
            (EjectError::MethodNotAllowed, 405, "method_not_allowed"),
            (EjectError::NoCallerIdentity, 403, "no_caller_identity"),
            (CustodyError::UnknownClient.into(), 404, "unknown_client"),
            (
                CustodyError::UnknownBackupMethod.into(),
                404,
                "unknown_backup_method",
            ),
            (EjectError::StorageTimeout, 503, "storage_timeout"),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.status().as_u16(), status, "{error}");
            assert_eq!(error.code(), code);
        }
    }
}
