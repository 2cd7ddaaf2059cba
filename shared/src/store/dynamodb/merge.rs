//! `custody load --merge`: a dump of a damaged table merged into the tables the stack serves now
//! (restored from point-in-time recovery or AWS Backup), so that no share acknowledged after the
//! restore point is left behind in the damaged copy.
//!
//! A dumped current share becomes current only if Portal stored it later than what is current
//! (which then goes to history, as any replacement does); otherwise it goes to history itself.
//! "Later" is by each share's `storedAt`, the time its write was acknowledged, with the SHA-256 as
//! the tie-break: never by version numbers, which the damaged and the restored tables each count
//! on their own after the restore point. History and audit items go in where their key is free; a history version taken by a
//! different share puts the dumped one above every kept version, marked with the version it had
//! (`archivedFrom`), as a replacement does. Nothing is overwritten, nothing is left out, and a
//! merge run twice changes nothing the second time.

use super::calls::{Condition, Order, Put, RETRY};
use super::item::{
    Item, StoredShare, client_and_slot, history_item, number, owner_value, string, text,
};
use super::portable::{Loaded, TableRole};
use super::write::Pruning;
use super::{DynamoDbStore, schema};
use crate::domain::{Owner, StoreError};
use std::time::SystemTime;

/// When Portal's write of an item's share was acknowledged (a reseal keeps it; a restore is an
/// operator's write of its own), then its SHA-256: a total order the same on every run, so two
/// merges never disagree. An item without a readable `storedAt` (none was ever written without
/// one) sorts first.
fn acknowledged(item: &Item) -> (Option<SystemTime>, &str) {
    let stored_at = string(item, schema::STORED_AT)
        .ok()
        .and_then(|text| humantime::parse_rfc3339_weak(text).ok());
    (stored_at, string(item, schema::SHARE_SHA256).unwrap_or(""))
}

/// An item less where history keeps it (its version, and the one it had if moved).
fn without_place(item: &Item) -> Item {
    let mut item = item.clone();
    item.remove(schema::VERSION);
    item.remove(schema::ARCHIVED_FROM);
    item.remove(schema::REPLACED_AT);
    item
}

/// What merging one item did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merged {
    /// A dumped current share newer than the current one: now current, the other in history.
    Current,
    /// Kept in history (a dumped history item, or a current share older than the current one).
    History,
    /// An audit record added.
    Audit,
    /// Already there, current or kept (a merge run again).
    AlreadyThere,
    /// An audit record whose key holds a different record: left as it is, and reported.
    Different,
}

impl DynamoDbStore {
    pub async fn merge_item(&self, role: TableRole, item: &Item) -> Result<Merged, StoreError> {
        if role == TableRole::Audit
            && number(item, schema::RECORDED_AT)? == schema::HEAD_RECORDED_AT
        {
            return self.merge_audit_head(item).await;
        }
        if role == TableRole::Audit {
            return Ok(match self.load_item(role, item).await? {
                Loaded::Written => Merged::Audit,
                Loaded::AlreadyThere => Merged::AlreadyThere,
                Loaded::Different => Merged::Different,
            });
        }
        let (client_id, slot) = client_and_slot(item)?;
        let owner = slot.owner(&client_id);
        let version = number(item, schema::VERSION)?;
        let Ok(dumped) = StoredShare::from_item(item) else {
            // A row that does not read (one set aside, or damaged): kept as it is, never current.
            let mut kept = item.clone();
            if role == TableRole::Shares {
                kept = history_item(owner, kept);
                kept.insert(schema::SET_ASIDE_UNREADABLE.into(), text("merge"));
            }
            return self.keep(owner, kept, None, version).await;
        };
        if role == TableRole::History {
            return self
                .keep(owner, item.clone(), Some(&dumped.sha256), version)
                .await;
        }
        let mut rounds = RETRY.rounds();
        loop {
            rounds.next().await?;
            let mut promoted = item.clone();
            promoted.remove(schema::VERSION);
            let written = match self.read_current(owner).await? {
                Some(current) if current.share.sha256 == dumped.sha256 => {
                    return Ok(Merged::AlreadyThere);
                }
                None => self.create(owner, promoted).await?,
                // Stored later by Portal: it becomes current, the other goes to history.
                Some(current) if acknowledged(item) > acknowledged(&current.item) => {
                    self.replace(owner, promoted, current.into(), Pruning::Apply)
                        .await?
                }
                Some(_) => {
                    let kept = history_item(owner, item.clone());
                    return self.keep(owner, kept, Some(&dumped.sha256), version).await;
                }
            };
            if written.is_some() {
                return Ok(Merged::Current);
            }
        }
    }

    /// An audit head goes in where none is, or over one with a lower sequence: the merged trail
    /// then ends where the longer one did. A head already as far or further is left as it is
    /// (records written to both copies after the restore point fork the trail, and `custody
    /// audit` names the fork: docs/recovery.md).
    async fn merge_audit_head(&self, item: &Item) -> Result<Merged, StoreError> {
        let sequence = number(item, schema::SEQUENCE)?;
        let behind = Condition::AbsentOrSequenceBelow(sequence);
        let table = &self.tables.audit;
        match self
            .put_if(table, schema::OWNER, item.clone(), behind)
            .await?
        {
            Put::Written => Ok(Merged::Audit),
            Put::ConditionFailed => Ok(Merged::AlreadyThere),
            Put::Conflicted => Ok(Merged::Different),
        }
    }

    /// Puts a history item of `owner` under `version` where it is free, else above every kept
    /// version, marked `archivedFrom`; nothing if history already holds this share (`sha256`)
    /// from there, or, for a row that does not read (`None`), this very item.
    async fn keep(
        &self,
        owner: Owner<'_>,
        item: Item,
        sha256: Option<&str>,
        version: u64,
    ) -> Result<Merged, StoreError> {
        let partition = (schema::OWNER, owner_value(owner));
        let kept = self
            .query_all(&self.tables.history, partition, Order::OldestFirst, &[])
            .await?;
        let from =
            |kept: &Item| number(kept, schema::ARCHIVED_FROM).or(number(kept, schema::VERSION));
        let origin = from(&item)?;
        let same = |kept: &Item| match sha256 {
            Some(sha256) => {
                string(kept, schema::SHARE_SHA256).ok() == Some(sha256)
                    && from(kept).ok() == Some(origin)
            }
            None => without_place(kept) == without_place(&item),
        };
        if kept.iter().any(same) {
            return Ok(Merged::AlreadyThere);
        }
        // An item that already says where it came from keeps that, exactly as it was.
        let mark = (!item.contains_key(schema::ARCHIVED_FROM)).then_some(origin);
        self.keep_in_history(owner, item, version, Condition::Absent, mark)
            .await?;
        Ok(Merged::History)
    }
}
