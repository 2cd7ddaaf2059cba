//! Whose share a share is: (clientId, backupMethod, backupSharePairId), the one slot it is stored
//! in. A share without a pair id has the pair-less slot of its (clientId, backupMethod), as every
//! share stored before pairs had.

use super::{Backup, BackupMethod, BackupSharePairId, ClientId};

/// Whose share this is: the slot it may be stored in, and the only slot it may be opened from.
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
    pub client_id: &'a ClientId,
    pub backup_method: &'a BackupMethod,
    /// `None` for the pair-less slot.
    pub backup_share_pair_id: Option<&'a BackupSharePairId>,
}

impl<'a> Owner<'a> {
    pub fn new(
        client_id: &'a ClientId,
        backup_method: &'a BackupMethod,
        backup_share_pair_id: Option<&'a BackupSharePairId>,
    ) -> Self {
        Self {
            client_id,
            backup_method,
            backup_share_pair_id,
        }
    }

    pub fn of(backup: &'a Backup) -> Self {
        Self::new(
            &backup.client_id,
            &backup.backup_method,
            backup.backup_share_pair_id.as_ref(),
        )
    }
}
