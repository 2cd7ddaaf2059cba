//! `custody client-owners`: a client share stored under a bare owner (before 0.4.0) moves to
//! the owner that names its variant (`domain/client_owner.rs`), sealed again for it, so the app
//! finds it after the upgrade. Audited first (`move-owner`, under the bare owner); the share is
//! stored under the bound owner before the bare row goes to history, conditional on its version.

use super::item::{Item, client_and_slot};
use super::{DynamoDbStore, schema};
use crate::domain::StoreError;
use crate::domain::client_owner::{LegacyOwners, OwnerBound};
use crate::domain::custody::{Action, Actor, CustodyError};

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
        let (promoted, _) = self
            .seal_again(bare, &current.share.sealed, &current.item, owner)
            .await?;
        self.audit(bare, Action::MoveOwner, actor, &record).await?;
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
