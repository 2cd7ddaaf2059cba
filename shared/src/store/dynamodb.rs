//! The DynamoDB store: one current share per (clientId, backupMethod) in the shares table, and
//! every replaced share kept in the history table. Every share is sealed (see [`crate::envelope`])
//! before it is written, and an item without a sealed envelope is refused as corrupt: no
//! deployment ever stored a plaintext share, so one can only be a forgery.
//!
//! A replacement first copies the old share into history, keyed by its version, and only then
//! makes the new one current, on condition that the version read is still current. So neither a
//! crash nor a concurrent writer can lose a share. Nothing here deletes an item; with pruning
//! opted into, a version only gets an expiry once five newer ones are kept.
//!
//! The operator's jobs on the same tables (list, history, restore, export) are in [`custody`].

pub mod custody;

use super::{
    ClientShares, CurrentShare, ShareReader, ShareWriter, StoreError, Stored, error_detail,
};
use crate::config::Tables;
use crate::envelope::{self, Owner, SealedShare, ShareKey};
use crate::portal::{Backup, BackupMethod, ClientId, Share};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub type Item = HashMap<String, AttributeValue>;

/// Attribute names, shared with `template.yaml` (a test in `tests/` fails if they drift).
pub mod schema {
    /// Shares table: partition key.
    pub const CLIENT_ID: &str = "clientId";
    /// Shares table: sort key.
    pub const BACKUP_METHOD: &str = "backupMethod";
    /// The share sealed with AES-256-GCM (ciphertext and tag), binary.
    pub const SEALED_SHARE: &str = "sealedShare";
    /// The AES-GCM nonce, 12 bytes.
    pub const NONCE: &str = "nonce";
    /// The share's data key, encrypted by KMS.
    pub const ENCRYPTED_DATA_KEY: &str = "encryptedDataKey";
    /// ARN of the KMS key that encrypted the data key.
    pub const KMS_KEY_ID: &str = "kmsKeyId";
    /// Envelope format, [`crate::envelope::FORMAT`].
    pub const SEAL_FORMAT: &str = "sealFormat";
    /// SHA-256 of the share, lowercase hex: repeat detection and audit without the share.
    pub const SHARE_SHA256: &str = "shareSha256";
    /// Size of the share in bytes.
    pub const SHARE_BYTES: &str = "shareBytes";
    pub const BACKUP_SHARE_PAIR_ID: &str = "backupSharePairId";
    /// Starts at 1 and grows by one with each replacement: the optimistic-concurrency guard,
    /// and the history table's sort key, so history sorts in replacement order.
    pub const VERSION: &str = "version";
    pub const STORED_AT: &str = "storedAt";
    /// History table: partition key, the JSON array `[clientId, backupMethod]`.
    pub const SHARE_KEY: &str = "shareKey";
    /// History table: when the share was moved there, RFC 3339 with nanoseconds.
    pub const REPLACED_AT: &str = "replacedAt";
    /// History table: the TTL attribute (epoch seconds). Absent unless pruning is opted into,
    /// and then set only on a version with five newer ones kept.
    pub const EXPIRES_AT: &str = "expiresAt";
    /// History table: the version a share had while current, when it was archived under
    /// another one because that version was already taken (a hand-deleted or PITR-restored row).
    pub const ARCHIVED_FROM: &str = "archivedFrom";
    /// Shares table: the version an operator's restore copied this share from.
    pub const RESTORED_FROM: &str = "restoredFrom";
    /// Audit table: sort key, the time of the record in nanoseconds since 1970.
    pub const RECORDED_AT: &str = "recordedAt";
    /// Audit records: what was done.
    pub const ACTION: &str = "action";
    /// Audit records: who did it (an IAM ARN).
    pub const ACTOR: &str = "actor";
    /// Audit records: through what (`cli` or `eject-endpoint`).
    pub const VIA: &str = "via";
    /// Audit records: when, RFC 3339.
    pub const AT: &str = "at";
    /// Audit records: the version of the share concerned.
    pub const SHARE_VERSION: &str = "shareVersion";
    /// Audit records: the operator's stated reason, if given.
    pub const REASON: &str = "reason";
}

