//! The operator's jobs on the tables, for the `custody` CLI and the eject function: list, history,
//! restore, export. None of them deletes anything, and only export opens a share.
//!
//! Export and restore first write an audit record (who, when, which version, through what) to
//! the audit table, which the internet-facing functions cannot write, and stop if it cannot be
//! written: no share leaves and nothing changes without a record. Records are only ever added.

use super::calls::{Order, RETRY, unavailable};
use super::item::{
    Item, StoredShare, client_and_slot, owner_value, restored_item, share_record, slot_of, string,
    text, whole,
};
use super::row::{Current, readable_or_named};
use super::slot::Slot;
use super::write::Pruning;
use super::{DynamoDbStore, schema};
use crate::domain::custody::{
    Action, Actor, AuditRecord, CustodyError, ExpectCurrent, Exported, Kept, Restored, Retired,
    ShareRecord,
};
use crate::domain::{ClientId, Owner, StoreError, Wanted};
use crate::store::{Custody, ShareExporter};

impl ShareExporter for DynamoDbStore {
    async fn export(
        &self,
        owner: Owner<'_>,
        version: Option<u64>,
        actor: &Actor,
    ) -> Result<Exported, CustodyError> {
        let (item, current) = self.find(owner, version).await?;
        self.export_item(owner, &item, current, actor).await
    }

    async fn export_wanted(
        &self,
        client_id: &ClientId,
        wanted: Wanted<'_>,
        actor: &Actor,
    ) -> Result<Exported, CustodyError> {
        let items = self.current_items(client_id).await?;
        let records = items
            .iter()
            .map(|item| share_record(item, true))
            .collect::<Result<Vec<_>, _>>()?;
        let chosen = wanted
            .choose(&records)
            .ok_or(CustodyError::UnknownBackupMethod)?;
        let slot = slot_of(&items[chosen])?;
        self.export_item(slot.owner(client_id), &items[chosen], true, actor)
            .await
    }

    async fn export_client(
        &self,
        client_id: &ClientId,
        actor: &Actor,
    ) -> Result<Vec<Exported>, CustodyError> {
        let mut exported = Vec::new();
        for item in self.current_items(client_id).await? {
            let slot = slot_of(&item)?;
            exported.push(
                self.export_item(slot.owner(client_id), &item, true, actor)
                    .await?,
            );
        }
        Ok(exported)
    }
}

impl Custody for DynamoDbStore {
    async fn list(&self, client_id: &ClientId) -> Result<Vec<ShareRecord>, CustodyError> {
        let items = self.current_items(client_id).await?;
        let records = items.iter().map(|item| share_record(item, true));
        Ok(records.collect::<Result<_, _>>()?)
    }

    async fn history(&self, owner: Owner<'_>) -> Result<Vec<ShareRecord>, CustodyError> {
        let current = self.read_current(owner).await?;
        let kept = self.kept_items(owner).await?;
        if current.is_none() && kept.is_empty() {
            return Err(self.unknown(owner).await);
        }
        let current = current.map(|current| share_record(&current.item, true));
        // A row set aside unreadable is kept as it was, for a person to look at; it has no record.
        let kept = kept
            .iter()
            .filter(|item| readable_or_named(item))
            .map(|item| share_record(item, false));
        Ok(current.into_iter().chain(kept).collect::<Result<_, _>>()?)
    }

    /// Running it twice changes nothing the second time.
    async fn restore(
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
        let record = share_record(&target, is_current)?;
        if is_current {
            return Ok(Restored::AlreadyCurrent {
                version: record.version,
            });
        }
        let mut audited = false;
        let mut rounds = RETRY.rounds();
        loop {
            rounds.next().await?;
            // An unreadable current row is set aside, as `/backup` does, never in the way.
            let current = self.read_row(owner).await?;
            expect.check(
                current
                    .as_ref()
                    .map(|current| current.version().unwrap_or(0)),
            )?;
            if let Some(Current::Share(current)) = &current
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
                Some(old) => self.replace(owner, promoted, old, Pruning::Apply).await?,
            };
            if let Some(version) = written {
                return Ok(Restored::Restored {
                    from: record.version,
                    version,
                });
            }
        }
    }

    async fn retire(
        &self,
        owner: Owner<'_>,
        version: u64,
        actor: &Actor,
    ) -> Result<Retired, CustodyError> {
        self.retire_share(owner, version, actor).await
    }

    async fn audit_trail(&self, owner: Owner<'_>) -> Result<Vec<AuditRecord>, CustodyError> {
        self.verified_audit_trail(owner).await
    }
}

