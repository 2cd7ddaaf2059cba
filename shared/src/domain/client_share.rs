//! The app's requests to the client-share API: `PUT /client-backup-shares/{backupMethod}` with
//! `{"cipherText", "backupSharePairId"?}`. The owner is never in the request: it is the verified
//! token's owner claim, which API Gateway's JWT authorizer passes, so one user can never name
//! another's share.
//!
//! A client backup share is stored, sealed and versioned exactly as a custodian share is: the
//! request becomes a [`Backup`] whose `clientId` is the owner and whose share is the cipherText.

use super::portal::{parse_object, string_field};
use super::{Backup, BackupMethod, BackupSharePairId, ClientId, InvalidRequest, Share};
use serde::Deserialize;
use serde_json::Value;

/// Largest `cipherText` accepted, in bytes. The SDK's is a few KB; larger is not a client share.
pub const MAX_CIPHER_TEXT_BYTES: usize = 64 * 1024;

const CIPHER_TEXT: &str = "cipherText";
const BACKUP_SHARE_PAIR_ID: &str = "backupSharePairId";

#[derive(Deserialize)]
struct RawClientShare {
    #[serde(rename = "cipherText")]
    cipher_text: Option<Value>,
    #[serde(rename = "backupSharePairId")]
    backup_share_pair_id: Option<Value>,
}

/// Why a `PUT` body was refused: the body's own problem, or a cipherText over the limit (413).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidClientShare {
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
    #[error("field `cipherText` is longer than {MAX_CIPHER_TEXT_BYTES} bytes")]
    CipherTextTooLarge,
}

/// The body of `PUT /client-backup-shares/{backupMethod}` by `owner`, as the share to store.
pub fn client_share_from_json(
    body: &[u8],
    owner: ClientId,
    backup_method: BackupMethod,
) -> Result<Backup, InvalidClientShare> {
    let raw: RawClientShare = parse_object(body, &[CIPHER_TEXT, BACKUP_SHARE_PAIR_ID])?;
    let cipher_text = string_field(CIPHER_TEXT, raw.cipher_text)?
        .ok_or(InvalidRequest::MissingField(CIPHER_TEXT))?;
    if cipher_text.is_empty() {
        return Err(InvalidRequest::EmptyField(CIPHER_TEXT).into());
    }
    if cipher_text.len() > MAX_CIPHER_TEXT_BYTES {
        return Err(InvalidClientShare::CipherTextTooLarge);
    }
    // The app can fix a bad pair id, so it is refused here (Portal's webhook drops one instead).
    let backup_share_pair_id = string_field(BACKUP_SHARE_PAIR_ID, raw.backup_share_pair_id)?
        .filter(|id| !id.is_empty())
        .map(|id| BackupSharePairId::parse(&id))
        .transpose()?;
    // The cipherText is encrypted by the app: it carries no pair id to read.
    Ok(Backup {
        client_id: owner,
        backup_method,
        share: Share::from(cipher_text),
        backup_share_pair_id,
        dropped_pair_id: None,
        pair_id_disagrees: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(body: &str) -> Result<Backup, InvalidClientShare> {
        let owner = ClientId::parse("user-1").unwrap();
        let method = BackupMethod::parse("PASSWORD").unwrap();
        client_share_from_json(body.as_bytes(), owner, method)
    }

    #[test]
    fn the_cipher_text_is_kept_exactly_and_the_owner_comes_from_outside_the_body() {
        let body = r#"{"cipherText": "ab+/=\u00e9", "backupSharePairId": "pair-1", "userId": "someone-else"}"#;
        let backup = put(body).unwrap();
        assert_eq!(backup.share.expose_secret(), "ab+/=é");
        assert_eq!(backup.client_id.as_str(), "user-1");
        assert_eq!(
            backup
                .backup_share_pair_id
                .as_ref()
                .map(BackupSharePairId::as_str),
            Some("pair-1")
        );
    }

    #[test]
    fn an_empty_missing_non_string_or_oversized_cipher_text_is_refused_without_echoing_it() {
        let too_large = format!(
            r#"{{"cipherText": "{}"}}"#,
            "a".repeat(MAX_CIPHER_TEXT_BYTES + 1)
        );
        let cases = [
            (r#"{"cipherText": ""}"#.to_owned(), "empty_field"),
            ("{}".to_owned(), "missing_field"),
            (r#"{"cipherText": 42}"#.to_owned(), "wrong_type"),
            (
                r#"{"cipherText": "a", "cipherText": "b"}"#.to_owned(),
                "duplicate_field",
            ),
            (
                r#"{"cipherText": "a", "backupSharePairId": 7}"#.to_owned(),
                "wrong_type",
            ),
            (r#""secret-looking""#.to_owned(), "not_an_object"),
        ];
        for (body, code) in cases {
            match put(&body) {
                Err(InvalidClientShare::Invalid(invalid)) => {
                    assert_eq!(invalid.code(), code, "{body}");
                    assert!(!invalid.to_string().contains("secret-looking"));
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        assert_eq!(
            put(&too_large).unwrap_err(),
            InvalidClientShare::CipherTextTooLarge
        );
    }
}
