//! The DynamoDB store: one current share per (clientId, backupMethod, backupSharePairId) in the
//! shares table ([`slot`]), every replaced share kept in the history table, and the operator's
//! audit records in the audit table. Every share is sealed (see [`crate::domain::envelope`])
//! before it is written.
//!
//! - [`schema`]: attribute names; [`item`]: items in and records out;
//! - `calls`: the conditional put, the paginated query and the retry policy the rest share;
//!   `row`: a key's current row, a share or one that does not read and is set aside;
//! - `write`: `/backup`; `read`: `/backup/fetch`; `custody`: the operator's jobs and eject.
//! - [`portable`]: the sealed copy of every table that `custody dump` writes and `custody load` reads;
//!   [`merge`]: `custody load --merge`, a dump of a damaged table merged into restored ones;
//!   [`reseal`]: `custody reseal`, current shares sealed again under today's keys;
//!   [`import`]: `custody import`, the shares of the store a customer ran before.

mod audit;
pub mod audit_item;
mod audit_trail;
mod calls;
mod custody;
pub mod import;
pub mod item;
pub mod merge;
pub mod owner_bind;
pub mod pair_ids;
mod pair_restore;
pub mod portable;
pub mod prune;
mod read;
pub mod reseal;
mod retire;
mod row;
pub mod schema;
mod seal_again;
pub mod slot;
mod write;

pub use item::{Item, StoredShare};
pub use prune::NEWEST_VERSIONS_NEVER_PRUNED;

use crate::audit_key::AuditKey;
use crate::config::Tables;
use crate::kms::ShareKey;
use aws_sdk_dynamodb::Client;
use std::time::SystemTime;

pub struct DynamoDbStore {
    client: Client,
    tables: Tables,
    /// The KMS key that wraps each share's data key.
    share_key: ShareKey,
    /// The KMS key that signs each audit record; writing or checking one needs it.
    audit_key: Option<AuditKey>,
    /// Where an audit record's `recordedAt` and `at` come from. Records are ordered by their
    /// sequence number, so a writer whose clock is off changes nothing but these two fields.
    clock: fn() -> SystemTime,
}

impl DynamoDbStore {
    pub fn new(client: Client, tables: Tables, share_key: ShareKey) -> Self {
        Self {
            client,
            tables,
            share_key,
            audit_key: None,
            clock: SystemTime::now,
        }
    }

    /// This store, signing (and checking) audit records with `audit_key`.
    pub fn signing_audit(self, audit_key: Option<AuditKey>) -> Self {
        Self { audit_key, ..self }
    }

    /// This store, reading the time for audit records from `clock` (a writer whose clock is off).
    pub fn with_clock(self, clock: fn() -> SystemTime) -> Self {
        Self { clock, ..self }
    }

    /// Opens the TLS connections a first request needs, to DynamoDB and to KMS, during init:
    /// a `GetItem` of a key no share can have (a clientId of one space fails validation), and
    /// KMS `DescribeKey`. A failure is logged and left for the first request to meet.
    pub async fn open_connections(&self) {
        let placeholder = item::text(" ");
        let read = self
            .client
            .get_item()
            .table_name(&self.tables.shares)
            .key(schema::CLIENT_ID, placeholder.clone())
            .key(schema::BACKUP_METHOD, placeholder)
            .send();
        let (read, ()) = tokio::join!(read, self.share_key.open_connection());
        if let Err(error) = read {
            tracing::warn!(
                detail = crate::aws::error_detail(&error),
                "GetItem during init failed: the first request opens its own DynamoDB connection"
            );
        }
    }
}
