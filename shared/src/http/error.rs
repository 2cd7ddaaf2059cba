//! Every way a request can fail, on every route, and the one JSON error body every route and the
//! `custody` CLI answer with: `{"error": {"code": "...", "message": "..."}}`.
//!
//! Messages name the problem and never contain a share, a secret or any other value from the
//! request. The codes are the ones the docs list (docs/contract.md for the webhooks,
//! docs/client-shares.md and docs/custody.md for the client-share and eject routes); scripts
//! depend on them.

use crate::budget;
use crate::domain::client_owner::NoOwner;
use crate::domain::client_share::{InvalidClientShare, MAX_CIPHER_TEXT_BYTES};
use crate::domain::custody::CustodyError;
use crate::domain::{InvalidRequest, StoreError};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};

/// Largest request body accepted, in bytes (after base64 decoding). A share is tens of KB; this
/// leaves the current and history items well inside DynamoDB's 400 KB item limit.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    /// The webhooks: a missing or wrong `X-Webhook-Secret`.
    #[error("missing or invalid X-Webhook-Secret header")]
    Unauthorized,
    #[error("the webhook secret is not configured on this server")]
    SecretNotConfigured,
    #[error("the webhook secret could not be read; retry later")]
    SecretUnavailable,
    /// The client-share API: the verified token names no usable owner (why, in words: only the
    /// client-share routes, which convert a `NoOwner`, carry those words in their binary).
    #[error("this route needs a verified token naming its owner: {0}")]
    Unauthenticated(String),
    /// Eject and the backend's client-share routes: API Gateway passed no SigV4 caller.
    #[error("this route needs an IAM (SigV4) caller identity, and the request has none")]
    NoCallerIdentity,
    #[error("this path allows only {allow}")]
    MethodNotAllowed { allow: &'static str },
    #[error("request body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("request body is marked base64-encoded but is not valid base64")]
    BodyNotBase64,
    #[error("the query string is not a valid URI query (percent-encode it)")]
    QueryNotValid,
    #[error(transparent)]
    InvalidRequest(#[from] InvalidRequest),
    #[error("field `cipherText` is longer than {MAX_CIPHER_TEXT_BYTES} bytes")]
    CipherTextTooLarge,
    #[error("no client backup share is stored for this backupMethod")]
    ClientShareNotFound,
    /// Eject: what custody refused, never a storage error: 404 for an unknown client, method,
    /// version or pair; 503 with custody's own code for the rest (an escrow wrap that failed, an
    /// audit chain that does not verify). Held as its code and words, so that only the routes
    /// that convert a `CustodyError` carry custody's messages in their binary.
    #[error("{message}")]
    Custody {
        code: &'static str,
        not_found: bool,
        message: String,
    },
    /// A write that failed or timed out may still have landed: nothing is promised either way.
    #[error("storage is unavailable; the request may not have been completed, retry it")]
    StorageUnavailable(StoreError),
    /// Fails closed: a share that does not authenticate is never returned.
    #[error("a stored share failed its integrity check; nothing was returned")]
    StoredShareUnreadable(StoreError),
    #[error("storage did not answer in time; the request may not have been completed, retry it")]
    StorageTimeout,
}

impl Rejection {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized | Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::NoCallerIdentity => StatusCode::FORBIDDEN,
            Self::ClientShareNotFound => StatusCode::NOT_FOUND,
            Self::Custody {
                not_found: true, ..
            } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge | Self::CipherTextTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyNotBase64 | Self::QueryNotValid | Self::InvalidRequest(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::SecretNotConfigured | Self::StoredShareUnreadable(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::SecretUnavailable
            | Self::Custody { .. }
            | Self::StorageUnavailable(_)
            | Self::StorageTimeout => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::SecretNotConfigured => "secret_not_configured",
            Self::SecretUnavailable => "secret_unavailable",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::NoCallerIdentity => "no_caller_identity",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::BodyNotBase64 => "invalid_base64",
            Self::QueryNotValid => "invalid_query",
            Self::InvalidRequest(invalid) => invalid.code(),
            Self::CipherTextTooLarge => "cipher_text_too_large",
            Self::ClientShareNotFound => "not_found",
            Self::Custody { code, .. } => code,
            Self::StorageUnavailable(_) => "storage_unavailable",
            Self::StorageTimeout => "storage_timeout",
            Self::StoredShareUnreadable(_) => "stored_share_unreadable",
        }
    }

    /// The storage error behind this rejection, for the log line (it holds no data).
    pub fn store_error(&self) -> Option<&StoreError> {
        match self {
            Self::StorageUnavailable(error) | Self::StoredShareUnreadable(error) => Some(error),
            _ => None,
        }
    }

    pub fn into_response(self) -> Response<Body> {
        let mut response = ErrorBody::new(self.code(), self.to_string()).response(self.status());
        if let Self::MethodNotAllowed { allow } = self {
            let allow = header::HeaderValue::from_static(allow);
            response.headers_mut().insert(header::ALLOW, allow);
        }
        response
    }
}

impl From<StoreError> for Rejection {
    fn from(error: StoreError) -> Self {
        if error.is_integrity_failure() {
            Self::StoredShareUnreadable(error)
        } else {
            Self::StorageUnavailable(error)
        }
    }
}

impl From<CustodyError> for Rejection {
    fn from(error: CustodyError) -> Self {
        match error {
            CustodyError::Store(error) => error.into(),
            other => Self::Custody {
                code: other.code(),
                not_found: other.is_not_found(),
                message: other.to_string(),
            },
        }
    }
}

impl From<InvalidClientShare> for Rejection {
    fn from(invalid: InvalidClientShare) -> Self {
        match invalid {
            InvalidClientShare::Invalid(invalid) => invalid.into(),
            InvalidClientShare::CipherTextTooLarge => Self::CipherTextTooLarge,
        }
    }
}

impl From<NoOwner> for Rejection {
    fn from(no_owner: NoOwner) -> Self {
        Self::Unauthenticated(no_owner.to_string())
    }
}

/// Storage's answer, or 503 once [`budget::STORAGE`] has passed: every route's one time limit.
pub async fn within_budget<T, E: Into<Rejection>>(
    storage: impl Future<Output = Result<T, E>>,
) -> Result<T, Rejection> {
    match tokio::time::timeout(budget::STORAGE, storage).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(Rejection::StorageTimeout),
    }
}