/// Concurrent writes to one key retry until one of them wins; each round has a winner, so this
/// covers far more racing writers than Portal's one request per curve.
const MAX_WRITE_ATTEMPTS: u32 = 64;
const BACKOFF_BASE_MS: u64 = 25;
const MAX_BACKOFF_MS: u64 = 400;

/// With pruning opted into, the newest this many kept versions of a share never expire: a bad
/// re-backup, or junk written with a leaked secret, cannot push every good copy out.
pub const NEWEST_VERSIONS_NEVER_PRUNED: u64 = 5;

pub struct DynamoDbStore {
    client: Client,
    tables: Tables,
    key: ShareKey,
}

/// A share as a stored item holds it: sealed, with the hash of what is inside.
pub struct StoredShare {
    pub sealed: SealedShare,
    pub sha256: String,
}

/// The current item of one key, as read before replacing it.
struct CurrentItem {
    share: StoredShare,
    version: u64,
    item: Item,
}

impl DynamoDbStore {
    pub fn new(client: Client, tables: Tables, key: ShareKey) -> Self {
        Self {
            client,
            tables,
            key,
        }
    }

    async fn read_current(&self, owner: Owner<'_>) -> Result<Option<CurrentItem>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.shares)
            .set_key(Some(key(owner.client_id, owner.backup_method)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| unavailable("GetItem", &error))?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        Ok(Some(CurrentItem {
            share: StoredShare::from_item(&item)?,
            version: number(&item, schema::VERSION)?,
            item,
        }))
    }

    /// The highest version of this share kept in history, if any.
    async fn newest_kept_version(&self, owner: Owner<'_>) -> Result<Option<u64>, StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.tables.history)
            .key_condition_expression("#shareKey = :shareKey")
            .expression_attribute_names("#shareKey", schema::SHARE_KEY)
            .expression_attribute_values(":shareKey", share_key(owner))
            .projection_expression("#version")
            .expression_attribute_names("#version", schema::VERSION)
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| unavailable("Query", &error))?;
        page.items()
            .first()
            .map(|item| number(item, schema::VERSION))
            .transpose()
    }

