//! The KMS key that wraps every share's data key: seal a share for its owner, open it only as
//! that owner's. With an escrow key, each data key is also wrapped under it. The AES-GCM part is
//! [`crate::domain::envelope`].

use crate::aws::error_detail;
use crate::budget;
use crate::domain::envelope::{
    CONTEXT_BACKUP_METHOD, CONTEXT_CLIENT_ID, EnvelopeError, EscrowWrap, NONCE_BYTES, SealedShare,
    ShareKind, associated_data, fresh_nonce, open_with, seal_with,
};
use crate::domain::{Owner, Share};
use aws_sdk_kms::Client;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::operation::decrypt::DecryptError;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use std::fmt;
use zeroize::Zeroizing;

/// Shares stored without their escrow wrap because the escrow key's `Encrypt` failed: stored
/// all the same (Portal does not re-send), and sealed again on the next backup.
pub const ESCROW_WRAPS_MISSED: &str = "EscrowWrapsMissed";

/// The KMS key that wraps every share's data key.
pub struct ShareKey {
    kms: Client,
    key_id: String,
    /// Earlier keys (ARNs) whose shares still open: a move to a new key is not tampering.
    accepted: Vec<String>,
    /// The escrow key (ARN) each data key is also wrapped under, if any, and a client of its
    /// own Region's KMS.
    escrow: Option<(String, Client)>,
    /// Which half of a wallet's backup this key seals.
    kind: ShareKind,
}

impl ShareKey {
    /// `key_id` is a key ID, key ARN or alias (`alias/...`) of a symmetric KMS key.
    pub fn new(kms: Client, key_id: String) -> Self {
        Self {
            kms,
            key_id,
            accepted: Vec::new(),
            escrow: None,
            kind: ShareKind::Custodian,
        }
    }

    /// This key, also opening shares sealed under the `accepted` key ARNs. A replica of a
    /// multi-Region key needs no entry: this key opens what its primary sealed.
    pub fn accepting(self, accepted: Vec<String>) -> Self {
        Self { accepted, ..self }
    }

    /// This key, also wrapping each new data key under the `escrow` key (ARN). A recovery stack
    /// opens shares through that wrap by naming the escrow key among its accepted ones. The wrap
    /// calls KMS in the escrow key's own Region (an ARN names it): a recovery Region's key works.
    pub fn escrowing(self, escrow: Option<String>) -> Self {
        let escrow = escrow.map(|arn| {
            let client = match arn.split(':').nth(3) {
                Some(region)
                    if !region.is_empty()
                        && self.kms.config().region().map(|r| r.as_ref()) != Some(region) =>
                {
                    let region = aws_sdk_kms::config::Region::new(region.to_owned());
                    Client::from_conf(self.kms.config().to_builder().region(region).build())
                }
                _ => self.kms.clone(),
            };
            (arn, client)
        });
        Self { escrow, ..self }
    }

    /// This key, sealing and opening shares of `kind` (custodian unless told).
    pub fn of_kind(self, kind: ShareKind) -> Self {
        Self { kind, ..self }
    }

    /// The escrow key (ARN) new data keys are also wrapped under, if any.
    pub fn escrow_key(&self) -> Option<&str> {
        self.escrow.as_ref().map(|(arn, _)| arn.as_str())
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
        let ciphertext = seal_with(&data_key, &nonce, &associated_data(self.kind, owner), share)
            .ok_or_else(malformed)?;
        let escrow = match &self.escrow {
            Some((escrow_key, kms)) => {
                Self::wrap_for_escrow(kms, owner, &data_key, escrow_key).await
            }
            None => None,
        };
        Ok(SealedShare {
            ciphertext,
            nonce,
            encrypted_data_key: encrypted_data_key.into_inner(),
            key_id,
            escrow,
        })
    }

    /// The data key encrypted under the escrow key, with the same encryption context; `None`
    /// (logged and counted) when KMS refuses or fails: a share without its escrow wrap is still
    /// held here, whereas a refused backup is lost.
    async fn wrap_for_escrow(
        kms: &Client,
        owner: Owner<'_>,
        data_key: &[u8],
        escrow_key: &str,
    ) -> Option<EscrowWrap> {
        let wrapping = kms
            .encrypt()
            .key_id(escrow_key)
            .plaintext(Blob::new(data_key))
            .encryption_context(CONTEXT_CLIENT_ID, owner.client_id.as_str())
            .encryption_context(CONTEXT_BACKUP_METHOD, owner.backup_method.as_str())
            .send();
        let failure = match tokio::time::timeout(budget::ESCROW_WRAP, wrapping).await {
            Err(_) => "timeout".to_owned(),
            Ok(Ok(output)) => match output.ciphertext_blob {
                Some(wrapped) => {
                    return Some(EscrowWrap {
                        encrypted_data_key: wrapped.into_inner(),
                        key_id: output.key_id.unwrap_or_else(|| escrow_key.to_owned()),
                    });
                }
                None => "incomplete response".to_owned(),
            },
            Ok(Err(error)) => error_detail(&error),
        };
        tracing::warn!(
            escrow_key,
            detail = failure,
            "the escrow wrap failed: the share is stored without it"
        );
        metrics::counter!(ESCROW_WRAPS_MISSED).increment(1);
        None
    }

    /// Opens the TLS connection to KMS during init, with the one call on this key that uses
    /// nothing of it: `DescribeKey`, granted to the webhook roles in `ShareKey`'s policy for this.
    pub async fn open_connection(&self) {
        if let Err(error) = self.kms.describe_key().key_id(&self.key_id).send().await {
            tracing::warn!(
                detail = error_detail(&error),
                "DescribeKey during init failed: the first request opens its own KMS connection"
            );
        }
    }

    /// Decrypts a share sealed for `owner`, only with this key or an accepted one: a data key
    /// wrapped by any other KMS key is refused, even one the function could otherwise use.
    pub async fn open(
        &self,
        owner: Owner<'_>,
        sealed: &SealedShare,
    ) -> Result<Share, EnvelopeError> {
        let (key_id, encrypted_data_key) = self.wrap_to_open(sealed);
        let output = self
            .kms
            .decrypt()
            .key_id(key_id)
            .ciphertext_blob(Blob::new(encrypted_data_key))
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
            &associated_data(self.kind, owner),
            &sealed.ciphertext,
        )
        .ok_or(EnvelopeError::Tampered)
    }

    /// The wrapped data key to decrypt, and the key to decrypt it with: the main wrap if its key
    /// is accepted; else the escrow wrap if its key is this one or accepted (a recovery stack in
    /// the escrow key's account); else the main wrap under this key, which KMS refuses for a data
    /// key that another key wrapped.
    fn wrap_to_open<'a>(&'a self, sealed: &'a SealedShare) -> (&'a str, &'a [u8]) {
        let opens = |key_id: &String| self.accepted.contains(key_id) || *key_id == self.key_id;
        match &sealed.escrow {
            _ if self.accepted.contains(&sealed.key_id) => {
                (&sealed.key_id, &sealed.encrypted_data_key)
            }
            Some(escrow) if sealed.key_id != self.key_id && opens(&escrow.key_id) => {
                (&escrow.key_id, &escrow.encrypted_data_key)
            }
            _ => (&self.key_id, &sealed.encrypted_data_key),
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
            .field("escrow", &self.escrow_key())
            .finish_non_exhaustive()
    }
}
