//! `/backup`'s write: one current share per (clientId, backupMethod, backupSharePairId), every
//! replaced one kept.
//!
//! A replacement first copies the old share into history, keyed by its version, and only then
//! makes the new one current, on condition that the version read is still current. So neither a
//! crash nor a concurrent writer can lose a share. Nothing here deletes an item; with pruning
//! opted into, a version only gets an expiry by the rules in `prune`.

use super::calls::{Condition, Put, RETRY};
use super::item::{Item, current_item, history_item, text, whole, with_version};
use super::row::{Current, CurrentItem, UnreadableItem};
use super::{DynamoDbStore, schema};
use crate::domain::{Backup, Owner, StoreError, Stored};
use crate::store::ShareWriter;

/// Whether a replacement may give the version it pushes out of the newest five an expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pruning {
    Apply,
    /// The replaced share is the same share sealed again (`custody reseal`): its copy in history
    /// must not push a different kept version towards expiry.
    Skip,
}

impl ShareWriter for DynamoDbStore {
    async fn put_share(&self, backup: &Backup) -> Result<Stored, StoreError> {
        let sha256 = backup.share.sha256_hex();
        let owner = Owner::of(backup);
        // Sealing needs KMS and reading needs DynamoDB: they overlap, so a new share costs one
        // round trip before its put, as its raw twin.
        let (first_read, sealed) = tokio::try_join!(self.read_row(owner), async {
            Ok(self.share_key.seal(owner, &backup.share).await?)
        })?;
        let mut first_read = Some(first_read);
        let mut rounds = RETRY.rounds();
        loop {
            rounds.next().await?;
            let found = match first_read.take() {
                Some(found) => found,
                None => self.read_row(owner).await?,
            };
            let promoted = current_item(backup, &sealed);
            let written = match found {
                // A new slot starts at version 1 without reading history: with pairs almost every
                // backup is one. Where history already holds versions (the row was retired,
                // deleted by hand or restored from a backup), the first replacement finds its
                // version taken and keeps the share above every kept one instead (`archive`):
                // nothing kept is overwritten either way.
                None => self
                    .create_above(promoted, None)
                    .await?
                    .map(|_| Stored::Created),
                // The same share. Under an earlier key (a key move, a load from another stack)
                // or without today's escrow wrap it is sealed again, the old copy kept in
                // history, so that an earlier key can be dropped from AcceptedShareKeyArns and
                // every share gains the escrow wrap.
                Some(Current::Share(current))
                    if current.share.sha256 == sha256
                        && !current.share.sealed.needs_sealing_again(&sealed) =>
                {
                    Some(Stored::Unchanged)
                }
                // A row that does not read never costs Portal's share: it goes to history as it
                // is (logged and counted by the answer), and the new share becomes current.
                Some(unreadable @ Current::Unreadable(UnreadableItem { cause, .. })) => {
                    tracing::warn!(
                        unreadable = cause,
                        "the current row does not read as a share: set aside in history"
                    );
                    self.replace(owner, promoted, unreadable, Pruning::Apply)
                        .await?
                        .map(|_| Stored::ReplacedUnreadable)
                }
                Some(current) => self
                    .replace(owner, promoted, current, Pruning::Apply)
                    .await?
                    .map(|_| Stored::Replaced),
            };
            if let Some(stored) = written {
                return Ok(stored);
            }
        }
    }
}

impl DynamoDbStore {
    /// Creates the current item of an empty key, above every version kept in history (an
    /// operator's restore or merge: the share it brings back becomes the newest version); the
    /// new version, or `None` if another writer created it first.
    pub(super) async fn create(
        &self,
        owner: Owner<'_>,
        item: Item,
    ) -> Result<Option<u64>, StoreError> {
        let newest_kept = self.newest_kept_version(owner).await?;
        self.create_above(item, newest_kept).await
    }

    /// Creates the current item of an empty key above `newest_kept` (version 1 without).
    async fn create_above(
        &self,
        item: Item,
        newest_kept: Option<u64>,
    ) -> Result<Option<u64>, StoreError> {
        let version = newest_kept.unwrap_or(0) + 1;
        let item = with_version(item, version);
        let shares = &self.tables.shares;
        let put = self.put_if(shares, schema::CLIENT_ID, item, Condition::Absent);
        Ok((put.await? == Put::Written).then_some(version))
    }