    /// Creates the current item of an empty key, above every version kept in history (a row
    /// deleted by hand must not make its next share collide there); the new version, or `None`
    /// if another writer created it first.
    async fn create(&self, owner: Owner<'_>, item: Item) -> Result<Option<u64>, StoreError> {
        let version = self.newest_kept_version(owner).await?.unwrap_or(0) + 1;
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.shares)
            .set_item(Some(with_version(item, version)))
            .condition_expression("attribute_not_exists(#clientId)")
            .expression_attribute_names("#clientId", schema::CLIENT_ID)
            .send()
            .await;
        Ok(won(result)?.then_some(version))
    }

    /// Moves `old` to history, then makes `promoted` (a current item without its version) current
    /// if `old` still is. The new version, or `None` if another writer changed the key first.
    ///
    /// The order is the guarantee: the old share is durable in history before the conditional
    /// put can replace it, so a crash between the two leaves a copy of a still-current share and
    /// a lost race leaves the same item written twice, never a share lost. (Two single-item
    /// writes rather than one transaction: a losing transaction is slow, a losing put is not.)
    async fn replace(
        &self,
        owner: Owner<'_>,
        promoted: Item,
        old: CurrentItem,
    ) -> Result<Option<u64>, StoreError> {
        let read_version = old.version;
        let archived = self.archive(owner, old).await?;
        // Above the archived copy, so the next replacement finds its version free in history.
        let next = archived.max(read_version) + 1;
        let promoted = self
            .client
            .put_item()
            .table_name(&self.tables.shares)
            .set_item(Some(with_version(promoted, next)))
            .condition_expression("#version = :read")
            .expression_attribute_names("#version", schema::VERSION)
            .expression_attribute_values(":read", AttributeValue::N(read_version.to_string()))
            .send()
            .await;
        if !won(promoted)? {
            return Ok(None);
        }
        self.prune_below(owner, archived).await;
        Ok(Some(next))
    }

    /// Copies a current item into history under its version; the version it was kept under.
    ///
    /// A version already in history with the same share is the same copy written again (a lost
    /// race, a retry). One with a different share means the version was reused (a current row
    /// deleted by hand, or restored from a backup): the copy goes above every kept version
    /// instead, marked with the version it had, and nothing kept is overwritten.
    async fn archive(&self, owner: Owner<'_>, old: CurrentItem) -> Result<u64, StoreError> {
        let sha256 = old.share.sha256.clone();
        let mut item = history_item(owner, old.item);
        let mut version = old.version;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let archived = self
                .client
                .put_item()
                .table_name(&self.tables.history)
                .set_item(Some(with_version(item.clone(), version)))
                .condition_expression("attribute_not_exists(#shareKey) OR #sha256 = :sha256")
                .expression_attribute_names("#shareKey", schema::SHARE_KEY)
                .expression_attribute_names("#sha256", schema::SHARE_SHA256)
                .expression_attribute_values(":sha256", AttributeValue::S(sha256.clone()))
                .send()
                .await;
            match archived {
                Ok(_) => return Ok(version),
                Err(error)
                    if matches!(
                        error.as_service_error(),
                        Some(PutItemError::ConditionalCheckFailedException(_))
                    ) =>
                {
                    item.insert(
                        schema::ARCHIVED_FROM.into(),
                        AttributeValue::N(old.version.to_string()),
                    );
                    version = self.newest_kept_version(owner).await?.unwrap_or(0) + 1;
                }
                Err(error) => return Err(unavailable("PutItem", &error)),
            }
        }
        Err(StoreError::Contended {
            attempts: MAX_WRITE_ATTEMPTS,
        })
    }

    /// With pruning opted into, gives an expiry to the version that `newest` (just archived)
    /// pushed out of the newest [`NEWEST_VERSIONS_NEVER_PRUNED`]. Best effort: the share is
    /// already stored, and a version that misses its expiry is simply kept.
    async fn prune_below(&self, owner: Owner<'_>, newest: u64) {
        let Some(keep) = self.tables.history_retention.duration() else {
            return;
        };
        let Some(version) = newest.checked_sub(NEWEST_VERSIONS_NEVER_PRUNED) else {
            return;
        };
        let expires = (SystemTime::now() + keep)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.history)
            .key(schema::SHARE_KEY, share_key(owner))
            .key(schema::VERSION, AttributeValue::N(version.to_string()))
            .update_expression("SET #expiresAt = :expiresAt")
            .condition_expression(
                "attribute_exists(#shareKey) AND attribute_not_exists(#expiresAt)",
            )
            .expression_attribute_names("#shareKey", schema::SHARE_KEY)
            .expression_attribute_names("#expiresAt", schema::EXPIRES_AT)
            .expression_attribute_values(":expiresAt", AttributeValue::N(expires.to_string()))
            .send()
            .await;
        if let Err(error) = result
            && !matches!(
                error.as_service_error(),
                Some(UpdateItemError::ConditionalCheckFailedException(_))
            )
        {
            tracing::warn!(cause = %error_detail(&error), version, "could not set a history expiry; the version is kept");
        }
    }
}

impl ShareWriter for DynamoDbStore {
    async fn put_share(&self, backup: &Backup) -> Result<Stored, StoreError> {
        let sha256 = backup.share.sha256_hex();
        // Sealing needs KMS and reading needs DynamoDB: one round trip for both.
        let owner = Owner::of(backup);
        let (first_read, sealed) = tokio::try_join!(self.read_current(owner), async {
            Ok(self.key.seal(Owner::of(backup), &backup.share).await?)
        })?;
        let mut first_read = Some(first_read);
        for attempt in 0..MAX_WRITE_ATTEMPTS {
            let current = match first_read.take() {
                Some(current) => current,
                None => {
                    // Exponential backoff with full jitter spreads racing writers out, so each
                    // round has few contenders and one clear winner.
                    let cap = (BACKOFF_BASE_MS << (attempt - 1).min(4)).min(MAX_BACKOFF_MS);
                    tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=cap))).await;
                    self.read_current(owner).await?
                }
            };
            let promoted = current_item(backup, &sealed);
            let written = match current {
                None => self.create(owner, promoted).await?.map(|_| Stored::Created),
                Some(current) if current.share.sha256 == sha256 => Some(Stored::Unchanged),
                Some(current) => self
                    .replace(owner, promoted, current)
                    .await?
                    .map(|_| Stored::Replaced),
            };
            if let Some(stored) = written {
                return Ok(stored);
            }
        }
        Err(StoreError::Contended {
            attempts: MAX_WRITE_ATTEMPTS,
        })
    }
}

