//! The operator's jobs on stored shares, for the `custodian` CLI and the eject function: list a
//! client's shares, show one share's history, restore a kept version, export a share for
//! Portal's eject. None of them deletes anything, and only export opens a share.
//!
//! Export and restore first write an audit record (who, when, which version, through what) to
//! the audit table, which the internet-facing functions cannot write, and stop if it cannot be
//! written: no share leaves and nothing changes without a record. Records are only ever added.

use super::{
    DynamoDbStore, Item, StoredShare, key, now_rfc3339, number, schema, share_key, string,
    unavailable,
};
use crate::envelope::Owner;
use crate::portal::{BackupMethod, ClientId, Share};
use crate::store::StoreError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A restore that keeps meeting a concurrent `/backup` gives up after this many rounds.
const MAX_RESTORE_ATTEMPTS: u32 = 8;

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
    /// The version an operator restored this one from.
    pub restored_from: Option<u64>,
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Export,
    Restore,
}

/// One audit record, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
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
    fn check(self, found: Option<u64>) -> Result<(), CustodyError> {
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
        }
    }
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Export => "export",
            Self::Restore => "restore",
        }
    }
}

impl DynamoDbStore {
    /// Every current share of a client, by backupMethod.
    pub async fn list(&self, client_id: &ClientId) -> Result<Vec<ShareRecord>, CustodyError> {
        let items = self.current_items(client_id).await?;
        Ok(items
            .iter()
            .map(|item| ShareRecord::from_item(item, true))
            .collect::<Result<_, _>>()?)
    }

    /// Every version of one share, newest (the current one) first.
    pub async fn history(&self, owner: Owner<'_>) -> Result<Vec<ShareRecord>, CustodyError> {
        let current = self.read_current(owner).await?;
        let kept = self.kept_items(owner).await?;
        if current.is_none() && kept.is_empty() {
            return Err(self.unknown(owner).await);
        }
        let current = current.map(|current| ShareRecord::from_item(&current.item, true));
        let kept = kept.iter().map(|item| ShareRecord::from_item(item, false));
        Ok(current.into_iter().chain(kept).collect::<Result<_, _>>()?)
    }

