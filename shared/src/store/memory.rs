//! An in-memory store for handler unit tests only. Storage behaviour is proven against DynamoDB
//! Local in `tests/`, never here.

use super::{ClientShares, CurrentShare, ShareReader, ShareWriter, StoreError, Stored};
use crate::portal::{Backup, BackupMethod, ClientId, Share};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryStore {
    current: Mutex<BTreeMap<(ClientId, BackupMethod), String>>,
    pub history: Mutex<Vec<String>>,
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
}

impl ShareWriter for MemoryStore {
    async fn put_share(&self, backup: &Backup) -> Result<Stored, StoreError> {
        self.check("PutItem")?;
        let key = (backup.client_id.clone(), backup.backup_method.clone());
        let new = backup.share.expose_secret().to_owned();
        let mut current = self.current.lock().expect("test store lock");
        match current.insert(key, new.clone()) {
            None => Ok(Stored::Created),
            Some(old) if old == new => Ok(Stored::Unchanged),
            Some(old) => {
                self.history.lock().expect("test store lock").push(old);
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
            .map(|((_, method), share)| CurrentShare {
                backup_method: method.clone(),
                share: Share::from(share.clone()),
            })
            .collect();
        Ok(ClientShares {
            shares,
            unreadable: self.unreadable,
        })
    }
}
