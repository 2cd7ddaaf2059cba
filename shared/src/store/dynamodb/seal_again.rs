//! A stored share sealed again for a slot, its own or another (`reseal`, `restore-pair`,
//! `client-owners`): opened under the owner it was sealed for, sealed for the one it goes to, and
//! made the item that slot takes.

use super::item::{Item, current_item};
use super::{DynamoDbStore, schema};
use crate::domain::envelope::SealedShare;
use crate::domain::{Backup, Owner, StoreError};

impl DynamoDbStore {
    /// `sealed` (of the stored item `kept`, sealed for `from`) opened and sealed for `to`: the
    /// item `to`'s slot takes, and the new seal. The same share as Portal sent it, so it keeps
    /// its pair id and its age (fetch and the client-share GET order shares by when Portal
    /// stored them).
    pub(super) async fn seal_again(
        &self,
        from: Owner<'_>,
        sealed: &SealedShare,
        kept: &Item,
        to: Owner<'_>,
    ) -> Result<(Item, SealedShare), StoreError> {
        let share = self.share_key.open(from, sealed).await?;
        let fresh = self.share_key.seal(to, &share).await?;
        let backup = Backup {
            client_id: to.client_id.clone(),
            backup_method: to.backup_method.clone(),
            share,
            backup_share_pair_id: to.backup_share_pair_id.cloned(),
            dropped_pair_id: None,
            pair_id_disagrees: false,
        };
        let mut item = current_item(&backup, &fresh);
        for attribute in [schema::BACKUP_SHARE_PAIR_ID, schema::STORED_AT] {
            if let Some(value) = kept.get(attribute) {
                item.insert(attribute.into(), value.clone());
            }
        }
        Ok((item, fresh))
    }
}
