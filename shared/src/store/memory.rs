//! An in-memory store for handler unit tests only. Storage behaviour is proven against DynamoDB
//! Local in `tests/`, never here.

use super::{ShareExporter, ShareLookup, ShareReader, ShareWriter};
use crate::domain::custody::{Actor, CustodyError, Exported, ShareRecord};
use crate::domain::{
    Backup, BackupMethod, BackupSharePairId, ClientId, ClientShares, CurrentShare, Owner, Share,
    StoreError, Stored, Wanted,
};
use std::collections::BTreeMap;
use std::sync::Mutex;

type Slot = (ClientId, BackupMethod, Option<BackupSharePairId>);

fn slot(owner: Owner<'_>) -> Slot {
    (
        owner.client_id.clone(),
        owner.backup_method.clone(),
        owner.backup_share_pair_id.cloned(),
    )
}

#[derive(Default)]
pub struct MemoryStore {
    /// Each current share by its slot, with its version.
    current: Mutex<BTreeMap<Slot, (String, u64)>>,
    pub history: Mutex<Vec<String>>,
    /// `(actor ARN, backupMethod, version)` of every export, in order.
    pub exports: Mutex<Vec<(String, String, u64)>>,
    /// When set, every call fails as if DynamoDB were down.
    pub unavailable: bool,
    /// Shares every fetch reports as failing their integrity check, besides the ones stored.
    pub unreadable: usize,
}

impl MemoryStore {
    pub fn unavailable() -> Self {
        Self {
            unavailable: true,
            ..Self::default()
        }
    }

    /// A store whose fetches also report `shares` unreadable ones.
    pub fn with_unreadable(shares: usize) -> Self {
        Self {
            unreadable: shares,
            ..Self::default()
        }
    }

    fn check(&self, operation: &'static str) -> Result<(), StoreError> {
        match self.unavailable {
            true => Err(StoreError::Unavailable {
                operation,
                detail: "dispatch failure".into(),
            }),
            false => Ok(()),
        }
    }

    fn exported(&self, owner: Owner<'_>, actor: &Actor) -> Result<Exported, CustodyError> {
        self.check("GetItem")?;
        let current = self.current.lock().expect("test store lock");
        let Some((share, version)) = current.get(&slot(owner)) else {
            let known = current.keys().any(|(client, ..)| client == owner.client_id);
            return Err(match known {
                true => CustodyError::UnknownBackupMethod,
                false => CustodyError::UnknownClient,
            });
        };
        let method = owner.backup_method.to_string();
        let audit = (actor.arn.clone(), method.clone(), *version);
        self.exports.lock().expect("test store lock").push(audit);
        let share = Share::from(share.clone());
        let record = record(&slot(owner), *version, &share);
        Ok(Exported { record, share })
    }
}

/// The record of a current share as this store keeps it (the version stands in for the time).
fn record((_, backup_method, pair_id): &Slot, version: u64, share: &Share) -> ShareRecord {
    ShareRecord {
        backup_method: backup_method.to_string(),
        version,
        current: true,
        stored_at: Some(format!("{version:020}")),
        replaced_at: None,
        expires_at: None,
        archived_from: None,
        share_sha256: share.sha256_hex(),
        share_bytes: share.len() as u64,
        backup_share_pair_id: pair_id.as_ref().map(ToString::to_string),
        in_pair_slot: pair_id.is_some(),
        restored_from: None,
    }
}

impl ShareLookup for MemoryStore {
    async fn find_share(
        &self,
        client_id: &ClientId,
        wanted: Wanted<'_>,
    ) -> Result<Option<(ShareRecord, Share)>, StoreError> {
        self.check("Query")?;
        let current = self.current.lock().expect("test store lock");
        let of_client: Vec<_> = current
            .iter()
            .filter(|((client, ..), _)| client == client_id)
            .collect();
        let records: Vec<ShareRecord> = of_client
            .iter()
            .map(|(slot, (share, version))| record(slot, *version, &Share::from(share.clone())))
            .collect();
        Ok(wanted.choose(&records).map(|chosen| {
            let share = Share::from(of_client[chosen].1.0.clone());
            (records[chosen].clone(), share)
        }))
    }

    async fn current_records(&self, client_id: &ClientId) -> Result<Vec<ShareRecord>, StoreError> {
        self.check("Query")?;
        let current = self.current.lock().expect("test store lock");
        let of_client = current
            .iter()
            .filter(|((client, ..), _)| client == client_id);
        let records = of_client
            .map(|(slot, (share, version))| record(slot, *version, &Share::from(share.clone())));
        Ok(records.collect())
    }
}

impl ShareWriter for MemoryStore {
    async fn put_share(&self, backup: &Backup) -> Result<Stored, StoreError> {
        self.check("PutItem")?;
        let key = slot(Owner::of(backup));
        let new = backup.share.expose_secret().to_owned();
        let mut current = self.current.lock().expect("test store lock");
        match current.get(&key).cloned() {
            None => {
                current.insert(key, (new, 1));
                Ok(Stored::Created)
            }
            Some((old, _)) if old == new => Ok(Stored::Unchanged),
            Some((old, version)) => {
                self.history.lock().expect("test store lock").push(old);
                current.insert(key, (new, version + 1));
                Ok(Stored::Replaced)
            }
        }
    }
}

impl ShareReader for MemoryStore {
    async fn current_shares(&self, client_id: &ClientId) -> Result<ClientShares, StoreError> {
        self.check("Query")?;
        let current = self.current.lock().expect("test store lock");
        let shares = current
            .iter()
            .filter(|((client, ..), _)| client == client_id)
            .map(|((_, method, _), (share, _))| CurrentShare {
                backup_method: method.clone(),
                share: Share::from(share.clone()),
            })
            .collect();
        ClientShares::served(shares, self.unreadable, 0, None)
    }
}

impl ShareExporter for MemoryStore {
    async fn export(
        &self,
        owner: Owner<'_>,
        version: Option<u64>,
        actor: &Actor,
    ) -> Result<Exported, CustodyError> {
        let exported = self.exported(owner, actor)?;
        match version {
            Some(version) if version != exported.record.version => {
                Err(CustodyError::UnknownVersion(version))
            }
            _ => Ok(exported),
        }
    }

    async fn export_wanted(
        &self,
        client_id: &ClientId,
        wanted: Wanted<'_>,
        actor: &Actor,
    ) -> Result<Exported, CustodyError> {
        let chosen = self.find_share(client_id, wanted).await?;
        let Some((record, _)) = chosen else {
            return Err(match self.current_records(client_id).await?.is_empty() {
                true => CustodyError::UnknownClient,
                false => CustodyError::UnknownBackupMethod,
            });
        };
        let method = BackupMethod::parse(&record.backup_method).expect("a stored method");
        let pair = record
            .backup_share_pair_id
            .map(|pair| BackupSharePairId::parse(&pair).expect("a stored pair id"));
        self.exported(Owner::new(client_id, &method, pair.as_ref()), actor)
    }

    async fn export_client(
        &self,
        client_id: &ClientId,
        actor: &Actor,
    ) -> Result<Vec<Exported>, CustodyError> {
        let slots: Vec<Slot> = {
            let current = self.current.lock().expect("test store lock");
            let of_client = current.keys().filter(|(client, ..)| client == client_id);
            of_client.cloned().collect()
        };
        if slots.is_empty() {
            return Err(CustodyError::UnknownClient);
        }
        let owners = slots
            .iter()
            .map(|(client, method, pair)| Owner::new(client, method, pair.as_ref()));
        owners.map(|owner| self.exported(owner, actor)).collect()
    }
}
