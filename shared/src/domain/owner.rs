//! Whose share a share is: (clientId, backupMethod), the one row it is stored in.

use super::{Backup, BackupMethod, ClientId};

/// Whose share this is: the row it may be stored in, and the only row it may be opened from.
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
    pub client_id: &'a ClientId,
    pub backup_method: &'a BackupMethod,
}

impl<'a> Owner<'a> {
    pub fn new(client_id: &'a ClientId, backup_method: &'a BackupMethod) -> Self {
        Self {
            client_id,
            backup_method,
        }
    }

    pub fn of(backup: &'a Backup) -> Self {
        Self::new(&backup.client_id, &backup.backup_method)
    }
}
