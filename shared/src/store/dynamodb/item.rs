//! Items as the tables hold them: a share's envelope and hash in, records out. Reading an item
//! never guesses: an attribute of the envelope missing or malformed is `Corrupt`, and so is an
//! item without an envelope (no deployment ever stored a plaintext share).

use super::schema;
use super::slot::{Slot, owner_json, slot_key};
use crate::domain::custody::ShareRecord;
use crate::domain::envelope::{self, EscrowWrap, SealedShare};
use crate::domain::{Backup, ClientId, Owner, Share, StoreError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub type Item = HashMap<String, AttributeValue>;

/// A share as a stored item holds it: sealed, with the hash of what is inside.
pub struct StoredShare {
    pub sealed: SealedShare,
    pub sha256: String,
}

impl StoredShare {
    /// Reads the share out of a stored item, current or history.
    pub fn from_item(item: &Item) -> Result<Self, StoreError> {
        if number(item, schema::SEAL_FORMAT)? != u64::from(envelope::FORMAT) {
            return Err(StoreError::Corrupt(schema::SEAL_FORMAT));
        }
        let nonce = binary(item, schema::NONCE)?
            .try_into()
            .map_err(|_| StoreError::Corrupt(schema::NONCE))?;
        let sha256 = string(item, schema::SHARE_SHA256)?;
        let is_hex = |b: u8| matches!(b, b'0'..=b'9' | b'a'..=b'f');
        if sha256.len() != 64 || !sha256.bytes().all(is_hex) {
            return Err(StoreError::Corrupt(schema::SHARE_SHA256));
        }
        Ok(Self {
            sealed: SealedShare {
                ciphertext: binary(item, schema::SEALED_SHARE)?.to_vec(),
                nonce,
                encrypted_data_key: binary(item, schema::ENCRYPTED_DATA_KEY)?.to_vec(),
                key_id: string(item, schema::KMS_KEY_ID)?.to_owned(),
                escrow: escrow_wrap(item)?,
            },
            sha256: sha256.to_owned(),
        })
    }
}

/// The escrow wrap, if the item has one: both of its attributes, or neither.
fn escrow_wrap(item: &Item) -> Result<Option<EscrowWrap>, StoreError> {
    let has = |name| item.contains_key(name);
    if !has(schema::ESCROWED_DATA_KEY) && !has(schema::ESCROW_KEY_ID) {
        return Ok(None);
    }
    Ok(Some(EscrowWrap {
        encrypted_data_key: binary(item, schema::ESCROWED_DATA_KEY)?.to_vec(),
        key_id: string(item, schema::ESCROW_KEY_ID)?.to_owned(),
    }))
}

/// The shares table's primary key of `owner`'s current share.
pub fn row_key(owner: Owner<'_>) -> Item {
    HashMap::from([
        (schema::CLIENT_ID.to_owned(), text(owner.client_id.as_str())),
        (schema::BACKUP_METHOD.to_owned(), text(&slot_key(owner))),
    ])
}

/// The history and audit tables' partition key of `owner`.
pub fn owner_value(owner: Owner<'_>) -> AttributeValue {
    AttributeValue::S(owner_json(owner))
}

/// The slot of a stored item (current, history, or a dump's), from its sort key.
pub fn slot_of(item: &Item) -> Result<Slot, StoreError> {
    Slot::parse(string(item, schema::BACKUP_METHOD)?)
}

/// The client and slot of a stored item.
pub fn client_and_slot(item: &Item) -> Result<(ClientId, Slot), StoreError> {
    let client_id = ClientId::parse(string(item, schema::CLIENT_ID)?)
        .map_err(|_| StoreError::Corrupt(schema::CLIENT_ID))?;
    Ok((client_id, slot_of(item)?))
}

/// The current item for `backup`, without its version: the envelope, the share's hash and size,
/// never the share.
pub fn current_item(backup: &Backup, sealed: &SealedShare) -> Item {
    let share: &Share = &backup.share;
    let binary = |bytes: &[u8]| AttributeValue::B(Blob::new(bytes));
    let mut item = row_key(Owner::of(backup));
    item.extend([
        (schema::SEALED_SHARE.into(), binary(&sealed.ciphertext)),
        (schema::NONCE.into(), binary(&sealed.nonce)),
        (
            schema::ENCRYPTED_DATA_KEY.into(),
            binary(&sealed.encrypted_data_key),
        ),
        (schema::KMS_KEY_ID.into(), text(&sealed.key_id)),
        (schema::SEAL_FORMAT.into(), whole(envelope::FORMAT.into())),
        (schema::SHARE_SHA256.into(), text(&share.sha256_hex())),
        (schema::SHARE_BYTES.into(), whole(share.len() as u64)),
        (schema::STORED_AT.into(), text(&now_rfc3339())),
    ]);
    if let Some(escrow) = &sealed.escrow {
        item.extend([
            (
                schema::ESCROWED_DATA_KEY.into(),
                binary(&escrow.encrypted_data_key),
            ),
            (schema::ESCROW_KEY_ID.into(), text(&escrow.key_id)),
        ]);
    }
    if let Some(pair_id) = &backup.backup_share_pair_id {
        item.insert(schema::BACKUP_SHARE_PAIR_ID.into(), text(pair_id.as_str()));
    }
    item
}

/// A kept item made current again: the same sealed share (sealed for this owner, so it opens in
/// this row), stamped with when and from which version.
pub fn restored_item(owner: Owner<'_>, kept: &Item, from: u64) -> Item {
    let mut item = row_key(owner);
    // The share as it was kept: its envelope, size and pair id.
    let kept_share = [schema::SHARE_BYTES, schema::BACKUP_SHARE_PAIR_ID];
    for name in schema::ENVELOPE.into_iter().chain(kept_share) {
        if let Some(value) = kept.get(name) {
            item.insert(name.to_owned(), value.clone());
        }
    }
    item.insert(schema::STORED_AT.to_owned(), text(&now_rfc3339()));
    item.insert(schema::RESTORED_FROM.to_owned(), whole(from));
    item
}

/// The replaced item as it was, plus its history partition key; no expiry (see `prune_below`).
pub fn history_item(owner: Owner<'_>, mut item: Item) -> Item {
    item.insert(schema::OWNER.into(), owner_value(owner));
    item.insert(schema::REPLACED_AT.into(), text(&now_rfc3339()));
    item
}

pub fn with_version(mut item: Item, version: u64) -> Item {
    item.insert(schema::VERSION.into(), whole(version));
    item
}

/// A current or history item's record, checking that its envelope is whole; the sealed share is
/// dropped here, never opened.
pub fn share_record(item: &Item, current: bool) -> Result<ShareRecord, StoreError> {
    let stored = StoredShare::from_item(item)?;
    let slot = slot_of(item)?;
    let optional_text = |name| string(item, name).ok().map(str::to_owned);
    let slot_pair = slot
        .backup_share_pair_id
        .map(|pair| pair.as_str().to_owned());
    Ok(ShareRecord {
        backup_method: slot.backup_method.as_str().to_owned(),
        version: number(item, schema::VERSION)?,
        current,
        stored_at: optional_text(schema::STORED_AT),
        replaced_at: optional_text(schema::REPLACED_AT),
        expires_at: number(item, schema::EXPIRES_AT).ok().map(|seconds| {
            humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(seconds)).to_string()
        }),
        archived_from: number(item, schema::ARCHIVED_FROM).ok(),
        share_sha256: stored.sha256,
        share_bytes: number(item, schema::SHARE_BYTES)?,
        // The slot's pair is the share's; a pair-less slot's share may know its pair too.
        in_pair_slot: slot_pair.is_some(),
        backup_share_pair_id: slot_pair.or_else(|| optional_text(schema::BACKUP_SHARE_PAIR_ID)),
        restored_from: number(item, schema::RESTORED_FROM).ok(),
    })
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_nanos(SystemTime::now()).to_string()
}

pub fn text(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

pub fn whole(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn string<'a>(item: &'a Item, name: &'static str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(text)) => Ok(text),
        _ => Err(StoreError::Corrupt(name)),
    }
}

fn binary<'a>(item: &'a Item, name: &'static str) -> Result<&'a [u8], StoreError> {
    match item.get(name) {
        Some(AttributeValue::B(bytes)) => Ok(bytes.as_ref()),
        _ => Err(StoreError::Corrupt(name)),
    }
}

pub fn number(item: &Item, name: &'static str) -> Result<u64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(number)) => number.parse().map_err(|_| StoreError::Corrupt(name)),
        _ => Err(StoreError::Corrupt(name)),
    }
}
