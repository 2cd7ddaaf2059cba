//! The DynamoDB store: one current share per (clientId, backupMethod) in the shares table, and
//! every replaced share kept in the history table.
//!
//! A replacement first copies the old share into history, keyed by its version, and only then
//! makes the new one current, on condition that the version read is still current. So neither a
//! crash nor a concurrent writer can lose a share. Nothing here deletes an item.

use super::{CurrentShare, ShareReader, ShareWriter, StoreError, Stored};
use crate::config::{HistoryRetention, Tables};
use crate::portal::{Backup, BackupMethod, ClientId, Share};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Attribute names, shared with `template.yaml` (a test in `tests/` fails if they drift).
pub mod schema {
    /// Shares table: partition key.
    pub const CLIENT_ID: &str = "clientId";
    /// Shares table: sort key.
    pub const BACKUP_METHOD: &str = "backupMethod";
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
}

/// Concurrent writes to one key retry until one of them wins; each round has a winner, so this
/// covers far more racing writers than Portal's one request per curve.
const MAX_WRITE_ATTEMPTS: u32 = 64;
const BACKOFF_BASE_MS: u64 = 25;
const MAX_BACKOFF_MS: u64 = 400;

pub struct DynamoDbStore {
    client: Client,
    tables: Tables,
}

/// The current item of one key, as read before replacing it.
struct CurrentItem {
    share: Share,
    version: u64,
    item: HashMap<String, AttributeValue>,
}

impl DynamoDbStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables }
    }

    async fn read_current(&self, backup: &Backup) -> Result<Option<CurrentItem>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.shares)
            .set_key(Some(key(&backup.client_id, &backup.backup_method)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| unavailable("GetItem", &error))?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let share = Share::from(string(&item, schema::SHARE)?.to_owned());
        let version = string_number(&item, schema::VERSION)?;
        Ok(Some(CurrentItem {
            share,
            version,
            item,
        }))
    }

    /// Writes the first share of a key; `false` if another writer created it first.
    async fn create(&self, backup: &Backup) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.shares)
            .set_item(Some(current_item(backup, 1)))
            .condition_expression("attribute_not_exists(#clientId)")
            .expression_attribute_names("#clientId", schema::CLIENT_ID)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if lost_race(&error) => Ok(false),
            Err(error) => Err(unavailable("PutItem", &error)),
        }
    }

    /// Moves `old` to history, then makes `backup` current if `old` still is. `false` if another
    /// writer changed the key first.
    ///
    /// The order is the guarantee: the old share is durable in history before the conditional
    /// put can replace it, so a crash between the two leaves a copy of a still-current share and
    /// a lost race leaves the same item written twice, never a share lost. (Two single-item
    /// writes rather than one transaction: a losing transaction is slow, a losing put is not.)
    async fn replace(&self, backup: &Backup, old: CurrentItem) -> Result<bool, StoreError> {
        let archived = self
            .client
            .put_item()
            .table_name(&self.tables.history)
            .set_item(Some(history_item(
                backup,
                old.item,
                self.tables.history_retention,
            )))
            // A version is only ever one share, so a repeat rewrites the same share; anything
            // else would destroy history and is refused.
            .condition_expression("attribute_not_exists(#shareKey) OR #share = :share")
            .expression_attribute_names("#shareKey", schema::SHARE_KEY)
            .expression_attribute_names("#share", schema::SHARE)
            .expression_attribute_values(
                ":share",
                AttributeValue::S(old.share.expose_secret().to_owned()),
            )
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
            .set_item(Some(current_item(backup, old.version + 1)))
            .condition_expression("#version = :read")
            .expression_attribute_names("#version", schema::VERSION)
            .expression_attribute_values(":read", AttributeValue::N(old.version.to_string()))
            .send()
            .await;
        match promoted {
            Ok(_) => Ok(true),
            Err(error) if lost_race(&error) => Ok(false),
            Err(error) => Err(unavailable("PutItem", &error)),
        }
    }
}

