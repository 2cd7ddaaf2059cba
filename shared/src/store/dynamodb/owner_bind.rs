//! `custody client-owners`: a client share stored under a bare owner (before 0.4.0) moves to
//! the owner that names its variant (`domain/client_owner.rs`), sealed again for it, so the app
//! finds it after the upgrade. Audited first (`move-owner`, under the bare owner); the share is
//! stored under the bound owner before the bare row goes to history, conditional on its version.

use super::item::{Item, client_and_slot, current_item};
use super::{DynamoDbStore, schema};
use crate::domain::client_owner::{LegacyOwners, OwnerBound};
use crate::domain::custody::{Action, Actor, CustodyError};
use crate::domain::{Backup, StoreError};

impl DynamoDbStore {
    pub async fn bind_owner(
        &self,
        item: &Item,
        legacy: &LegacyOwners,
        actor: &Actor,
    ) -> Result<OwnerBound, CustodyError> {
        let (client_id, slot) = client_and_slot(item)?;
        let Some(bound) = legacy.owner_of(&client_id) else {
            return Ok(OwnerBound::AlreadyBound);
        };
        let bound_id = bound
            .stored_as()
            .map_err(|_| StoreError::Corrupt(schema::CLIENT_ID))?;
        let (bare, owner) = (slot.owner(&client_id), slot.owner(&bound_id));
        let Some(current) = self.read_current(bare).await? else {
            return Ok(OwnerBound::ChangedMeanwhile);
        };
        if item.get(schema::SHARE_SHA256) != current.item.get(schema::SHARE_SHA256) {
            return Ok(OwnerBound::ChangedMeanwhile);
        }
        let record = super::item::share_record(&current.item, true)?;
        let share = self
            .share_key
            .open(bare, &current.share.sealed)
            .await
            .map_err(StoreError::from)?;
        let sealed = self
            .share_key
            .seal(owner, &share)
            .await
            .map_err(StoreError::from)?;
        self.audit(bare, Action::MoveOwner, actor, &record).await?;
        let backup = Backup {
            client_id: bound_id.clone(),
            backup_method: slot.backup_method.clone(),
            share,
            backup_share_pair_id: slot.backup_share_pair_id.clone(),
            dropped_pair_id: None,
            pair_id_disagrees: false,
        };
        let mut promoted = current_item(&backup, &sealed);
        for kept in [schema::BACKUP_SHARE_PAIR_ID, schema::STORED_AT] {
            if let Some(value) = current.item.get(kept) {
                promoted.insert(kept.into(), value.clone());
            }
        }
        if self.create(owner, promoted).await?.is_none() {
            // Stored under the bound owner by an earlier run that stopped here, or by the user.
            let there = self.read_current(owner).await?;
            if there.is_none_or(|there| there.share.sha256 != current.share.sha256) {
                return Ok(OwnerBound::NewerThere);
            }
        }
        let version = current.version;
        match self.move_to_history(bare, current).await? {
            Some(_) => Ok(OwnerBound::Bound),
            None => Err(CustodyError::CurrentChanged {
                expected: format!("version {version}"),
                found: "a newer version".to_owned(),
            }),
        }
    }
}
