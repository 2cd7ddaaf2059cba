//! Envelope encryption of every stored share: AES-256-GCM under a fresh data key from KMS.
//!
//! The share's owner, (clientId, backupMethod), is bound twice: as the KMS encryption context, so
//! KMS releases the data key only for that owner, and as the AES-GCM associated data, so the
//! ciphertext opens only as that owner's share. A sealed share copied into another row, altered,
//! or opened with another context fails closed. Plaintext data keys and opened shares are zeroed
//! when dropped.

use crate::portal::{BackupMethod, ClientId, Share};
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, Generate, KeyInit, Nonce, Payload};
use aws_sdk_kms::Client;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::operation::decrypt::DecryptError;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use std::fmt;
use zeroize::Zeroizing;

/// The one envelope format written today; stored with each share so a later one can coexist.
pub const FORMAT: u8 = 1;
pub const NONCE_BYTES: usize = 12;
const DATA_KEY_BYTES: usize = 32;

/// Encryption-context keys; the template's key policy requires exactly these.
pub const CONTEXT_CLIENT_ID: &str = "clientId";
pub const CONTEXT_BACKUP_METHOD: &str = "backupMethod";

/// Whose share this is: the row it may be stored in, and the only row it may be opened from.
#[derive(Clone, Copy)]
pub struct Owner<'a> {
    pub client_id: &'a ClientId,
    pub backup_method: &'a BackupMethod,
}

/// A share as stored: nothing here reveals it without KMS releasing the data key.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedShare {
    /// AES-256-GCM ciphertext followed by its 16-byte tag.
    pub ciphertext: Vec<u8>,
    pub nonce: [u8; NONCE_BYTES],
    /// The data key, encrypted by KMS under `key_id` with the owner as encryption context.
    pub encrypted_data_key: Vec<u8>,
    /// The KMS key (ARN) that wrapped the data key, kept for audit and key migration.
    pub key_id: String,
}

/// The KMS key that wraps every share's data key.
pub struct ShareKey {
    kms: Client,
    key_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// KMS refused or did not answer. `detail` is an error code, never data.
    #[error("KMS {operation} failed: {detail}")]
    KmsUnavailable {
        operation: &'static str,
        detail: String,
    },
    /// The sealed share does not open as this owner's: altered, moved from another row, or
    /// wrapped by another key. Never retried and never answered with data.
    #[error("a stored share failed authentication (altered, moved or foreign key)")]
    Tampered,
}

impl ShareKey {
    /// `key_id` is a key ID, key ARN or alias (`alias/...`) of a symmetric KMS key.
    pub fn new(kms: Client, key_id: String) -> Self {
        Self { kms, key_id }
    }

    /// Encrypts `share` for `owner` under a data key used for this share only, so a random
    /// nonce can never repeat under one key.
    pub async fn seal(
        &self,
        owner: Owner<'_>,
        share: &Share,
    ) -> Result<SealedShare, EnvelopeError> {
        let output = self
            .kms
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context(CONTEXT_CLIENT_ID, owner.client_id.as_str())
            .encryption_context(CONTEXT_BACKUP_METHOD, owner.backup_method.as_str())
            .send()
            .await
            .map_err(|error| kms_unavailable("GenerateDataKey", &error))?;
        let malformed = || EnvelopeError::KmsUnavailable {
            operation: "GenerateDataKey",
            detail: "incomplete response".into(),
        };
        let (Some(plaintext), Some(encrypted_data_key), Some(key_id)) =
            (output.plaintext, output.ciphertext_blob, output.key_id)
        else {
            return Err(malformed());
        };
        let data_key = Zeroizing::new(plaintext.into_inner());
        let nonce: [u8; NONCE_BYTES] = Nonce::<Aes256Gcm>::generate().into();
        let ciphertext =
            seal_with(&data_key, &nonce, &associated_data(owner), share).ok_or_else(malformed)?;
        Ok(SealedShare {
            ciphertext,
            nonce,
            encrypted_data_key: encrypted_data_key.into_inner(),
            key_id,
        })
    }

    /// Decrypts a share sealed for `owner`, only with this key: a data key wrapped by any other
    /// KMS key is refused, even one the function could otherwise use.
    pub async fn open(
        &self,
        owner: Owner<'_>,
        sealed: &SealedShare,
    ) -> Result<Share, EnvelopeError> {
        let output = self
            .kms
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(sealed.encrypted_data_key.clone()))
            .encryption_context(CONTEXT_CLIENT_ID, owner.client_id.as_str())
            .encryption_context(CONTEXT_BACKUP_METHOD, owner.backup_method.as_str())
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                Some(
                    DecryptError::InvalidCiphertextException(_)
                    | DecryptError::IncorrectKeyException(_),
                ) => EnvelopeError::Tampered,
                _ => kms_unavailable("Decrypt", &error),
            })?;
        let data_key = Zeroizing::new(
            output
                .plaintext
                .ok_or(EnvelopeError::Tampered)?
                .into_inner(),
        );
        open_with(
            &data_key,
            &sealed.nonce,
            &associated_data(owner),
            &sealed.ciphertext,
        )
        .ok_or(EnvelopeError::Tampered)
    }
}

