//! An in-memory store for handler unit tests only. Storage behaviour is proven against DynamoDB
//! Local in `tests/`, never here.

use super::{ShareExporter, ShareLookup, ShareReader, ShareWriter};
use crate::domain::custody::{Actor, CustodyError, Exported, ShareRecord};
use crate::domain::{
    Backup, BackupMethod, ClientId, ClientShares, CurrentShare, Owner, Share, StoreError, Stored,
};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryStore {
    /// Each current share, with its version.
    current: Mutex<BTreeMap<(ClientId, BackupMethod), (String, u64)>>,
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
        let key = (owner.client_id.clone(), owner.backup_method.clone());
        let Some((share, version)) = current.get(&key) else {
            let known = current.keys().any(|(client, _)| client == owner.client_id);
            return Err(match known {
                true => CustodyError::UnknownBackupMethod,
                false => CustodyError::UnknownClient,
            });
        };
        let method = owner.backup_method.to_string();
        let audit = (actor.arn.clone(), method.clone(), *version);
        self.exports.lock().expect("test store lock").push(audit);
        let share = Share::from(share.clone());
        let record = record(owner.backup_method, *version, &share);
        Ok(Exported { record, share })
    }
}

/// The record of a current share as this store keeps it (no timestamps, no pair id).
fn record(backup_method: &BackupMethod, version: u64, share: &Share) -> ShareRecord {
    ShareRecord {
        backup_method: backup_method.to_string(),
        version,
        current: true,
        stored_at: None,
        replaced_at: None,
        expires_at: None,
        archived_from: None,
        share_sha256: share.sha256_hex(),
        share_bytes: share.len() as u64,
        backup_share_pair_id: None,
        restored_from: None,
    }
}

impl ShareLookup for MemoryStore {
    async fn current_share(
        &self,
        owner: Owner<'_>,
    ) -> Result<Option<(ShareRecord, Share)>, StoreError> {
        self.check("GetItem")?;
        let current = self.current.lock().expect("test store lock");
        let key = (owner.client_id.clone(), owner.backup_method.clone());
        Ok(current.get(&key).map(|(share, version)| {
            let share = Share::from(share.clone());
            (record(owner.backup_method, *version, &share), share)
        }))
    }

    async fn current_records(&self, client_id: &ClientId) -> Result<Vec<ShareRecord>, StoreError> {
        self.check("Query")?;
        let current = self.current.lock().expect("test store lock");
        let of_client = current
            .iter()
            .filter(|((client, _), _)| client == client_id);
        let records = of_client.map(|((_, method), (share, version))| {
            record(method, *version, &Share::from(share.clone()))
        });
        Ok(records.collect())
    }
}

impl ShareWriter for MemoryStore {
    async fn put_share(&self, backup: &Backup) -> Result<Stored, StoreError> {
        self.check("PutItem")?;
        let key = (backup.client_id.clone(), backup.backup_method.clone());
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
            .filter(|((client, _), _)| client == client_id)
            .map(|((_, method), (share, _))| CurrentShare {
                backup_method: method.clone(),
                share: Share::from(share.clone()),
            })
            .collect();
        Ok(ClientShares {
            shares,
            unreadable: self.unreadable,
            unopened: 0,
        })
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

    async fn export_client(
        &self,
        client_id: &ClientId,
        actor: &Actor,
    ) -> Result<Vec<Exported>, CustodyError> {
        let methods: Vec<BackupMethod> = {
            let current = self.current.lock().expect("test store lock");
            let of_client = current.keys().filter(|(client, _)| client == client_id);
            of_client.map(|(_, method)| method.clone()).collect()
        };
        if methods.is_empty() {
            return Err(CustodyError::UnknownClient);
        }
        let owners = methods.iter().map(|method| Owner::new(client_id, method));
        owners.map(|owner| self.exported(owner, actor)).collect()
    }
}