    /// Makes a kept share current again, if what is current is still what the operator
    /// `expect`s. The share it replaces goes to history first, as with any replacement, so
    /// nothing is lost; running it twice changes nothing the second time.
    pub async fn restore(
        &self,
        owner: Owner<'_>,
        kept: &Kept,
        expect: ExpectCurrent,
        actor: &Actor,
    ) -> Result<Restored, CustodyError> {
        let (target, is_current) = match kept {
            Kept::Version(version) => self.find(owner, Some(*version)).await?,
            Kept::PairId(pair_id) => self.find_pair(owner, pair_id).await?,
        };
        let record = ShareRecord::from_item(&target, is_current)?;
        if is_current {
            return Ok(Restored::AlreadyCurrent {
                version: record.version,
            });
        }
        let mut audited = false;
        for attempt in 0..MAX_RESTORE_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(fastrand::u64(10..=100))).await;
            }
            let current = self.read_current(owner).await?;
            expect.check(current.as_ref().map(|current| current.version))?;
            if let Some(current) = &current
                && current.share.sha256 == record.share_sha256
            {
                return Ok(Restored::AlreadyCurrent {
                    version: current.version,
                });
            }
            if !audited {
                self.audit(owner, Action::Restore, actor, &record).await?;
                audited = true;
            }
            let promoted = restored_item(owner, &target, record.version);
            let written = match current {
                None => self.create(owner, promoted).await?,
                Some(current) => self.replace(owner, promoted, current).await?,
            };
            if let Some(version) = written {
                return Ok(Restored::Restored {
                    from: record.version,
                    version,
                });
            }
        }
        Err(StoreError::Contended {
            attempts: MAX_RESTORE_ATTEMPTS,
        }
        .into())
    }

    /// Opens the current share (or `version`) for Portal's eject, after recording who asked.
    pub async fn export(
        &self,
        owner: Owner<'_>,
        version: Option<u64>,
        actor: &Actor,
    ) -> Result<Exported, CustodyError> {
        let (item, current) = self.find(owner, version).await?;
        self.export_item(owner, &item, current, actor).await
    }

    /// Opens every current share of a client (both curves, and a legacy `UNKNOWN` one), each
    /// after its own audit record.
    pub async fn export_client(
        &self,
        client_id: &ClientId,
        actor: &Actor,
    ) -> Result<Vec<Exported>, CustodyError> {
        let mut exported = Vec::new();
        for item in self.current_items(client_id).await? {
            let backup_method = BackupMethod::stored(string(&item, schema::BACKUP_METHOD)?.into());
            let owner = Owner {
                client_id,
                backup_method: &backup_method,
            };
            exported.push(self.export_item(owner, &item, true, actor).await?);
        }
        Ok(exported)
    }

    async fn export_item(
        &self,
        owner: Owner<'_>,
        item: &Item,
        current: bool,
        actor: &Actor,
    ) -> Result<Exported, CustodyError> {
        let record = ShareRecord::from_item(item, current)?;
        let stored = StoredShare::from_item(item)?;
        self.audit(owner, Action::Export, actor, &record).await?;
        let share = self
            .key
            .open(owner, &stored.sealed)
            .await
            .map_err(StoreError::from)?;
        // AES-GCM already authenticated it; the hash ties it to the record printed with it.
        if share.sha256_hex() != record.share_sha256 {
            return Err(StoreError::Corrupt(schema::SHARE_SHA256).into());
        }
        Ok(Exported { record, share })
    }

    /// Every audit record of one share, newest first.
    pub async fn audit_trail(&self, owner: Owner<'_>) -> Result<Vec<AuditRecord>, CustodyError> {
        let items = self
            .query(
                &self.tables.audit,
                schema::SHARE_KEY,
                share_key(owner),
                true,
            )
            .await?;
        Ok(items
            .iter()
            .map(AuditRecord::from_item)
            .collect::<Result<_, _>>()?)
    }

    /// Every current item of a client; `UnknownClient` when there is none.
    async fn current_items(&self, client_id: &ClientId) -> Result<Vec<Item>, CustodyError> {
        let client = AttributeValue::S(client_id.as_str().to_owned());
        let items = self
            .query(&self.tables.shares, schema::CLIENT_ID, client, false)
            .await?;
        if items.is_empty() {
            return Err(CustodyError::UnknownClient);
        }
        Ok(items)
    }

    /// Every version of one share kept in history, newest first.
    async fn kept_items(&self, owner: Owner<'_>) -> Result<Vec<Item>, StoreError> {
        self.query(
            &self.tables.history,
            schema::SHARE_KEY,
            share_key(owner),
            true,
        )
        .await
    }

    /// The current item (`version` `None`) or the given version, and whether it is current.
    async fn find(
        &self,
        owner: Owner<'_>,
        version: Option<u64>,
    ) -> Result<(Item, bool), CustodyError> {
        let current = self.read_current(owner).await?;
        match (current, version) {
            (Some(current), None) => Ok((current.item, true)),
            (Some(current), Some(version)) if current.version == version => {
                Ok((current.item, true))
            }
            (None, None) => Err(self.unknown(owner).await),
            (current, Some(version)) => {
                let kept = self
                    .client
                    .get_item()
                    .table_name(&self.tables.history)
                    .key(schema::SHARE_KEY, share_key(owner))
                    .key(schema::VERSION, AttributeValue::N(version.to_string()))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|error| unavailable("GetItem", &error))?;
                match (kept.item, current) {
                    (Some(item), _) => Ok((item, false)),
                    (None, Some(_)) => Err(CustodyError::UnknownVersion(version)),
                    (None, None) if self.newest_kept_version(owner).await?.is_some() => {
                        Err(CustodyError::UnknownVersion(version))
                    }
                    (None, None) => Err(self.unknown(owner).await),
                }
            }
        }
    }

    /// The current item if its `backupSharePairId` is `pair_id`, else the newest kept one that
    /// has it; and whether it is current.
    async fn find_pair(
        &self,
        owner: Owner<'_>,
        pair_id: &str,
    ) -> Result<(Item, bool), CustodyError> {
        let has_pair =
            |item: &Item| string(item, schema::BACKUP_SHARE_PAIR_ID).ok() == Some(pair_id);
        let current = self.read_current(owner).await?;
        if let Some(current) = &current
            && has_pair(&current.item)
        {
            return Ok((current.item.clone(), true));
        }
        let kept = self.kept_items(owner).await?;
        if current.is_none() && kept.is_empty() {
            return Err(self.unknown(owner).await);
        }
        kept.into_iter()
            .find(has_pair)
            .map(|item| (item, false))
            .ok_or(CustodyError::UnknownPairId)
    }

    /// Which of the two is unknown: the client, or only this backupMethod of it.
    async fn unknown(&self, owner: Owner<'_>) -> CustodyError {
        let any = self
            .client
            .query()
            .table_name(&self.tables.shares)
            .key_condition_expression("#clientId = :clientId")
            .expression_attribute_names("#clientId", schema::CLIENT_ID)
            .expression_attribute_values(
                ":clientId",
                AttributeValue::S(owner.client_id.as_str().to_owned()),
            )
            .limit(1)
            .consistent_read(true)
            .send()
            .await;
        match any {
            Ok(page) if page.count() > 0 => CustodyError::UnknownBackupMethod,
            Ok(_) => CustodyError::UnknownClient,
            Err(error) => unavailable("Query", &error).into(),
        }
    }

    /// Every item under one partition key, every page, strongly consistent.
    async fn query(
        &self,
        table: &str,
        key_name: &str,
        key_value: AttributeValue,
        newest_first: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(table)
                .key_condition_expression("#key = :key")
                .expression_attribute_names("#key", key_name)
                .expression_attribute_values(":key", key_value.clone())
                .scan_index_forward(!newest_first)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|error| unavailable("Query", &error))?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Adds an audit record to the audit table, never over another: its sort key is the time in
    /// nanoseconds, and a collision takes the next one.
    async fn audit(
        &self,
        owner: Owner<'_>,
        action: Action,
        actor: &Actor,
        record: &ShareRecord,
    ) -> Result<(), StoreError> {
        let text = |value: &str| AttributeValue::S(value.to_owned());
        let mut item = HashMap::from([
            (schema::SHARE_KEY.to_owned(), share_key(owner)),
            (schema::CLIENT_ID.to_owned(), text(owner.client_id.as_str())),
            (
                schema::BACKUP_METHOD.to_owned(),
                text(owner.backup_method.as_str()),
            ),
            (schema::ACTION.to_owned(), text(action.as_str())),
            (schema::ACTOR.to_owned(), text(&actor.arn)),
            (schema::VIA.to_owned(), text(actor.via.as_str())),
            (schema::AT.to_owned(), text(&now_rfc3339())),
            (
                schema::SHARE_VERSION.to_owned(),
                AttributeValue::N(record.version.to_string()),
            ),
            (schema::SHARE_SHA256.to_owned(), text(&record.share_sha256)),
        ]);
        if let Some(reason) = &actor.reason {
            item.insert(schema::REASON.to_owned(), text(reason));
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        for offset in 0..8 {
            item.insert(
                schema::RECORDED_AT.to_owned(),
                AttributeValue::N((nanos + offset).to_string()),
            );
            let written = self
                .client
                .put_item()
                .table_name(&self.tables.audit)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(#shareKey)")
                .expression_attribute_names("#shareKey", schema::SHARE_KEY)
                .send()
                .await;
            match written {
                Ok(_) => return Ok(()),
                Err(error) => match error.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(_)) => continue,
                    _ => return Err(unavailable("PutItem", &error)),
                },
            }
        }
        Err(StoreError::Contended { attempts: 8 })
    }
}

