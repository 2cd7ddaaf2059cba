//! The DynamoDB store: one current share per (clientId, backupMethod) in the shares table, and
//! every replaced share kept in the history table. Every share is sealed (see [`crate::envelope`])
//! before it is written; a plaintext `share` left by an earlier version is still read, and is
//! sealed in place before its row next changes.
//!
//! A replacement first copies the old share into history, keyed by its version, and only then
//! makes the new one current, on condition that the version read is still current. So neither a
//! crash nor a concurrent writer can lose a share. Nothing here deletes an item.
//!
//! The operator's jobs on the same tables (list, history, restore, export) are in [`custody`].

pub mod custody;

use super::{CurrentShare, ShareReader, ShareWriter, StoreError, Stored, error_detail};
use crate::config::{HistoryRetention, Tables};
use crate::envelope::{self, Owner, SealedShare, ShareKey};
use crate::portal::{Backup, BackupMethod, ClientId, Share};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
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
    /// Legacy: the plaintext share an earlier version wrote. Read, never written.
    pub const SHARE: &str = "share";
    pub const BACKUP_SHARE_PAIR_ID: &str = "backupSharePairId";
    /// Starts at 1 and grows by one with each replacement: the optimistic-concurrency guard,
    /// and the history table's sort key, so history sorts in replacement order.
    pub const VERSION: &str = "version";
    pub const STORED_AT: &str = "storedAt";
    /// History table: partition key, the JSON array `[clientId, backupMethod]`.
    pub const SHARE_KEY: &str = "shareKey";
    /// History table: when the share was moved there, RFC 3339 with nanoseconds.
    pub const REPLACED_AT: &str = "replacedAt";
    /// History table: the TTL attribute (epoch seconds), absent when retention is forever.
    pub const EXPIRES_AT: &str = "expiresAt";
    /// Shares table: the version an operator's restore copied this share from.
    pub const RESTORED_FROM: &str = "restoredFrom";
    /// Audit records (history table, `shareKey` = `audit#` + the share key): what was done.
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

pub struct DynamoDbStore {
    client: Client,
    tables: Tables,
    key: ShareKey,
}

/// A share as a stored item holds it.
pub enum StoredShare {
    Sealed {
        sealed: SealedShare,
        sha256: String,
    },
    /// Written by a version before envelope encryption.
    Plaintext(Share),
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