/// The AES-GCM associated data: format and owner, as an unambiguous JSON array.
pub fn associated_data(owner: Owner<'_>) -> Vec<u8> {
    serde_json::json!([
        format!("custodian-backup/v{FORMAT}"),
        owner.client_id.as_str(),
        owner.backup_method.as_str()
    ])
    .to_string()
    .into_bytes()
}

/// AES-256-GCM encryption; `None` only for a data key of the wrong length.
pub fn seal_with(
    data_key: &[u8],
    nonce: &[u8; NONCE_BYTES],
    associated_data: &[u8],
    share: &Share,
) -> Option<Vec<u8>> {
    let cipher = cipher(data_key)?;
    let payload = Payload {
        msg: share.expose_secret().as_bytes(),
        aad: associated_data,
    };
    cipher
        .encrypt(&Nonce::<Aes256Gcm>::from(*nonce), payload)
        .ok()
}

/// AES-256-GCM decryption; `None` unless the tag proves key, nonce, associated data and
/// ciphertext are exactly those sealed. The plaintext buffer becomes the share without a copy.
pub fn open_with(
    data_key: &[u8],
    nonce: &[u8; NONCE_BYTES],
    associated_data: &[u8],
    ciphertext: &[u8],
) -> Option<Share> {
    let cipher = cipher(data_key)?;
    let payload = Payload {
        msg: ciphertext,
        aad: associated_data,
    };
    let plaintext = cipher
        .decrypt(&Nonce::<Aes256Gcm>::from(*nonce), payload)
        .ok()?;
    match String::from_utf8(plaintext) {
        Ok(text) => Some(Share::from(text)),
        Err(error) => {
            drop(Zeroizing::new(error.into_bytes()));
            None
        }
    }
}

fn cipher(data_key: &[u8]) -> Option<Aes256Gcm> {
    if data_key.len() != DATA_KEY_BYTES {
        return None;
    }
    Aes256Gcm::new_from_slice(data_key).ok()
}

/// Keeps only the error's code or kind: SDK errors can carry request data.
fn kms_unavailable<E: ProvideErrorMetadata, R>(
    operation: &'static str,
    error: &SdkError<E, R>,
) -> EnvelopeError {
    EnvelopeError::KmsUnavailable {
        operation,
        detail: crate::store::error_detail(error),
    }
}

impl fmt::Debug for SealedShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedShare")
            .field("ciphertext_bytes", &self.ciphertext.len())
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ShareKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShareKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const NONCE: [u8; NONCE_BYTES] = [9; NONCE_BYTES];

    fn owner_aad(client: &str, method: &str) -> Vec<u8> {
        let client_id = ClientId::parse(client).unwrap();
        let backup_method = BackupMethod::parse(method).unwrap();
        associated_data(Owner {
            client_id: &client_id,
            backup_method: &backup_method,
        })
    }

    #[test]
    fn opens_exactly_what_was_sealed() {
        let share = Share::from("{\"share\":\"0xabc\",\"unicode\":\"é\u{0}\"}".to_owned());
        let aad = owner_aad("client", "GDRIVE-SECP256K1");
        let sealed = seal_with(&KEY, &NONCE, &aad, &share).unwrap();
        assert!(!sealed.windows(5).any(|w| w == b"0xabc"));
        let opened = open_with(&KEY, &NONCE, &aad, &sealed).unwrap();
        assert!(opened.same_as(&share));
    }

    #[test]
    fn fails_closed_on_any_change() {
        let share = Share::from("key material".to_owned());
        let aad = owner_aad("client", "PASSKEY");
        let sealed = seal_with(&KEY, &NONCE, &aad, &share).unwrap();
        let mut flipped = sealed.clone();
        flipped[0] ^= 1;
        let mut other_key = KEY;
        other_key[31] ^= 1;
        let mut other_nonce = NONCE;
        other_nonce[0] ^= 1;
        assert!(open_with(&KEY, &NONCE, &aad, &flipped).is_none());
        assert!(open_with(&other_key, &NONCE, &aad, &sealed).is_none());
        assert!(open_with(&KEY, &other_nonce, &aad, &sealed).is_none());
        assert!(open_with(&KEY, &NONCE, &owner_aad("client", "GDRIVE"), &sealed).is_none());
        assert!(open_with(&KEY, &NONCE, &owner_aad("other", "PASSKEY"), &sealed).is_none());
        assert!(open_with(&KEY, &NONCE, &aad, &sealed[..sealed.len() - 1]).is_none());
        assert!(open_with(&KEY[..16], &NONCE, &aad, &sealed).is_none());
    }

    #[test]
    fn associated_data_cannot_be_shifted_between_fields() {
        // ("a\",\"b", "c") and ("a", "b\",\"c") must not collide.
        assert_ne!(owner_aad("a\",\"b", "c"), owner_aad("a", "b\",\"c"));
    }
}
