//! The checks both webhooks share, cheapest and least revealing first: the secret before
//! anything about the request is looked at; then method, body encoding and size.

use super::error::{MAX_BODY_BYTES, Rejection};
use super::log::{ContentType, RequestLog, is_json};
use super::runtime::BODY_NOT_BASE64;
use crate::budget;
use crate::domain::StoreError;
use crate::secret::{AuthFailure, Authenticator};
use lambda_http::Request;
use lambda_http::http::{Method, header};

/// The body of an authenticated POST, or why the request is refused.
pub async fn admit<'r>(
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

/// Storage's answer, or 503 once [`budget::STORAGE`] has passed.
pub async fn within_budget<T>(
    storage: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, Rejection> {
    match tokio::time::timeout(budget::STORAGE, storage).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(Rejection::StorageTimeout),
    }
}