impl DynamoDbStore {
    /// A current item of the shares table (`dump_page`'s), exported as `export` exports one:
    /// audited first. With the client it belongs to and its slot, for `export-all`.
    pub async fn export_current(
        &self,
        item: &Item,
        actor: &Actor,
    ) -> Result<(ClientId, Slot, Exported), CustodyError> {
        let (client_id, slot) = client_and_slot(item)?;
        let exported = self
            .export_item(slot.owner(&client_id), item, true, actor)
            .await?;
        Ok((client_id, slot, exported))
    }

    async fn export_item(
        &self,
        owner: Owner<'_>,
        item: &Item,
        current: bool,
        actor: &Actor,
    ) -> Result<Exported, CustodyError> {
        let record = share_record(item, current)?;
        let stored = StoredShare::from_item(item)?;
        self.audit(owner, Action::Export, actor, &record).await?;
        let share = self
            .share_key
            .open(owner, &stored.sealed)
            .await
            .map_err(StoreError::from)?;
        // AES-GCM already authenticated it; the hash ties it to the record printed with it.
        if share.sha256_hex() != record.share_sha256 {
            return Err(StoreError::Corrupt(schema::SHARE_SHA256).into());
        }
        Ok(Exported { record, share })
    }

    /// Every current item of a client; `UnknownClient` when there is none.
    async fn current_items(&self, client_id: &ClientId) -> Result<Vec<Item>, CustodyError> {
        let partition = (schema::CLIENT_ID, text(client_id.as_str()));
        let items = self
            .query_all(&self.tables.shares, partition, Order::OldestFirst, &[])
            .await?;
        if items.is_empty() {
            return Err(CustodyError::UnknownClient);
        }
        Ok(items)
    }

    /// Every version of one share kept in history, newest first.
    pub(super) async fn kept_items(&self, owner: Owner<'_>) -> Result<Vec<Item>, StoreError> {
        let partition = (schema::OWNER, owner_value(owner));
        self.query_all(&self.tables.history, partition, Order::NewestFirst, &[])
            .await
    }

    /// The current item (`version` `None`) or the given version, and whether it is current.
    async fn find(
        &self,
        owner: Owner<'_>,
        version: Option<u64>,
    ) -> Result<(Item, bool), CustodyError> {
        let current = self.read_current(owner).await?;
        let (has_current, version) = match (current, version) {
            (Some(current), None) => return Ok((current.item, true)),
            (Some(current), Some(version)) if current.version == version => {
                return Ok((current.item, true));
            }
            (None, None) => return Err(self.unknown(owner).await),
            (current, Some(version)) => (current.is_some(), version),
        };
        let kept = self
            .client
            .get_item()
            .table_name(&self.tables.history)
            .key(schema::OWNER, owner_value(owner))
            .key(schema::VERSION, whole(version))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| unavailable("GetItem", &error))?;
        match kept.item {
            Some(item) => Ok((item, false)),
            None if has_current || self.newest_kept_version(owner).await?.is_some() => {
                Err(CustodyError::UnknownVersion(version))
            }
            None => Err(self.unknown(owner).await),
        }
    }

    /// The current item if its `backupSharePairId` is `pair_id`, else the newest kept one that
    /// has it; and whether it is current.
    pub(super) async fn find_pair(
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
        let client = text(owner.client_id.as_str());
        let any = self.query(&self.tables.shares, schema::CLIENT_ID, client);
        match any.limit(1).send().await {
            Ok(page) if page.count() > 0 => CustodyError::UnknownBackupMethod,
            Ok(_) => CustodyError::UnknownClient,
            Err(error) => unavailable("Query", &error).into(),
        }
    }
}
