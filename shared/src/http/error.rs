//! Every way a webhook request can fail, and the one JSON error body every route and the
//! `custody` CLI answer with: `{"error": {"code": "...", "message": "..."}}`.
//!
//! Messages name the problem and never contain a share, a secret or any other value from the
//! request.

use crate::domain::{InvalidRequest, StoreError};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};

/// Largest request body accepted, in bytes (after base64 decoding). A share is tens of KB; this
/// leaves the current and history items well inside DynamoDB's 400 KB item limit.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    #[error("missing or invalid X-Webhook-Secret header")]
    Unauthorized,
    #[error("the webhook secret is not configured on this server")]
    SecretNotConfigured,
    #[error("the webhook secret could not be read; retry later")]
    SecretUnavailable,
    #[error("only POST is allowed")]
    MethodNotAllowed,
    #[error("request body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("request body is marked base64-encoded but is not valid base64")]
    BodyNotBase64,
    #[error(transparent)]
    InvalidRequest(#[from] InvalidRequest),
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
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::SecretNotConfigured | Self::StoredShareUnreadable(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::SecretUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyNotBase64 | Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::StorageUnavailable(_) | Self::StorageTimeout => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::SecretNotConfigured => "secret_not_configured",
            Self::SecretUnavailable => "secret_unavailable",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::BodyNotBase64 => "invalid_base64",
            Self::InvalidRequest(invalid) => invalid.code(),
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
        if matches!(self, Self::MethodNotAllowed) {
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
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