    /// Moves `old` to history, then makes `promoted` (a current item without its version) current
    /// if `old` still is. The new version, or `None` if another writer changed the key first. An
    /// unreadable `old` is set aside as it is, under the same guarantee.
    ///
    /// The order is the guarantee: the old share is durable in history before the conditional
    /// put can replace it, so a crash between the two leaves a copy of a still-current share and
    /// a lost race leaves the same item written twice, never a share lost. (Two single-item
    /// writes rather than one transaction: a losing transaction is slow, a losing put is not.)
    pub(super) async fn replace(
        &self,
        owner: Owner<'_>,
        promoted: Item,
        old: Current,
        pruning: Pruning,
    ) -> Result<Option<u64>, StoreError> {
        let read_version = old.version().unwrap_or(0);
        let still_current = old.still_current();
        let archived = match old {
            Current::Share(old) => self.archive(owner, old).await?,
            Current::Unreadable(old) => self.set_aside(owner, old).await?,
        };
        // Above the archived copy, so the next replacement finds its version free in history.
        let next = archived
            .max(read_version)
            .checked_add(1)
            .ok_or(StoreError::Corrupt(schema::VERSION))?;
        let promoted = with_version(promoted, next);
        let shares = &self.tables.shares;
        let put = self.put_if(shares, schema::CLIENT_ID, promoted, still_current);
        if put.await? != Put::Written {
            return Ok(None);
        }
        if pruning == Pruning::Apply {
            self.prune_below(owner, archived).await;
        }
        Ok(Some(next))
    }

    /// Copies a current item into history under its version; the version it was kept under.
    ///
    /// A version already in history with the same share is the same copy written again (a lost
    /// race, a retry). One with a different share means the version was reused (a current row
    /// deleted by hand, or restored from a backup): the copy goes above every kept version
    /// instead, marked with the version it had, and nothing kept is overwritten.
    pub(super) async fn archive(
        &self,
        owner: Owner<'_>,
        old: CurrentItem,
    ) -> Result<u64, StoreError> {
        let item = history_item(owner, old.item);
        let same_or_free = Condition::AbsentOrSameShare(old.share.sha256);
        self.keep_in_history(owner, item, old.version, same_or_free, Some(old.version))
            .await
    }

    /// Copies an unreadable current item into history exactly as it is, marked with the attribute
    /// it failed on, under its own version if free, else above every kept one; the version it was
    /// kept under. Nothing kept is overwritten; a retry after a lost race may keep it twice.
    async fn set_aside(&self, owner: Owner<'_>, old: UnreadableItem) -> Result<u64, StoreError> {
        let mut item = history_item(owner, old.item);
        item.insert(schema::SET_ASIDE_UNREADABLE.into(), text(old.cause));
        let version = match old.version {
            Some(version) => version,
            None => self.newest_kept_version(owner).await?.unwrap_or(0) + 1,
        };
        self.keep_in_history(owner, item, version, Condition::Absent, old.version)
            .await
    }

    /// Puts the history item `item` of `owner` under `version` where `free` lets it, else above
    /// every kept version, marked `archivedFrom` `from`; the version it was kept under. A put a
    /// transaction held is tried again under the same version. Archive, set-aside and merge all
    /// keep a share this way, so nothing kept is ever overwritten.
    pub(super) async fn keep_in_history(
        &self,
        owner: Owner<'_>,
        mut item: Item,
        version: u64,
        free: Condition,
        from: Option<u64>,
    ) -> Result<u64, StoreError> {
        let mut at = version;
        let mut rounds = RETRY.rounds();
        loop {
            rounds.next().await?;
            let copy = with_version(item.clone(), at);
            match self
                .put_if(&self.tables.history, schema::OWNER, copy, free.clone())
                .await?
            {
                Put::Written => return Ok(at),
                Put::Conflicted => {}
                Put::ConditionFailed => {
                    if let Some(from) = from {
                        item.insert(schema::ARCHIVED_FROM.into(), whole(from));
                    }
                    at = self.newest_kept_version(owner).await?.unwrap_or(0) + 1;
                }
            }
        }
    }
}