impl ShareReader for DynamoDbStore {
    async fn current_shares(&self, client_id: &ClientId) -> Result<ClientShares, StoreError> {
        let mut stored = Vec::new();
        let mut unreadable = 0;
        let mut start = None;
        loop {
            // Strongly consistent: Portal fetches right after every `/backup` to validate it.
            let page = self
                .client
                .query()
                .table_name(&self.tables.shares)
                .key_condition_expression("#clientId = :clientId")
                .projection_expression(
                    "#backupMethod, #sealed, #nonce, #dataKey, #keyId, #format, #sha256",
                )
                .expression_attribute_names("#clientId", schema::CLIENT_ID)
                .expression_attribute_names("#backupMethod", schema::BACKUP_METHOD)
                .expression_attribute_names("#sealed", schema::SEALED_SHARE)
                .expression_attribute_names("#nonce", schema::NONCE)
                .expression_attribute_names("#dataKey", schema::ENCRYPTED_DATA_KEY)
                .expression_attribute_names("#keyId", schema::KMS_KEY_ID)
                .expression_attribute_names("#format", schema::SEAL_FORMAT)
                .expression_attribute_names("#sha256", schema::SHARE_SHA256)
                .expression_attribute_values(
                    ":clientId",
                    AttributeValue::S(client_id.as_str().into()),
                )
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|error| unavailable("Query", &error))?;
            for item in page.items() {
                let read = string(item, schema::BACKUP_METHOD).and_then(|method| {
                    Ok((
                        BackupMethod::stored(method.to_owned()),
                        StoredShare::from_item(item)?,
                    ))
                });
                match read {
                    Ok(share) => stored.push(share),
                    Err(error) => {
                        unreadable += 1;
                        tracing::error!(cause = %error, client_id = %client_id, "a stored share is unreadable and was left out");
                    }
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        // One KMS round trip for all of the client's shares, not one after another.
        let opened = stored
            .into_iter()
            .map(|(backup_method, stored)| async move {
                let owner = Owner {
                    client_id,
                    backup_method: &backup_method,
                };
                let opened = self.key.open(owner, &stored.sealed).await;
                (backup_method, opened)
            });
        let mut shares = Vec::new();
        for (backup_method, opened) in futures_util::future::join_all(opened).await {
            match opened.map_err(StoreError::from) {
                Ok(share) => shares.push(CurrentShare {
                    backup_method,
                    share,
                }),
                // One altered row must not keep a client's other shares from recovery.
                Err(error) if error.is_integrity_failure() => {
                    unreadable += 1;
                    tracing::error!(cause = %error, client_id = %client_id, backup_method = %backup_method, "a stored share failed its integrity check and was left out");
                }
                Err(error) => return Err(error),
            }
        }
        Ok(ClientShares { shares, unreadable })
    }
}

impl StoredShare {
    /// Reads the share out of a stored item, current or history. Any attribute of the envelope
    /// missing or malformed is `Corrupt`, a missing envelope too: never guessed around.
    pub fn from_item(item: &Item) -> Result<Self, StoreError> {
        if number(item, schema::SEAL_FORMAT)? != u64::from(envelope::FORMAT) {
            return Err(StoreError::Corrupt(schema::SEAL_FORMAT));
        }
        let nonce = binary(item, schema::NONCE)?
            .try_into()
            .map_err(|_| StoreError::Corrupt(schema::NONCE))?;
        let sha256 = string(item, schema::SHARE_SHA256)?;
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(StoreError::Corrupt(schema::SHARE_SHA256));
        }
        Ok(Self {
            sealed: SealedShare {
                ciphertext: binary(item, schema::SEALED_SHARE)?.to_vec(),
                nonce,
                encrypted_data_key: binary(item, schema::ENCRYPTED_DATA_KEY)?.to_vec(),
                key_id: string(item, schema::KMS_KEY_ID)?.to_owned(),
            },
            sha256: sha256.to_owned(),
        })
    }
}

impl<'a> Owner<'a> {
    pub fn of(backup: &'a Backup) -> Self {
        Self {
            client_id: &backup.client_id,
            backup_method: &backup.backup_method,
        }
    }
}

fn key(client_id: &ClientId, backup_method: &BackupMethod) -> Item {
    HashMap::from([
        (
            schema::CLIENT_ID.to_owned(),
            AttributeValue::S(client_id.as_str().to_owned()),
        ),
        (
            schema::BACKUP_METHOD.to_owned(),
            AttributeValue::S(backup_method.as_str().to_owned()),
        ),
    ])
}

/// The envelope's attributes, and the share's hash and size; never the share.
fn sealed_attributes(sealed: &SealedShare, share: &Share) -> Item {
    let binary = |bytes: &[u8]| AttributeValue::B(Blob::new(bytes));
    HashMap::from([
        (schema::SEALED_SHARE.into(), binary(&sealed.ciphertext)),
        (schema::NONCE.into(), binary(&sealed.nonce)),
        (
            schema::ENCRYPTED_DATA_KEY.into(),
            binary(&sealed.encrypted_data_key),
        ),
        (
            schema::KMS_KEY_ID.into(),
            AttributeValue::S(sealed.key_id.clone()),
        ),
        (
            schema::SEAL_FORMAT.into(),
            AttributeValue::N(envelope::FORMAT.to_string()),
        ),
        (
            schema::SHARE_SHA256.into(),
            AttributeValue::S(share.sha256_hex()),
        ),
        (
            schema::SHARE_BYTES.into(),
            AttributeValue::N(share.len().to_string()),
        ),
    ])
}

/// The current item for `backup`, without its version.
fn current_item(backup: &Backup, sealed: &SealedShare) -> Item {
    let mut item = key(&backup.client_id, &backup.backup_method);
    item.extend(sealed_attributes(sealed, &backup.share));
    item.insert(schema::STORED_AT.into(), AttributeValue::S(now_rfc3339()));
    if let Some(pair_id) = &backup.backup_share_pair_id {
        item.insert(
            schema::BACKUP_SHARE_PAIR_ID.into(),
            AttributeValue::S(pair_id.clone()),
        );
    }
    item
}

fn with_version(mut item: Item, version: u64) -> Item {
    item.insert(
        schema::VERSION.into(),
        AttributeValue::N(version.to_string()),
    );
    item
}

/// The history table's partition key of an owner's shares: the JSON array
/// `[clientId, backupMethod]`.
fn share_key(owner: Owner<'_>) -> AttributeValue {
    let key = serde_json::json!([owner.client_id.as_str(), owner.backup_method.as_str()]);
    AttributeValue::S(key.to_string())
}

/// The replaced item as it was, plus its history key; no expiry (see `prune_below`).
fn history_item(owner: Owner<'_>, mut item: Item) -> Item {
    item.insert(schema::SHARE_KEY.into(), share_key(owner));
    item.insert(schema::REPLACED_AT.into(), AttributeValue::S(now_rfc3339()));
    item
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_nanos(SystemTime::now()).to_string()
}

fn string<'a>(item: &'a Item, name: &'static str) -> Result<&'a str, StoreError> {
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

fn number(item: &Item, name: &'static str) -> Result<u64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(number)) => number.parse().map_err(|_| StoreError::Corrupt(name)),
        _ => Err(StoreError::Corrupt(name)),
    }
}

/// `Ok(false)` when another writer got there first: the condition failed, or it conflicted with
/// a transaction (an operator's, say).
fn won<O>(result: Result<O, SdkError<PutItemError>>) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(error) => match error.as_service_error() {
            Some(
                PutItemError::ConditionalCheckFailedException(_)
                | PutItemError::TransactionConflictException(_),
            ) => Ok(false),
            _ => Err(unavailable("PutItem", &error)),
        },
    }
}

fn unavailable<E: ProvideErrorMetadata, R>(
    operation: &'static str,
    error: &SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable {
        operation,
        detail: error_detail(error),
    }
}