/// `{"error": {"code", "message"}}`: a stable code for scripts, and a message that names the
/// problem and never holds a share, a secret or any other value from the request.
pub struct ErrorBody<'a> {
    pub code: &'a str,
    pub message: String,
}

impl<'a> ErrorBody<'a> {
    pub fn new(code: &'a str, message: String) -> Self {
        Self { code, message }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "code": self.code, "message": self.message } })
    }

    pub fn response(&self, status: StatusCode) -> Response<Body> {
        json(status, &self.to_json())
    }
}

/// A JSON response that no cache may keep: bodies can hold key material.
pub fn json(status: StatusCode, body: &impl serde::Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).expect("string keys and values only");
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Text(text))
        .expect("status and static headers are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each code once, with the status the docs give it.
    #[test]
    fn every_rejection_has_its_documented_status_and_code() {
        let cases = [
            (Rejection::Unauthorized, 401, "unauthorized"),
            (NoOwner::Unusable.into(), 401, "unauthenticated"),
            (Rejection::NoCallerIdentity, 403, "no_caller_identity"),
            (
                Rejection::MethodNotAllowed { allow: "GET" },
                405,
                "method_not_allowed",
            ),
            (Rejection::PayloadTooLarge, 413, "payload_too_large"),
            (
                InvalidClientShare::CipherTextTooLarge.into(),
                413,
                "cipher_text_too_large",
            ),
            (Rejection::BodyNotBase64, 400, "invalid_base64"),
            (Rejection::QueryNotValid, 400, "invalid_query"),
            (Rejection::ClientShareNotFound, 404, "not_found"),
            (CustodyError::UnknownClient.into(), 404, "unknown_client"),
            (
                CustodyError::UnknownBackupMethod.into(),
                404,
                "unknown_backup_method",
            ),
            (Rejection::SecretNotConfigured, 500, "secret_not_configured"),
            (Rejection::SecretUnavailable, 503, "secret_unavailable"),
            (Rejection::StorageTimeout, 503, "storage_timeout"),
        ];
        for (rejection, status, code) in cases {
            assert_eq!(rejection.status().as_u16(), status, "{rejection}");
            assert_eq!(rejection.code(), code);
        }
    }

    #[test]
    fn a_storage_error_inside_custody_answers_as_storage() {
        let contended = CustodyError::Store(StoreError::Contended { attempts: 3 });
        let rejection = Rejection::from(contended);
        assert_eq!(
            (rejection.status().as_u16(), rejection.code()),
            (503, "storage_unavailable")
        );
        assert!(rejection.store_error().is_some());
        let unreadable = Rejection::from(CustodyError::Store(StoreError::AllUnreadable(2)));
        assert_eq!(
            (unreadable.status().as_u16(), unreadable.code()),
            (500, "stored_share_unreadable")
        );
    }

    #[test]
    fn only_a_refused_method_carries_an_allow_header() {
        let refused = Rejection::MethodNotAllowed { allow: "GET, PUT" }.into_response();
        assert_eq!(refused.headers()[header::ALLOW], "GET, PUT");
        let other = Rejection::QueryNotValid.into_response();
        assert!(!other.headers().contains_key(header::ALLOW));
    }
}
