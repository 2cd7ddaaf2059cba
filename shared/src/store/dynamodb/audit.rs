//! The audit trail's writer: every export, restore and reseal adds one record, chained to the
//! share's newest, before it acts; records are only ever added.

use super::calls::{Condition, Order, Put, RETRY};
use super::item::{audit_digest, audit_item, owner_value};
use super::{DynamoDbStore, schema};
use crate::domain::custody::{Action, Actor, ShareRecord};
use crate::domain::{Owner, StoreError};
use aws_sdk_dynamodb::types::AttributeValue;
use std::time::{SystemTime, UNIX_EPOCH};

impl DynamoDbStore {
    /// Adds an audit record to the audit table, never over another: its sort key is the time in
    /// nanoseconds, and a collision takes the next one.
    pub(super) async fn audit(
        &self,
        owner: Owner<'_>,
        action: Action,
        actor: &Actor,
        record: &ShareRecord,
    ) -> Result<(), StoreError> {
        let mut item = audit_item(owner, action, actor, record);
        // Chained to the newest record of this share, so that rewriting or removing one shows.
        let partition = (schema::OWNER, owner_value(owner));
        let newest = self
            .query_all(&self.tables.audit, partition, Order::NewestFirst, &[])
            .await?;
        let previous = newest.first().map(audit_digest).unwrap_or_default();
        item.insert(
            schema::PREVIOUS_DIGEST.to_owned(),
            AttributeValue::S(previous.clone()),
        );
        let mut nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        for attempt in 0..RETRY.attempts {
            RETRY.pause(attempt).await;
            let mut item = item.clone();
            item.insert(
                schema::RECORDED_AT.to_owned(),
                AttributeValue::N(nanos.to_string()),
            );
            let digest = audit_digest(&item);
            let put = self.put_if(&self.tables.audit, schema::OWNER, item, Condition::Absent);
            match put.await? {
                Put::Written => {
                    // A copy of the digest outside the table: the log keeps what a rewrite hides.
                    tracing::info!(client_id = %owner.client_id, backup_method = %owner.backup_method, recorded_at = %nanos, digest, previous_digest = %previous, "audit record written");
                    return Ok(());
                }
                Put::Conflicted => {}
                Put::ConditionFailed => nanos += 1,
            }
        }
        Err(RETRY.exhausted())
    }
}
