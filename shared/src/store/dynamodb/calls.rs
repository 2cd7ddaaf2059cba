//! The few DynamoDB calls everything else is made of: one consistent read of a current share,
//! one conditional put, one paginated query, and one retry policy for writers that lose a race.

use super::item::{Item, number, owner_value, whole};
use super::{DynamoDbStore, schema};
use crate::aws::error_detail;
use crate::domain::{Owner, StoreError};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use std::time::Duration;

/// How often a writer that lost a race to a concurrent one tries again, and how long it waits.
/// Each round has a winner, so 64 rounds cover far more racing writers than Portal's one request
/// per curve; exponential backoff with full jitter spreads them out so each round has few.
pub struct Retry {
    pub attempts: u32,
}

pub const RETRY: Retry = Retry { attempts: 64 };
const BACKOFF_BASE_MS: u64 = 25;
const MAX_BACKOFF_MS: u64 = 400;

impl Retry {
    /// The rounds of one write: every writer that reads, decides and writes on condition runs
    /// `loop { rounds.next().await?; … }` and returns once it has won.
    pub fn rounds(&self) -> Rounds {
        Rounds {
            played: 0,
            attempts: self.attempts,
        }
    }
}

/// The rounds a writer has played, from [`Retry::rounds`].
pub struct Rounds {
    played: u32,
    attempts: u32,
}

impl Rounds {
    /// Starts the next round, after a pause for all but the first; once every round is lost the
    /// write gives up as [`StoreError::Contended`].
    pub async fn next(&mut self) -> Result<(), StoreError> {
        if self.played == self.attempts {
            return Err(StoreError::Contended {
                attempts: self.attempts,
            });
        }
        if self.played > 0 {
            let cap = (BACKOFF_BASE_MS << (self.played - 1).min(4)).min(MAX_BACKOFF_MS);
            tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=cap))).await;
        }
        self.played += 1;
        Ok(())
    }
}

/// What must be true for a conditional put to write.
#[derive(Clone)]
pub enum Condition {
    /// No item has this key yet.
    Absent,
    /// No item has this key, or the one there holds the share with this hash (the same copy
    /// written again).
    AbsentOrSameShare(String),
    /// The item there has this version: nobody replaced it since it was read.
    Version(u64),
    /// No item has this key, or the one there has a lower `sequence` (an audit head behind).
    AbsentOrSequenceBelow(u64),
    /// The item there has this raw `version` attribute (or, `None`, an item without one): an
    /// unreadable row, unchanged since it was read.
    VersionAttribute(Option<AttributeValue>),
}

/// How a conditional put ended, short of failing: a writer that did not write lost a race.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Put {
    Written,
    /// Another writer got there first.
    ConditionFailed,
    /// A transaction (an operator's, say) held the item at the same moment.
    Conflicted,
}

/// Which way a query reads its sort key.
#[derive(Clone, Copy)]
pub enum Order {
    OldestFirst,
    NewestFirst,
}

impl DynamoDbStore {
    /// The highest version of this share kept in history, if any.
    pub(super) async fn newest_kept_version(
        &self,
        owner: Owner<'_>,
    ) -> Result<Option<u64>, StoreError> {
        let newest = self
            .query(&self.tables.history, schema::OWNER, owner_value(owner))
            .scan_index_forward(false)
            .projection_expression("#version")
            .expression_attribute_names("#version", schema::VERSION)
            .limit(1)
            .send()
            .await
            .map_err(|error| unavailable("Query", &error))?;
        newest
            .items()
            .first()
            .map(|item| number(item, schema::VERSION))
            .transpose()
    }

    /// Puts `item` in `table` (whose partition key is `partition`) if `condition` holds.
    pub(super) async fn put_if(
        &self,
        table: &str,
        partition: &str,
        item: Item,
        condition: Condition,
    ) -> Result<Put, StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item));
        let put = match condition {
            Condition::Absent => put
                .condition_expression("attribute_not_exists(#partition)")
                .expression_attribute_names("#partition", partition),
            Condition::AbsentOrSameShare(sha256) => put
                .condition_expression("attribute_not_exists(#partition) OR #sha256 = :sha256")
                .expression_attribute_names("#partition", partition)
                .expression_attribute_names("#sha256", schema::SHARE_SHA256)
                .expression_attribute_values(":sha256", AttributeValue::S(sha256)),
            Condition::Version(version) => put
                .condition_expression("#version = :version")
                .expression_attribute_names("#version", schema::VERSION)
                .expression_attribute_values(":version", whole(version)),
            Condition::AbsentOrSequenceBelow(sequence) => put
                .condition_expression("attribute_not_exists(#partition) OR #sequence < :sequence")
                .expression_attribute_names("#partition", partition)
                .expression_attribute_names("#sequence", schema::SEQUENCE)
                .expression_attribute_values(":sequence", whole(sequence)),
            Condition::VersionAttribute(Some(raw)) => put
                .condition_expression("#version = :version")
                .expression_attribute_names("#version", schema::VERSION)
                .expression_attribute_values(":version", raw),
            Condition::VersionAttribute(None) => put
                .condition_expression(
                    "attribute_exists(#partition) AND attribute_not_exists(#version)",
                )
                .expression_attribute_names("#partition", partition)
                .expression_attribute_names("#version", schema::VERSION),
        };
        match put.send().await {
            Ok(_) => Ok(Put::Written),
            Err(error) => match error.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(Put::ConditionFailed),
                Some(PutItemError::TransactionConflictException(_)) => Ok(Put::Conflicted),
                _ => Err(unavailable("PutItem", &error)),
            },
        }
    }

    /// Every item under one partition key, every page, strongly consistent; `projection` names
    /// the attributes to read (all of them when empty).
    pub(super) async fn query_all(
        &self,
        table: &str,
        partition: (&str, AttributeValue),
        order: Order,
        projection: &[&str],
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .query(table, partition.0, partition.1.clone())
                .scan_index_forward(matches!(order, Order::OldestFirst))
                .set_exclusive_start_key(start);
            if !projection.is_empty() {
                let names: Vec<String> = (0..projection.len()).map(|i| format!("#p{i}")).collect();
                query = query.projection_expression(names.join(", "));
                for (name, attribute) in names.iter().zip(projection) {
                    query = query.expression_attribute_names(name, *attribute);
                }
            }
            let page = query
                .send()
                .await
                .map_err(|error| unavailable("Query", &error))?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// A strongly consistent query of one partition: the start of every query here.
    pub(super) fn query(
        &self,
        table: &str,
        partition: &str,
        value: AttributeValue,
    ) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(table)
            .key_condition_expression("#partition = :partition")
            .expression_attribute_names("#partition", partition)
            .expression_attribute_values(":partition", value)
            .consistent_read(true)
    }
}

/// An SDK failure as a store error that names the operation and an error code, never data.
pub fn unavailable<E: ProvideErrorMetadata, R>(
    operation: &'static str,
    error: &SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable {
        operation,
        detail: error_detail(error),
    }
}
