//! The KMS key that wraps every share's data key: seal a share for its owner, open it only as
//! that owner's. The AES-GCM part is [`crate::domain::envelope`].

use crate::aws::error_detail;
use crate::domain::envelope::{
    CONTEXT_BACKUP_METHOD, CONTEXT_CLIENT_ID, EnvelopeError, NONCE_BYTES, SealedShare,
    associated_data, fresh_nonce, open_with, seal_with,
};
use crate::domain::{Owner, Share};
use aws_sdk_kms::Client;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::operation::decrypt::DecryptError;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use std::fmt;
use zeroize::Zeroizing;

/// The KMS key that wraps every share's data key.
pub struct ShareKey {
    kms: Client,
    key_id: String,
    /// Earlier keys (ARNs) whose shares still open: a move to a new key is not tampering.
    accepted: Vec<String>,
}

impl ShareKey {
    /// `key_id` is a key ID, key ARN or alias (`alias/...`) of a symmetric KMS key.
    pub fn new(kms: Client, key_id: String) -> Self {
        Self {
            kms,
            key_id,
            accepted: Vec::new(),
        }
    }

    /// This key, also opening shares sealed under the `accepted` key ARNs. A replica of a
    /// multi-Region key needs no entry: this key opens what its primary sealed.
    pub fn accepting(self, accepted: Vec<String>) -> Self {
        Self { accepted, ..self }
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
        let nonce: [u8; NONCE_BYTES] = fresh_nonce();
        let ciphertext =
            seal_with(&data_key, &nonce, &associated_data(owner), share).ok_or_else(malformed)?;
        Ok(SealedShare {
            ciphertext,
            nonce,
            encrypted_data_key: encrypted_data_key.into_inner(),
            key_id,
        })
    }

    /// Decrypts a share sealed for `owner`, only with this key or an accepted one: a data key
    /// wrapped by any other KMS key is refused, even one the function could otherwise use.
    pub async fn open(
        &self,
        owner: Owner<'_>,
        sealed: &SealedShare,
    ) -> Result<Share, EnvelopeError> {
        let output = self
            .kms
            .decrypt()
            .key_id(self.key_for(sealed))
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

    /// The key to decrypt `sealed` with: the one that sealed it if accepted, else this one
    /// (which KMS refuses for a data key that another key wrapped).
    fn key_for<'a>(&'a self, sealed: &'a SealedShare) -> &'a str {
        match self.accepted.contains(&sealed.key_id) {
            true => &sealed.key_id,
            false => &self.key_id,
        }
    }
}

/// Keeps only the error's code or kind: SDK errors can carry request data.
fn kms_unavailable<E: ProvideErrorMetadata, R>(
    operation: &'static str,
    error: &SdkError<E, R>,
) -> EnvelopeError {
    EnvelopeError::KmsUnavailable {
        operation,
        detail: error_detail(error),
    }
}

impl fmt::Debug for ShareKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShareKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}