    /// Writes the first share of a key; `false` if another writer created it first.
    async fn create(&self, backup: &Backup, sealed: &SealedShare) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.shares)
            .set_item(Some(with_version(current_item(backup, sealed), 1)))
            .condition_expression("attribute_not_exists(#clientId)")
            .expression_attribute_names("#clientId", schema::CLIENT_ID)
            .send()
            .await;
        won(result)
    }

    /// Moves `old` to history, then makes `promoted` (a current item without its version) current
    /// if `old` still is. `false` if another writer changed the key first.
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
    ) -> Result<bool, StoreError> {
        let old_sha256 = old.share.sha256_hex();
        let archived = self
            .client
            .put_item()
            .table_name(&self.tables.history)
            .set_item(Some(history_item(
                owner,
                old.item,
                self.tables.history_retention,
            )))
            // A version is only ever one share, so a repeat rewrites the same share; anything
            // else would destroy history and is refused.
            .condition_expression("attribute_not_exists(#shareKey) OR #sha256 = :sha256")
            .expression_attribute_names("#shareKey", schema::SHARE_KEY)
            .expression_attribute_names("#sha256", schema::SHARE_SHA256)
            .expression_attribute_values(":sha256", AttributeValue::S(old_sha256))
            .send()
            .await;
        if let Err(error) = archived {
            return Err(match error.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => {
                    StoreError::Corrupt(schema::VERSION)
                }
                _ => unavailable("PutItem", &error),
            });
        }
        let promoted = self
            .client
            .put_item()
            .table_name(&self.tables.shares)
            .set_item(Some(with_version(promoted, old.version + 1)))
            .condition_expression("#version = :read")
            .expression_attribute_names("#version", schema::VERSION)
            .expression_attribute_values(":read", AttributeValue::N(old.version.to_string()))
            .send()
            .await;
        won(promoted)
    }

    /// Seals a plaintext share left by an earlier version where it lies: same version, same
    /// share, no longer readable from the table. `false` if another writer changed it first.
    async fn seal_in_place(
        &self,
        owner: Owner<'_>,
        old: CurrentItem,
        plaintext: &Share,
    ) -> Result<bool, StoreError> {
        let sealed = self.key.seal(owner, plaintext).await?;
        let mut item = old.item;
        item.remove(schema::SHARE);
        item.extend(sealed_attributes(&sealed, plaintext));
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.shares)
            .set_item(Some(item))
            .condition_expression("#version = :read AND #share = :share")
            .expression_attribute_names("#version", schema::VERSION)
            .expression_attribute_names("#share", schema::SHARE)
            .expression_attribute_values(":read", AttributeValue::N(old.version.to_string()))
            .expression_attribute_values(
                ":share",
                AttributeValue::S(plaintext.expose_secret().to_owned()),
            )
            .send()
            .await;
        won(result)
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
            let written = match current {
                None => self
                    .create(backup, &sealed)
                    .await?
                    .then_some(Stored::Created),
                Some(current) => match &current.share {
                    StoredShare::Sealed { sha256: old, .. } if *old == sha256 => {
                        Some(Stored::Unchanged)
                    }
                    StoredShare::Sealed { .. } => self
                        .replace(owner, current_item(backup, &sealed), current)
                        .await?
                        .then_some(Stored::Replaced),
                    // Sealed first, so history never receives plaintext; the next round then
                    // finds it unchanged or replaces it.
                    StoredShare::Plaintext(plaintext) => {
                        let plaintext = Share::from(plaintext.expose_secret().to_owned());
                        self.seal_in_place(owner, current, &plaintext).await?;
                        None
                    }
                },
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
    async fn current_shares(&self, client_id: &ClientId) -> Result<Vec<CurrentShare>, StoreError> {
        let mut stored = Vec::new();
        let mut start = None;
        loop {
            // Strongly consistent: Portal fetches right after every `/backup` to validate it.
            let page = self
                .client
                .query()
                .table_name(&self.tables.shares)
                .key_condition_expression("#clientId = :clientId")
                .projection_expression(
                    "#backupMethod, #sealed, #nonce, #dataKey, #keyId, #format, #sha256, #share",
                )
                .expression_attribute_names("#clientId", schema::CLIENT_ID)
                .expression_attribute_names("#backupMethod", schema::BACKUP_METHOD)
                .expression_attribute_names("#sealed", schema::SEALED_SHARE)
                .expression_attribute_names("#nonce", schema::NONCE)
                .expression_attribute_names("#dataKey", schema::ENCRYPTED_DATA_KEY)
                .expression_attribute_names("#keyId", schema::KMS_KEY_ID)
                .expression_attribute_names("#format", schema::SEAL_FORMAT)
                .expression_attribute_names("#sha256", schema::SHARE_SHA256)
                .expression_attribute_names("#share", schema::SHARE)
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
                let backup_method =
                    BackupMethod::stored(string(item, schema::BACKUP_METHOD)?.to_owned());
                stored.push((backup_method, StoredShare::from_item(item)?));
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        // One KMS round trip for all of the client's shares, not one after another.
        let opened = stored.into_iter().map(|(backup_method, share)| async move {
            let share = match share {
                StoredShare::Plaintext(share) => share,
                StoredShare::Sealed { sealed, .. } => {
                    let owner = Owner {
                        client_id,
                        backup_method: &backup_method,
                    };
                    self.key.open(owner, &sealed).await?
                }
            };
            Ok(CurrentShare {
                backup_method,
                share,
            })
        });
        futures_util::future::try_join_all(opened).await
    }
}

impl StoredShare {
    /// The share's SHA-256, as stored or (for plaintext) computed.
    pub fn sha256_hex(&self) -> String {
        match self {
            Self::Sealed { sha256, .. } => sha256.clone(),
            Self::Plaintext(share) => share.sha256_hex(),
        }
    }

    /// Reads the share out of a stored item, current or history. Any attribute of the envelope
    /// missing or malformed is `Corrupt`: never guessed around.
    pub fn from_item(item: &Item) -> Result<Self, StoreError> {
        if !item.contains_key(schema::SEALED_SHARE) {
            return match item.get(schema::SHARE) {
                Some(AttributeValue::S(text)) => Ok(Self::Plaintext(Share::from(text.clone()))),
                _ => Err(StoreError::Corrupt(schema::SEALED_SHARE)),
            };
        }
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
        Ok(Self::Sealed {
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

/// The replaced item as it was, plus its history key and expiry.
fn history_item(owner: Owner<'_>, mut item: Item, retention: HistoryRetention) -> Item {
    item.insert(schema::SHARE_KEY.into(), share_key(owner));
    item.insert(schema::REPLACED_AT.into(), AttributeValue::S(now_rfc3339()));
    if let Some(keep) = retention.duration() {
        let expires = SystemTime::now() + keep;
        let seconds = expires
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        item.insert(
            schema::EXPIRES_AT.into(),
            AttributeValue::N(seconds.to_string()),
        );
    }
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
