//! The operator's vocabulary for stored shares: a share's record (everything but the share), who
//! acted and why, what a restore brings back and what it must find current, and how a custody
//! job fails. The jobs themselves are [`crate::store::Custody`] and [`crate::store::ShareExporter`].

use super::{Share, StoreError};
use serde::Serialize;

/// Everything about a stored share except the share: safe to print, log and return.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareRecord {
    pub backup_method: String,
    pub version: u64,
    /// The version `/backup/fetch` returns; the others are kept in history.
    pub current: bool,
    pub stored_at: Option<String>,
    pub replaced_at: Option<String>,
    /// When DynamoDB's TTL removes this version from history; `None` while current or kept
    /// forever.
    pub expires_at: Option<String>,
    /// The version this share had while current, when history had to keep it under another
    /// (its own was taken: a row deleted by hand or restored from a backup).
    pub archived_from: Option<u64>,
    pub share_sha256: String,
    pub share_bytes: u64,
    pub backup_share_pair_id: Option<String>,
    /// Stored in its pair's own slot (`custody … --pair-id` addresses it); otherwise in its
    /// method's pair-less slot, as every share stored before pairs.
    #[serde(skip)]
    pub in_pair_slot: bool,
    /// The version an operator restored this one from.
    pub restored_from: Option<u64>,
}

#[cfg(test)]
impl ShareRecord {
    /// A current share's record as the domain's tests need it: where it is and when it came.
    pub(crate) fn current(
        backup_method: &str,
        pair: Option<&str>,
        in_pair_slot: bool,
        stored_at: Option<&str>,
    ) -> Self {
        Self {
            backup_method: backup_method.into(),
            version: 1,
            current: true,
            stored_at: stored_at.map(Into::into),
            replaced_at: None,
            expires_at: None,
            archived_from: None,
            share_sha256: String::new(),
            share_bytes: 1,
            backup_share_pair_id: pair.map(Into::into),
            in_pair_slot,
            restored_from: None,
        }
    }
}

/// A share opened for export, with its record. The share is printed or returned by the caller,
/// and only after the audit record was written.
pub struct Exported {
    pub record: ShareRecord,
    pub share: Share,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum Restored {
    /// `from` is current again, as the new version `version`; the share it replaced is in
    /// history.
    Restored { from: u64, version: u64 },
    /// The requested share already is the current one (a restore run twice): nothing changed.
    AlreadyCurrent { version: u64 },
}

/// What `reconcile --retire` did to one share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum Retired {
    /// Moved to history, where it is kept as version `kept`.
    Retired { version: u64, kept: u64 },
    /// Not current any more (retired by an earlier run): nothing changed.
    AlreadyRetired,
}

/// Which current shares `custody reseal` seals again under today's keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reseal {
    /// Those whose data key this KMS key (ARN) wrapped: a key being retired.
    UnderKey(String),
    /// Those without a wrap under the escrow key this stack is configured with.
    WithoutEscrowWrap,
}

/// What `custody reseal` did to one current share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum Resealed {
    /// Sealed again as the new version `version`; `from` is in history, as it was.
    Resealed { from: u64, version: u64 },
    /// Not one the operator asked for.
    NotSelected,
    /// Already wrapped by today's keys: left as it is.
    AlreadySealed,
    /// Portal stored a new share meanwhile, under today's keys: left as it is.
    ChangedMeanwhile,
}

/// Who is acting, through what, and why: what an audit record keeps.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The caller's IAM ARN (STS `GetCallerIdentity`, or API Gateway's SigV4 identity).
    pub arn: String,
    pub via: Via,
    pub reason: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Cli,
    EjectEndpoint,
    /// The scheduled reconcile function.
    Reconcile,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Export,
    Restore,
    Reseal,
    /// `reconcile --retire`: a pair's share a newer completed pair supersedes, moved to history.
    Retire,
    /// `client-owners`: a client share moved from its bare owner to the one naming its variant.
    MoveOwner,
    /// `import`: one record a run, in the imports' own trail (not a share's).
    Import,
}

