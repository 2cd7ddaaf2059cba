//! What a request may send, checked once for every route, cheapest and least revealing first:
//! the webhook secret before anything about the request is looked at; then method, body encoding
//! and size; and the `?backupSharePairId=` of the routes that read one share.

use super::error::{MAX_BODY_BYTES, Rejection};
use super::log::{ContentType, RequestLog, is_json};
use super::runtime::BODY_NOT_BASE64;
use crate::domain::{BACKUP_SHARE_PAIR_ID, BackupSharePairId, InvalidRequest};
use crate::secret::{AuthFailure, Authenticator};
use lambda_http::http::{Method, header};
use lambda_http::{Request, RequestExt};

/// The body of an authenticated webhook POST, or why the request is refused.
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
        return Err(Rejection::MethodNotAllowed { allow: "POST" });
    }
    // Parsed as JSON whatever it says: refusing a body Portal sent would lose its share.
    let content_types = request.headers().get_all(header::CONTENT_TYPE);
    log.content_type = match content_types.iter().next() {
        None => ContentType::None,
        Some(_) if content_types.iter().all(is_json) => ContentType::Json,
        Some(_) => ContentType::Other,
    };
    body(request)
}

/// The request's body, within [`MAX_BODY_BYTES`]. lambda_http has already decoded a base64 body
/// (`isBase64Encoded`) into bytes; one that was not base64 was dropped and marked by the guard.
pub fn body(request: &Request) -> Result<&[u8], Rejection> {
    if request.headers().contains_key(BODY_NOT_BASE64) {
        return Err(Rejection::BodyNotBase64);
    }
    let body: &[u8] = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(Rejection::PayloadTooLarge);
    }
    Ok(body)
}

/// The pair a read asks for with `?backupSharePairId=`, if any; named twice is refused.
pub fn pair_id_asked(request: &Request) -> Result<Option<BackupSharePairId>, Rejection> {
    let sent = request
        .query_string_parameters_ref()
        .and_then(|query| query.all(BACKUP_SHARE_PAIR_ID))
        .unwrap_or_default();
    match sent.as_slice() {
        [] => Ok(None),
        [pair_id] => Ok(Some(BackupSharePairId::parse(pair_id)?)),
        _ => Err(InvalidRequest::DuplicateField(BACKUP_SHARE_PAIR_ID).into()),
    }
}