impl ShareRecord {
    /// Reads a current or history item, checking that its envelope is whole; the sealed share
    /// is dropped here, never opened.
    pub fn from_item(item: &Item, current: bool) -> Result<Self, StoreError> {
        let stored = StoredShare::from_item(item)?;
        let optional_text = |name| string(item, name).ok().map(str::to_owned);
        Ok(Self {
            backup_method: string(item, schema::BACKUP_METHOD)?.to_owned(),
            version: number(item, schema::VERSION)?,
            current,
            stored_at: optional_text(schema::STORED_AT),
            replaced_at: optional_text(schema::REPLACED_AT),
            expires_at: number(item, schema::EXPIRES_AT).ok().map(|seconds| {
                humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(seconds))
                    .to_string()
            }),
            archived_from: number(item, schema::ARCHIVED_FROM).ok(),
            share_sha256: stored.sha256,
            share_bytes: number(item, schema::SHARE_BYTES)?,
            backup_share_pair_id: optional_text(schema::BACKUP_SHARE_PAIR_ID),
            restored_from: number(item, schema::RESTORED_FROM).ok(),
        })
    }
}

impl AuditRecord {
    fn from_item(item: &Item) -> Result<Self, StoreError> {
        let text = |name| string(item, name).map(str::to_owned);
        Ok(Self {
            at: text(schema::AT)?,
            action: text(schema::ACTION)?,
            actor: text(schema::ACTOR)?,
            via: text(schema::VIA)?,
            share_version: number(item, schema::SHARE_VERSION)?,
            share_sha256: text(schema::SHARE_SHA256)?,
            reason: text(schema::REASON).ok(),
        })
    }
}

/// The kept item made current again: the same sealed share (sealed for this owner, so it opens
/// in this row), stamped with when and from which version.
fn restored_item(owner: Owner<'_>, kept: &Item, from: u64) -> Item {
    let mut item = key(owner.client_id, owner.backup_method);
    for name in [
        schema::SEALED_SHARE,
        schema::NONCE,
        schema::ENCRYPTED_DATA_KEY,
        schema::KMS_KEY_ID,
        schema::SEAL_FORMAT,
        schema::SHARE_SHA256,
        schema::SHARE_BYTES,
        schema::BACKUP_SHARE_PAIR_ID,
    ] {
        if let Some(value) = kept.get(name) {
            item.insert(name.to_owned(), value.clone());
        }
    }
    item.insert(
        schema::STORED_AT.to_owned(),
        AttributeValue::S(now_rfc3339()),
    );
    item.insert(
        schema::RESTORED_FROM.to_owned(),
        AttributeValue::N(from.to_string()),
    );
    item
}
