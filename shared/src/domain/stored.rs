//! What storage did or found, in the words the handlers answer with; and why it failed.
//!
//! Errors carry a sanitised description (operation and error code) and never a share.

use super::envelope::EnvelopeError;
use super::{BackupMethod, Share};

/// What storing a share did. Every variant means DynamoDB has acknowledged it durably.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// First share for this (clientId, backupMethod).
    Created,
    /// A different share was current; it was copied to history before this one replaced it.
    Replaced,
    /// The identical share was already current: nothing was written.
    Unchanged,
    /// The current row could not be read as a share (a hand edit, a bad merge, a newer format
    /// left by a rollback); it was set aside in history as it was before this one replaced it.
    ReplacedUnreadable,
}

impl Stored {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Replaced => "replaced",
            Self::Unchanged => "unchanged",
            Self::ReplacedUnreadable => "replaced_unreadable",
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
    /// Shares whose KMS key could not be used (disabled, pending deletion, deleted, a policy that
    /// no longer grants, KMS failing): left out, logged and counted, so one unusable key never
    /// blocks a recovery with the client's other shares.
    pub unopened: usize,
}

impl ClientShares {
    /// What a fetch may serve: the shares that opened; or, when none did, why not, because an
    /// empty list would read as "no backup". Every key unusable is the first key's failure (a
    /// 503: try again); every share unreadable is [`StoreError::AllUnreadable`] (a 500).
    pub fn served(
        shares: Vec<CurrentShare>,
        unreadable: usize,
        unopened: usize,
        first_failure: Option<StoreError>,
    ) -> Result<Self, StoreError> {
        match (shares.is_empty(), first_failure) {
            (true, Some(error)) => Err(error),
            (true, None) if unreadable > 0 => Err(StoreError::AllUnreadable(unreadable)),
            _ => Ok(Self {
                shares,
                unreadable,
                unopened,
            }),
        }
    }
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
    /// An audit record must be written or checked, and no audit key is configured.
    #[error("AUDIT_KEY_ID is not set: audit records are signed and checked with that KMS key")]
    AuditKeyMissing,
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
