//! `custody import`: a share from the store a customer ran before this one, stored as `/backup`
//! stores one (sealed under the share key, escrow wrap included, conditional writes, history),
//! and ordered against what is already here by when each was stored: the source's `createdAt`
//! against `storedAt`. An imported share never replaces a newer one (Portal may already be
//! calling this stack); the older of the two goes to history, never nowhere. It is a merge of
//! one item (`merge.rs`), so importing twice changes nothing.

use super::item::{current_item, string, text, with_version};
use super::merge::Merged;
use super::portable::TableRole;
use super::{DynamoDbStore, schema};
use crate::domain::{Backup, Owner, StoreError};
use std::time::SystemTime;

/// What importing one share did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imported {
    /// Now the current share of its slot (none was, or the one there was older).
    Current,
    /// Kept in history: a newer share is current.
    KeptOlder,
    /// Already here (imported before, or the same share stored through `/backup`).
    AlreadyThere,
}

/// What the slot of an imported share serves now, against the source's share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    /// The same bytes (compared by SHA-256, after opening what is stored).
    Same,
    /// Another share, stored after the source's: a newer backup, as it should be.
    Superseded,
    /// Another share, stored before the source's, or nothing: the import did not hold.
    Mismatch,
}

impl DynamoDbStore {
    /// Stores `backup`, created in the source store at `created_at`.
    pub async fn import_share(
        &self,
        backup: &Backup,
        created_at: SystemTime,
    ) -> Result<Imported, StoreError> {
        let sealed = self
            .share_key
            .seal(Owner::of(backup), &backup.share)
            .await?;
        let mut item = with_version(current_item(backup, &sealed), 1);
        let stored_at = humantime::format_rfc3339_nanos(created_at).to_string();
        item.insert(schema::STORED_AT.into(), text(&stored_at));
        Ok(match self.merge_item(TableRole::Shares, &item).await? {
            Merged::Current => Imported::Current,
            Merged::AlreadyThere => Imported::AlreadyThere,
            _ => Imported::KeptOlder,
        })
    }

    /// Opens the current share of `backup`'s slot and compares it with `backup`'s share.
    pub async fn check_import(
        &self,
        backup: &Backup,
        created_at: SystemTime,
    ) -> Result<Checked, StoreError> {
        let owner = Owner::of(backup);
        let Some(current) = self.read_current(owner).await? else {
            return Ok(Checked::Mismatch);
        };
        let served = self.share_key.open(owner, &current.share.sealed).await?;
        if served.sha256_hex() == backup.share.sha256_hex() {
            return Ok(Checked::Same);
        }
        let stored_at = string(&current.item, schema::STORED_AT)
            .ok()
            .and_then(|text| humantime::parse_rfc3339_weak(text).ok());
        Ok(match stored_at {
            Some(stored_at) if stored_at > created_at => Checked::Superseded,
            _ => Checked::Mismatch,
        })
    }
}
