//! A portable copy of the three tables that needs no plaintext: every item exactly as stored
//! (shares still sealed), in DynamoDB's own JSON, so that another stack, another region or
//! another account can take it in. For the `custody dump` and `custody load` commands.
//!
//! Loading never overwrites: each item goes in only where its key is free, so a load can be run
//! again, and an item that differs from one already there is reported, never replaced.

use super::calls::{Condition, Put, RETRY, unavailable};
use super::item::Item;
use super::{DynamoDbStore, schema};
use crate::domain::StoreError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use serde_json::{Map, Value, json};

/// Which of the stack's tables an item belongs to, by its role (table names differ per stack).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TableRole {
    Shares,
    History,
    Audit,
}

/// What loading one item did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loaded {
    Written,
    /// The identical item was already there (a load run again).
    AlreadyThere,
    /// A different item holds its key: left as it is, and reported.
    Different,
}

impl TableRole {
    pub const ALL: [Self; 3] = [Self::Shares, Self::History, Self::Audit];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shares => "shares",
            Self::History => "history",
            Self::Audit => "audit",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// The table's partition and sort keys.
    fn key_attributes(self) -> [&'static str; 2] {
        match self {
            Self::Shares => [schema::CLIENT_ID, schema::BACKUP_METHOD],
            Self::History => [schema::OWNER, schema::VERSION],
            Self::Audit => [schema::OWNER, schema::RECORDED_AT],
        }
    }
}

impl DynamoDbStore {
    /// The name of this stack's table in `role`.
    pub fn table(&self, role: TableRole) -> &str {
        match role {
            TableRole::Shares => &self.tables.shares,
            TableRole::History => &self.tables.history,
            TableRole::Audit => &self.tables.audit,
        }
    }

    /// One page of a table's items, as stored, strongly consistent, from `start` (`None`: the
    /// first); with where the next page starts (`None`: this was the last). The operator's only:
    /// no function may Scan.
    pub async fn dump_page(
        &self,
        role: TableRole,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let page = self
            .client
            .scan()
            .table_name(self.table(role))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|error| unavailable("Scan", &error))?;
        Ok((page.items.unwrap_or_default(), page.last_evaluated_key))
    }

    /// Puts `item` into its table where its key is free; never over another item.
    pub async fn load_item(&self, role: TableRole, item: &Item) -> Result<Loaded, StoreError> {
        let partition = role.key_attributes()[0];
        let mut rounds = RETRY.rounds();
        loop {
            rounds.next().await?;
            let put = self.put_if(self.table(role), partition, item.clone(), Condition::Absent);
            match put.await? {
                Put::Written => return Ok(Loaded::Written),
                // A transaction held the key: try again.
                Put::Conflicted => {}
                Put::ConditionFailed => {
                    return Ok(match self.holds(role, item).await? {
                        true => Loaded::AlreadyThere,
                        false => Loaded::Different,
                    });
                }
            }
        }
    }

    /// Whether the item under `item`'s key is exactly `item` (one strongly consistent read).
    pub async fn holds(&self, role: TableRole, item: &Item) -> Result<bool, StoreError> {
        let key: Item = role
            .key_attributes()
            .into_iter()
            .map(|name| {
                let value = item.get(name).ok_or(StoreError::Corrupt(name))?;
                Ok((name.to_owned(), value.clone()))
            })
            .collect::<Result<_, StoreError>>()?;
        let there = self
            .client
            .get_item()
            .table_name(self.table(role))
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| unavailable("GetItem", &error))?;
        Ok(there.item.as_ref() == Some(item))
    }
}

/// An item in DynamoDB's JSON (`{"clientId": {"S": "..."}, "sealedShare": {"B": "<base64>"}}`),
/// as `aws dynamodb get-item` prints it. The tables hold only strings, numbers and binaries.
pub fn item_to_json(item: &Item) -> Result<Value, StoreError> {
    let mut attributes = Map::new();
    for (name, value) in item {
        let value = match value {
            AttributeValue::S(text) => json!({ "S": text }),
            AttributeValue::N(number) => json!({ "N": number }),
            AttributeValue::B(bytes) => json!({ "B": BASE64_STANDARD.encode(bytes.as_ref()) }),
            _ => return Err(StoreError::Corrupt("an attribute that is not S, N or B")),
        };
        attributes.insert(name.clone(), value);
    }
    Ok(Value::Object(attributes))
}

/// The inverse of [`item_to_json`]; `None` for anything it would not have written.
pub fn item_from_json(value: &Value) -> Option<Item> {
    let mut item = Item::new();
    for (name, typed) in value.as_object()? {
        let typed = typed.as_object()?;
        let (kind, value) = typed.iter().next().filter(|_| typed.len() == 1)?;
        let value = match (kind.as_str(), value.as_str()?) {
            ("S", text) => AttributeValue::S(text.to_owned()),
            ("N", number) if number.parse::<u128>().is_ok() => AttributeValue::N(number.to_owned()),
            ("B", encoded) => AttributeValue::B(Blob::new(BASE64_STANDARD.decode(encoded).ok()?)),
            _ => return None,
        };
        item.insert(name.clone(), value);
    }
    Some(item)
}
