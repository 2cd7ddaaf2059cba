//! `custody restore-pair`: before pairs had slots of their own (0.2.0), a later pair's share
//! replaced an earlier pair's, which went to the method's history. This brings such a share back
//! into its own pair's slot, sealed again for that slot (the pair-less slot's seal does not open
//! there), beside whatever is current: nothing is displaced, and an audit record comes first.

use super::item::{Item, StoredShare, share_record, whole};
use super::{DynamoDbStore, schema};
use crate::domain::custody::{Action, Actor, CustodyError, Restored};
use crate::domain::{BackupSharePairId, Owner, StoreError};

impl DynamoDbStore {
    /// The newest share kept in `method_slot`'s history whose own JSON names `pair_id`, among
    /// those stored without a pair id beside them (Portal's body had none): each is opened.
    async fn kept_by_embedded_pair(
        &self,
        method_slot: Owner<'_>,
        pair_id: &BackupSharePairId,
    ) -> Result<Item, CustodyError> {
        for item in self.kept_items(method_slot).await? {
            // A row set aside unreadable holds no share to match.
            if item.contains_key(schema::BACKUP_SHARE_PAIR_ID)
                || item.contains_key(schema::SET_ASIDE_UNREADABLE)
            {
                continue;
            }
            let stored = StoredShare::from_item(&item)?;
            let share = self
                .share_key
                .open(method_slot, &stored.sealed)
                .await
                .map_err(StoreError::from)?;
            if BackupSharePairId::embedded_in(&share).as_ref() == Some(pair_id) {
                return Ok(item);
            }
        }
        Err(CustodyError::UnknownPairId)
    }

    /// Restores the newest share of `pair_id` kept in `method_slot`'s history (or current there)
    /// into the pair's own slot of the same client and method.
    pub async fn restore_pair(
        &self,
        method_slot: Owner<'_>,
        pair_id: &BackupSharePairId,
        actor: &Actor,
    ) -> Result<Restored, CustodyError> {
        let pair_slot = Owner::new(
            method_slot.client_id,
            method_slot.backup_method,
            Some(pair_id),
        );
        let kept = match self.find_pair(method_slot, pair_id.as_str()).await {
            Ok((kept, _)) => kept,
            Err(CustodyError::UnknownPairId) => {
                self.kept_by_embedded_pair(method_slot, pair_id).await?
            }
            Err(error) => return Err(error),
        };
        let record = share_record(&kept, false)?;
        if let Some(current) = self.read_current(pair_slot).await? {
            return match current.share.sha256 == record.share_sha256 {
                true => Ok(Restored::AlreadyCurrent {
                    version: current.version,
                }),
                // Portal stored this pair again since: that share is the pair's.
                false => Err(CustodyError::CurrentChanged {
                    expected: "no share in the pair's slot".into(),
                    found: format!("version {}", current.version),
                }),
            };
        }
        self.audit(pair_slot, Action::Restore, actor, &record)
            .await?;
        let stored = StoredShare::from_item(&kept)?;
        // Its age as Portal sent it: a later pair's share stays the newer one.
        let (mut item, _) = self
            .seal_again(method_slot, &stored.sealed, &kept, pair_slot)
            .await?;
        item.insert(schema::RESTORED_FROM.into(), whole(record.version));
        match self.create(pair_slot, item).await? {
            Some(version) => Ok(Restored::Restored {
                from: record.version,
                version,
            }),
            None => Err(CustodyError::CurrentChanged {
                expected: "no share in the pair's slot".into(),
                found: "a share Portal stored meanwhile".into(),
            }),
        }
    }
}
