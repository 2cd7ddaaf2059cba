//! Where custodian backup shares live. Each handler depends on the one trait it needs, so its
//! signature says exactly what it may touch: `/backup` writes, `/backup/fetch` reads.
//!
//! Errors carry a sanitised description (operation and error code) and never a share.

pub mod dynamodb;
#[cfg(test)]
pub mod memory;

use crate::portal::{Backup, BackupMethod, ClientId, Share};
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
}

/// Stores the share Portal sent as the current one for its (clientId, backupMethod).
pub trait ShareWriter: Send + Sync {
    fn put_share(&self, backup: &Backup)
    -> impl Future<Output = Result<Stored, StoreError>> + Send;
}

/// Reads every current share of a client, in a stable order (by backupMethod).
pub trait ShareReader: Send + Sync {
    fn current_shares(
        &self,
        client_id: &ClientId,
    ) -> impl Future<Output = Result<Vec<CurrentShare>, StoreError>> + Send;
}