impl ShareWriter for DynamoDbStore {
    async fn put_share(&self, backup: &Backup) -> Result<Stored, StoreError> {
        for attempt in 0..MAX_WRITE_ATTEMPTS {
            if attempt > 0 {
                // Exponential backoff with full jitter spreads racing writers out, so each
                // round has few contenders and one clear winner.
                let cap = (BACKOFF_BASE_MS << (attempt - 1).min(4)).min(MAX_BACKOFF_MS);
                tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=cap))).await;
            }
            let written = match self.read_current(backup).await? {
                None => self.create(backup).await?.then_some(Stored::Created),
                Some(current) if current.share.same_as(&backup.share) => Some(Stored::Unchanged),
                Some(current) => self
                    .replace(backup, current)
                    .await?
                    .then_some(Stored::Replaced),
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
        let mut shares = Vec::new();
        let mut start = None;
        loop {
            // Strongly consistent: Portal fetches right after every `/backup` to validate it.
            let page = self
                .client
                .query()
                .table_name(&self.tables.shares)
                .key_condition_expression("#clientId = :clientId")
                .projection_expression("#backupMethod, #share")
                .expression_attribute_names("#clientId", schema::CLIENT_ID)
                .expression_attribute_names("#backupMethod", schema::BACKUP_METHOD)
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
                shares.push(CurrentShare {
                    backup_method: BackupMethod::stored(
                        string(item, schema::BACKUP_METHOD)?.to_owned(),
                    ),
                    share: Share::from(string(item, schema::SHARE)?.to_owned()),
                });
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(shares);
            }
        }
    }
}

fn key(client_id: &ClientId, backup_method: &BackupMethod) -> HashMap<String, AttributeValue> {
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

fn current_item(backup: &Backup, version: u64) -> HashMap<String, AttributeValue> {
    let mut item = key(&backup.client_id, &backup.backup_method);
    item.insert(
        schema::SHARE.into(),
        AttributeValue::S(backup.share.expose_secret().to_owned()),
    );
    item.insert(
        schema::VERSION.into(),
        AttributeValue::N(version.to_string()),
    );
    item.insert(schema::STORED_AT.into(), AttributeValue::S(now_rfc3339()));
    if let Some(pair_id) = &backup.backup_share_pair_id {
        item.insert(
            schema::BACKUP_SHARE_PAIR_ID.into(),
            AttributeValue::S(pair_id.clone()),
        );
    }
    item
}

/// The replaced item as it was, plus its history key and expiry.
fn history_item(
    backup: &Backup,
    mut item: HashMap<String, AttributeValue>,
    retention: HistoryRetention,
) -> HashMap<String, AttributeValue> {
    let share_key = serde_json::json!([backup.client_id.as_str(), backup.backup_method.as_str()]);
    item.insert(
        schema::SHARE_KEY.into(),
        AttributeValue::S(share_key.to_string()),
    );
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

fn string<'a>(
    item: &'a HashMap<String, AttributeValue>,
    name: &'static str,
) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(text)) => Ok(text),
        _ => Err(StoreError::Corrupt(name)),
    }
}

fn string_number(
    item: &HashMap<String, AttributeValue>,
    name: &'static str,
) -> Result<u64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(number)) => number.parse().map_err(|_| StoreError::Corrupt(name)),
        _ => Err(StoreError::Corrupt(name)),
    }
}

/// Another writer got there first: the condition failed, or it conflicted with a transaction
/// (an operator's, say).
fn lost_race(error: &SdkError<PutItemError>) -> bool {
    matches!(
        error.as_service_error(),
        Some(
            PutItemError::ConditionalCheckFailedException(_)
                | PutItemError::TransactionConflictException(_)
        )
    )
}

/// Keeps only the error's code or kind: SDK errors can carry request data, and so the share.
fn unavailable<E: ProvideErrorMetadata, R>(
    operation: &'static str,
    error: &SdkError<E, R>,
) -> StoreError {
    let detail = match error {
        SdkError::ServiceError(service) => service
            .err()
            .code()
            .unwrap_or("unknown service error")
            .to_owned(),
        SdkError::TimeoutError(_) => "timeout".to_owned(),
        SdkError::DispatchFailure(_) => "dispatch failure".to_owned(),
        SdkError::ResponseError(_) => "unreadable response".to_owned(),
        SdkError::ConstructionFailure(_) => "request construction failure".to_owned(),
        _ => "unknown error".to_owned(),
    };
    StoreError::Unavailable { operation, detail }
}
