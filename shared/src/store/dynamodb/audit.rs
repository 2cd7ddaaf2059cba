//! The audit trail: every export, restore, reseal and retire adds one record before it acts;
//! records are only ever added.
//!
//! Each record has its share's next `sequence` number and names the digest of the record before
//! it (`previousDigest`); its own digest is a MAC under the audit key ([`AuditKey`]) of its
//! attributes. The record and the share's head item (the newest `sequence` and `digest`) are
//! written in one transaction, on condition that the head is still what was read: two writers
//! never take the same number, and the order is the writers', never their clocks'. Records
//! written before 0.4.0 have no sequence and a plain SHA-256 digest; they come first, ordered by
//! `recordedAt` as they always were.

use super::audit_item::{audit_canonical, audit_digest, audit_item};
use super::calls::{RETRY, unavailable};
use super::item::{Item, number, owner_value, string, text, whole};
use super::{DynamoDbStore, schema};
use crate::audit_key::AuditKey;
use crate::domain::custody::{Action, Actor, ShareRecord};
use crate::domain::{Owner, StoreError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use sha2::{Digest, Sha256};
use std::time::UNIX_EPOCH;

/// The trail of `custody import` runs: a one-element JSON array, so no share's partition (two
/// or three elements) is ever it.
pub const IMPORT_RUNS: &str = "[\"import runs\"]";

impl DynamoDbStore {
    /// Adds an audit record, chained to the share's newest and signed, never over another.
    pub(super) async fn audit(
        &self,
        owner: Owner<'_>,
        action: Action,
        actor: &Actor,
        record: &ShareRecord,
    ) -> Result<(), StoreError> {
        let now = (self.clock)();
        let item = || audit_item(owner, action, actor, record, now);
        self.append_record(owner_value(owner), item, now).await
    }

    /// Adds the record of one `custody import` run to the imports' own trail ([`IMPORT_RUNS`]):
    /// who, when, and the run's report (its source and counts, never a share) as its reason.
    pub async fn audit_import_run(
        &self,
        actor: &Actor,
        report: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let now = (self.clock)();
        let report = report.to_string();
        let item = || {
            Item::from([
                (schema::OWNER.into(), text(IMPORT_RUNS)),
                (schema::ACTION.into(), text(Action::Import.as_str())),
                (schema::ACTOR.into(), text(&actor.arn)),
                (schema::VIA.into(), text(actor.via.as_str())),
                (
                    schema::AT.into(),
                    text(&humantime::format_rfc3339_nanos(now).to_string()),
                ),
                (schema::SHARE_VERSION.into(), whole(0)),
                (
                    schema::SHARE_SHA256.into(),
                    text(&hex(&Sha256::digest(report.as_bytes()))),
                ),
                (schema::REASON.into(), text(&report)),
            ])
        };
        self.append_record(text(IMPORT_RUNS), item, now).await
    }

    /// Writes the record `base` makes as the next of the trail `partition`, with its sequence,
    /// the digest it follows and its own MAC (made afresh each attempt: no item is cloned).
    async fn append_record(
        &self,
        partition: AttributeValue,
        base: impl Fn() -> Item,
        now: std::time::SystemTime,
    ) -> Result<(), StoreError> {
        let key = self.audit_key()?;
        let mut nanos = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let mut rounds = RETRY.rounds();
        loop {
            rounds.next().await?;
            let (sequence, previous) = self.audit_head(&partition).await?;
            let mut item = base();
            item.insert(schema::PREVIOUS_DIGEST.into(), text(&previous));
            item.insert(schema::SEQUENCE.into(), whole(sequence + 1));
            item.insert(schema::RECORDED_AT.into(), nanoseconds(nanos));
            let digest = key.sign(&Sha256::digest(audit_canonical(&item))).await?;
            item.insert(schema::DIGEST.into(), text(&digest));
            let head = Item::from([
                (schema::OWNER.into(), partition.clone()),
                (schema::RECORDED_AT.into(), whole(schema::HEAD_RECORDED_AT)),
                (schema::SEQUENCE.into(), whole(sequence + 1)),
                (schema::DIGEST.into(), text(&digest)),
            ]);
            match self.put_record(item, head, sequence).await? {
                Written::Yes => {
                    // A copy of the digest outside the table: the log keeps what a rewrite hides.
                    let trail = partition.as_s().map(String::as_str).unwrap_or_default();
                    tracing::info!(trail, sequence = sequence + 1, recorded_at = %nanos, digest, previous_digest = %previous, "audit record written");
                    return Ok(());
                }
                Written::KeyTaken => nanos += 1,
                Written::HeadMoved => {}
            }
        }
    }

    /// Whether audit records can be written (`AUDIT_KEY_ID` set): checked before a job that
    /// records only at its end.
    pub fn signs_audit_records(&self) -> bool {
        self.audit_key.is_some()
    }

    pub(super) fn audit_key(&self) -> Result<&AuditKey, StoreError> {
        self.audit_key.as_ref().ok_or(StoreError::AuditKeyMissing)
    }

    /// The share's newest sequence number and digest: its head item's, or before any sequenced
    /// record, 0 and the newest earlier record's digest ("" for none).
    async fn audit_head(&self, partition: &AttributeValue) -> Result<(u64, String), StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.audit)
            .key(schema::OWNER, partition.clone())
            .key(schema::RECORDED_AT, whole(schema::HEAD_RECORDED_AT))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| unavailable("GetItem", &error))?;
        if let Some(head) = output.item {
            let digest = string(&head, schema::DIGEST)?.to_owned();
            return Ok((number(&head, schema::SEQUENCE)?, digest));
        }
        let newest = self
            .query(&self.tables.audit, schema::OWNER, partition.clone())
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .map_err(|error| unavailable("Query", &error))?;
        Ok((
            0,
            newest.items().first().map(audit_digest).unwrap_or_default(),
        ))
    }

    /// Writes `record` and moves the head from `sequence` to the record's, both or neither.
    async fn put_record(
        &self,
        record: Item,
        head: Item,
        sequence: u64,
    ) -> Result<Written, StoreError> {
        let table = &self.tables.audit;
        let put_record = Put::builder()
            .table_name(table)
            .set_item(Some(record))
            .condition_expression("attribute_not_exists(#owner)")
            .expression_attribute_names("#owner", schema::OWNER);
        let put_head = Put::builder().table_name(table).set_item(Some(head));
        let put_head = match sequence {
            0 => put_head
                .condition_expression("attribute_not_exists(#owner)")
                .expression_attribute_names("#owner", schema::OWNER),
            _ => put_head
                .condition_expression("#sequence = :sequence")
                .expression_attribute_names("#sequence", schema::SEQUENCE)
                .expression_attribute_values(":sequence", whole(sequence)),
        };
        let built = |put: aws_sdk_dynamodb::types::builders::PutBuilder| {
            put.build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(|_| StoreError::Corrupt(schema::OWNER))
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(built(put_record)?)
            .transact_items(built(put_head)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Written::Yes),
            Err(error) => match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    let failed = |i: usize| {
                        cancelled
                            .cancellation_reasons()
                            .get(i)
                            .and_then(|reason| reason.code())
                            == Some("ConditionalCheckFailed")
                    };
                    Ok(if failed(0) {
                        Written::KeyTaken
                    } else {
                        Written::HeadMoved
                    })
                }
                _ => Err(unavailable("TransactWriteItems", &error)),
            },
        }
    }
}

/// How a transactional record write ended, short of failing.
enum Written {
    Yes,
    /// Another record has this `recordedAt`: the next nanosecond.
    KeyTaken,
    /// Another writer added a record since the head was read: read it again.
    HeadMoved,
}

fn nanoseconds(value: u128) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
