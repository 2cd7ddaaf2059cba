//! `custody reseal`: a current share sealed again under today's keys (`SHARE_KEY_ID` and the
//! escrow key), as an identical re-backup would, without Portal re-sending it. After a key move it
//! lets the earlier key leave `AcceptedShareKeyArns`; after an escrow key is added, it gives the
//! shares stored before their escrow wrap.
//!
//! It opens each share it reseals, so it runs as an operator the key policy names, never from
//! the webhook. Each reseal writes an audit record first; the old copy goes to history as in any
//! replacement, and a share Portal replaced meanwhile is left as it is.

use super::item::{Item, StoredShare, client_and_slot, number, share_record, whole};
use super::write::Pruning;
use super::{DynamoDbStore, schema};
use crate::domain::custody::{Action, Actor, CustodyError, Reseal, Resealed};
use crate::domain::envelope::SealedShare;

impl DynamoDbStore {
    /// Seals `item` (a current share, as a scan of the shares table returned it) again if `which`
    /// selects it. A KMS failure opening it is an error for this share alone.
    pub async fn reseal(
        &self,
        item: &Item,
        which: &Reseal,
        actor: &Actor,
    ) -> Result<Resealed, CustodyError> {
        let stored = StoredShare::from_item(item)?;
        if !self.selects(which, &stored.sealed) {
            return Ok(Resealed::NotSelected);
        }
        let (client_id, slot) = client_and_slot(item)?;
        let owner = slot.owner(&client_id);
        let Some(current) = self.read_current(owner).await? else {
            return Ok(Resealed::ChangedMeanwhile);
        };
        let record = share_record(&current.item, true)?;
        if current.share.sha256 != stored.sha256 {
            return Ok(Resealed::ChangedMeanwhile);
        }
        let (mut promoted, fresh) = self
            .seal_again(owner, &current.share.sealed, &current.item, owner)
            .await?;
        // Never write a share without the escrow wrap this stack is configured to add.
        if self.share_key.escrow_key().is_some() && fresh.escrow.is_none() {
            return Err(CustodyError::EscrowWrapFailed);
        }
        if !current.share.sealed.needs_sealing_again(&fresh) {
            return Ok(Resealed::AlreadySealed);
        }
        self.audit(owner, Action::Reseal, actor, &record).await?;
        // The version Portal's share had, through any number of reseals (for the record; merge
        // orders shares by `storedAt`, which a reseal keeps).
        let sent = number(&current.item, schema::RESEALED_FROM).unwrap_or(current.version);
        promoted.insert(schema::RESEALED_FROM.into(), whole(sent));
        // Conditional on the version read: a share Portal sent meanwhile is never displaced.
        Ok(
            match self
                .replace(owner, promoted, current.into(), Pruning::Skip)
                .await?
            {
                Some(version) => Resealed::Resealed {
                    from: record.version,
                    version,
                },
                None => Resealed::ChangedMeanwhile,
            },
        )
    }

    fn selects(&self, which: &Reseal, sealed: &SealedShare) -> bool {
        match which {
            Reseal::UnderKey(key_id) => sealed.key_id == *key_id,
            Reseal::WithoutEscrowWrap => {
                let escrow_key = sealed.escrow.as_ref().map(|escrow| escrow.key_id.as_str());
                self.share_key.escrow_key().is_some() && escrow_key != self.share_key.escrow_key()
            }
        }
    }
}
