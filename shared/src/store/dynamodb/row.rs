//! A key's current row as the writers read it: a share, or a row that does not read as one and
//! must be set aside rather than block the next share.

use super::calls::{Condition, unavailable};
use super::item::{Item, StoredShare, number, row_key};
use super::{DynamoDbStore, schema};
use crate::domain::{Owner, StoreError};

/// The current item of one share, as read before replacing it.
pub struct CurrentItem {
    pub share: StoredShare,
    pub version: u64,
    pub item: Item,
}

/// A current item that does not read as a share (a hand edit, a bad merge, a newer `sealFormat`
/// left behind by a rolled-back deployment). It is never opened or served, and never blocks a new
/// share: a replacement sets it aside in history exactly as it is.
pub struct UnreadableItem {
    pub item: Item,
    /// Its version, when that much still reads.
    pub version: Option<u64>,
    /// The attribute it failed on.
    pub cause: &'static str,
}

/// What a key's current row holds, as a writer reads it.
pub enum Current {
    Share(CurrentItem),
    Unreadable(UnreadableItem),
}

impl Current {
    pub fn version(&self) -> Option<u64> {
        match self {
            Self::Share(current) => Some(current.version),
            Self::Unreadable(unreadable) => unreadable.version,
        }
    }

    /// The condition under which a put replaces exactly this row and nothing written since.
    pub fn still_current(&self) -> Condition {
        match self {
            Self::Share(current) => Condition::Version(current.version),
            Self::Unreadable(unreadable) => {
                Condition::VersionAttribute(unreadable.item.get(schema::VERSION).cloned())
            }
        }
    }
}

impl From<CurrentItem> for Current {
    fn from(current: CurrentItem) -> Self {
        Self::Share(current)
    }
}

impl DynamoDbStore {
    /// The current share of `owner`, strongly consistent: Portal fetches right after `/backup`.
    /// An unreadable row is `Corrupt`: for the callers that must not act on it.
    pub(super) async fn read_current(
        &self,
        owner: Owner<'_>,
    ) -> Result<Option<CurrentItem>, StoreError> {
        match self.read_row(owner).await? {
            None => Ok(None),
            Some(Current::Share(current)) => Ok(Some(current)),
            Some(Current::Unreadable(unreadable)) => Err(StoreError::Corrupt(unreadable.cause)),
        }
    }

    /// The current row of `owner`, strongly consistent, readable or not: for the writers, which
    /// set an unreadable row aside rather than stop at it.
    pub(super) async fn read_row(&self, owner: Owner<'_>) -> Result<Option<Current>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.shares)
            .set_key(Some(row_key(owner)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| unavailable("GetItem", &error))?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let read = StoredShare::from_item(&item)
            .and_then(|share| Ok((share, number(&item, schema::VERSION)?)));
        Ok(Some(match read {
            Ok((share, version)) => Current::Share(CurrentItem {
                share,
                version,
                item,
            }),
            Err(error) => Current::Unreadable(UnreadableItem {
                version: number(&item, schema::VERSION).ok(),
                cause: match error {
                    StoreError::Corrupt(attribute) => attribute,
                    _ => "item",
                },
                item,
            }),
        }))
    }
}

/// Whether a kept item reads as a share; one set aside unreadable is named in the log instead.
pub fn readable_or_named(item: &Item) -> bool {
    let Some(cause) = item.get(schema::SET_ASIDE_UNREADABLE) else {
        return true;
    };
    tracing::warn!(
        version = number(item, schema::VERSION).ok(),
        unreadable = ?cause.as_s().ok(),
        "a kept version was set aside unreadable: see docs/operations.md"
    );
    false
}
