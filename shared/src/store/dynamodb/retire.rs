//! `reconcile --retire`: a pair's share that a newer completed pair of the same wallet and method
//! supersedes leaves the shares table (and so `/backup/fetch`'s answer) for the history table.
//! Audited first; the copy in history is durable before the current item goes, and it goes only
//! if it is still the version reconcile read. Never a method's pair-less share.

use super::calls::unavailable;
use super::item::{row_key, share_record, whole};
use super::row::CurrentItem;
use super::{DynamoDbStore, schema};
use crate::domain::custody::{Action, Actor, CustodyError, Retired};
use crate::domain::{Owner, StoreError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;

impl DynamoDbStore {
    pub(super) async fn retire_share(
        &self,
        owner: Owner<'_>,
        version: u64,
        actor: &Actor,
    ) -> Result<Retired, CustodyError> {
        if owner.backup_share_pair_id.is_none() {
            return Err(CustodyError::NotRetirable);
        }
        let Some(current) = self.read_current(owner).await? else {
            return Ok(Retired::AlreadyRetired);
        };
        if current.version != version {
            return Err(CustodyError::CurrentChanged {
                expected: format!("version {version}"),
                found: format!("version {}", current.version),
            });
        }
        let record = share_record(&current.item, true)?;
        self.audit(owner, Action::Retire, actor, &record).await?;
        // Portal stored this pair again meanwhile: it stays, and so does the copy in history.
        match self.move_to_history(owner, current).await? {
            Some(kept) => Ok(Retired::Retired { version, kept }),
            None => Err(CustodyError::CurrentChanged {
                expected: format!("version {version}"),
                found: "a newer version".to_owned(),
            }),
        }
    }

    /// Copies `current` into history, then deletes it if it is still that version: the version
    /// history keeps it under, or `None` if it changed. The copy is durable before it goes.
    pub(super) async fn move_to_history(
        &self,
        owner: Owner<'_>,
        current: CurrentItem,
    ) -> Result<Option<u64>, StoreError> {
        let version = current.version;
        let kept = self.archive(owner, current).await?;
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.tables.shares)
            .set_key(Some(row_key(owner)))
            .condition_expression("#version = :version")
            .expression_attribute_names("#version", schema::VERSION)
            .expression_attribute_values(":version", whole(version))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(Some(kept)),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(DeleteItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(unavailable("DeleteItem", &error)),
        }
    }
}
