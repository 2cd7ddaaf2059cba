//! Where custodian backup shares live. Each handler depends on the one trait it needs, so its
//! signature says exactly what it may touch: `/backup` writes, `/backup/fetch` reads.
//!
//! Errors carry a sanitised description (operation and error code) and never a share.

pub mod dynamodb;
#[cfg(test)]
pub mod memory;
#[cfg(test)]
mod mocked;

use crate::envelope::EnvelopeError;
use crate::portal::{Backup, BackupMethod, ClientId, Share};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use std::future::Future;

/// What storing a share did. Every variant means DynamoDB has acknowledged it durably.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// First share for this (clientId, backupMethod).
    Created,
    /// A different share was current; it was copied to history before this one replaced it.
    Replaced,
    /// The identical share was already current: nothing was written.
    Unchanged,
}

impl Stored {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Replaced => "replaced",
            Self::Unchanged => "unchanged",
        }
    }
}

/// A current share as read back for `/backup/fetch`.
#[derive(Debug)]
pub struct CurrentShare {
    pub backup_method: BackupMethod,
    pub share: Share,
}

/// Every current share of a client that opened, and how many did not.
#[derive(Debug, Default)]
pub struct ClientShares {
    /// In a stable order, by backupMethod.
    pub shares: Vec<CurrentShare>,
    /// Shares that failed their integrity check (altered, moved, unsealed): left out, logged
    /// and counted, so one bad row never blocks a client's recovery with the others.
    pub unreadable: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB refused or did not answer. `detail` is an error code, never data.
    #[error("DynamoDB {operation} failed: {detail}")]
    Unavailable {
        operation: &'static str,
        detail: String,
    },
    /// Concurrent writers kept winning until the retry budget ran out.
    #[error("gave up after {attempts} conflicting concurrent writes")]
    Contended { attempts: u32 },
    /// A stored item lacks an attribute this code wrote: refuse rather than guess.
    #[error("stored item is missing or has a malformed `{0}`")]
    Corrupt(&'static str),
    /// Sealing or opening a share failed: KMS unavailable, or a share that fails authentication.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// Every stored share of a client failed its integrity check (each was logged).
    #[error("all {0} stored shares of this client failed their integrity check")]
    AllUnreadable(usize),
}

impl StoreError {
    /// A stored share cannot be trusted: retrying will not help, and nothing may be returned.
    pub fn is_integrity_failure(&self) -> bool {
        matches!(
            self,
            Self::Corrupt(_) | Self::Envelope(EnvelopeError::Tampered) | Self::AllUnreadable(_)
        )
    }
}

/// An SDK error reduced to its code or kind: the full error can carry request data, and so a
/// share.
pub(crate) fn error_detail<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> String {
    match error {
        SdkError::ServiceError(service) => service.err().code().unwrap_or("unknown service error"),
        SdkError::TimeoutError(_) => "timeout",
        SdkError::DispatchFailure(_) => "dispatch failure",
        SdkError::ResponseError(_) => "unreadable response",
        SdkError::ConstructionFailure(_) => "request construction failure",
        _ => "unknown error",
    }
    .to_owned()
}

/// Stores the share Portal sent as the current one for its (clientId, backupMethod).
pub trait ShareWriter: Send + Sync {
    fn put_share(&self, backup: &Backup)
    -> impl Future<Output = Result<Stored, StoreError>> + Send;
}

/// Reads every current share of a client that opens, in a stable order (by backupMethod).
pub trait ShareReader: Send + Sync {
    fn current_shares(
        &self,
        client_id: &ClientId,
    ) -> impl Future<Output = Result<ClientShares, StoreError>> + Send;
}