/// One audit record, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// The sort key: nanoseconds since 1970, by the writer's clock (never used to order).
    pub recorded_at: String,
    /// Its place in the share's trail; absent on records written before 0.4.0, which come first.
    pub sequence: Option<u64>,
    /// This record's digest (with a sequence, its MAC under the audit key), and the one it chains
    /// to (absent: written before the chain).
    pub digest: String,
    pub previous_digest: Option<String>,
    pub at: String,
    pub action: String,
    pub actor: String,
    pub via: String,
    pub share_version: u64,
    pub share_sha256: String,
    pub reason: Option<String>,
}

/// Which kept share a restore brings back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kept {
    Version(u64),
    /// The newest kept version whose `backupSharePairId` is this.
    PairId(String),
}

/// What the operator saw current when deciding to restore: a restore refuses to displace
/// anything else (a newer good share Portal sent meanwhile, say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectCurrent {
    Version(u64),
    /// No current share (its row was deleted).
    Nothing,
    /// `--force`: whatever is current.
    Anything,
}

#[derive(Debug, thiserror::Error)]
pub enum CustodyError {
    #[error("no share is stored for this clientId")]
    UnknownClient,
    #[error("this clientId has no share for this backupMethod")]
    UnknownBackupMethod,
    #[error(
        "version {0} of this share is neither current nor kept in history (with pruning on, history keeps a replaced share for HISTORY_RETENTION_DAYS once five newer versions are kept)"
    )]
    UnknownVersion(u64),
    #[error("no kept version of this share has that backupSharePairId")]
    UnknownPairId,
    #[error(
        "the current share is {found}, not {expected} as expected: it changed since you looked; run `history` again"
    )]
    CurrentChanged { expected: String, found: String },
    #[error(
        "the audit record recorded at {recorded_at} does not follow from an earlier record of this share: a record was rewritten or removed"
    )]
    AuditChainBroken { recorded_at: String },
    #[error(
        "the escrow key did not wrap the share (refused or too slow; an operator needs the escrow key's policy to allow kms:Encrypt); nothing was written"
    )]
    EscrowWrapFailed,
    #[error("only a pair's own share can be retired, never a method's pair-less one")]
    NotRetirable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CustodyError {
    /// A stable code for scripts and JSON bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownClient => "unknown_client",
            Self::UnknownBackupMethod => "unknown_backup_method",
            Self::UnknownVersion(_) => "unknown_version",
            Self::UnknownPairId => "unknown_pair_id",
            Self::CurrentChanged { .. } => "current_changed",
            Self::AuditChainBroken { .. } => "audit_chain_broken",
            Self::EscrowWrapFailed => "escrow_wrap_failed",
            Self::NotRetirable => "not_retirable",
            Self::Store(error) if error.is_integrity_failure() => "stored_share_unreadable",
            Self::Store(_) => "storage_unavailable",
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Self::UnknownClient
                | Self::UnknownBackupMethod
                | Self::UnknownVersion(_)
                | Self::UnknownPairId
        )
    }
}

impl ExpectCurrent {
    /// `found`: the version current now, if any.
    pub fn check(self, found: Option<u64>) -> Result<(), CustodyError> {
        let as_expected = match self {
            Self::Anything => true,
            Self::Nothing => found.is_none(),
            Self::Version(version) => found == Some(version),
        };
        let describe = |version: Option<u64>| {
            version.map_or_else(
                || "no share".to_owned(),
                |version| format!("version {version}"),
            )
        };
        if as_expected {
            return Ok(());
        }
        let expected = match self {
            Self::Version(version) => Some(version),
            _ => None,
        };
        Err(CustodyError::CurrentChanged {
            expected: describe(expected),
            found: describe(found),
        })
    }
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cli => "cli",
            Self::EjectEndpoint => "eject-endpoint",
            Self::Reconcile => "reconcile-function",
        }
    }
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Export => "export",
            Self::Restore => "restore",
            Self::Reseal => "reseal",
            Self::Retire => "retire",
            Self::MoveOwner => "move-owner",
            Self::Import => "import",
        }
    }
}
