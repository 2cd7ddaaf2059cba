//! `custody pair-ids`: a share stored before pairs, in its method's pair-less slot without a
//! `backupSharePairId` (Portal's body had none), gets the one inside its own JSON as that
//! attribute, so that `reconcile` can match it to Portal's pair. The share is opened (Decrypt),
//! read and dropped; its bytes and slot never change, and the attribute is only ever added.

use super::calls::unavailable;
use super::item::{Item, StoredShare, client_and_slot, number, row_key, text, whole};
use super::{DynamoDbStore, schema};
use crate::domain::custody::CustodyError;
use crate::domain::{BackupSharePairId, StoreError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

/// What `custody pair-ids` did to one current share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PairIdFilled {
    Filled(BackupSharePairId),
    /// Its slot or an attribute already names its pair.
    AlreadyKnown,
    /// Its JSON names no pair (a legacy share from before Portal's pairs).
    NoneInShare,
    /// Portal stored another share there meanwhile: left as it is.
    ChangedMeanwhile,
}

impl DynamoDbStore {
    /// Fills in the pair id of the current share `item` (as `dump_page` read it).
    pub async fn fill_pair_id(&self, item: &Item) -> Result<PairIdFilled, CustodyError> {
        let (client_id, slot) = client_and_slot(item)?;
        if slot.backup_share_pair_id.is_some() || item.contains_key(schema::BACKUP_SHARE_PAIR_ID) {
            return Ok(PairIdFilled::AlreadyKnown);
        }
        let stored = StoredShare::from_item(item)?;
        let owner = slot.owner(&client_id);
        let share = self
            .share_key
            .open(owner, &stored.sealed)
            .await
            .map_err(StoreError::from)?;
        let Some(pair_id) = BackupSharePairId::embedded_in(&share) else {
            return Ok(PairIdFilled::NoneInShare);
        };
        drop(share);
        let written = self
            .client
            .update_item()
            .table_name(&self.tables.shares)
            .set_key(Some(row_key(owner)))
            .update_expression("SET #pair = :pair")
            .condition_expression("#version = :version AND attribute_not_exists(#pair)")
            .expression_attribute_names("#pair", schema::BACKUP_SHARE_PAIR_ID)
            .expression_attribute_names("#version", schema::VERSION)
            .expression_attribute_values(":pair", text(pair_id.as_str()))
            .expression_attribute_values(":version", whole(number(item, schema::VERSION)?))
            .send()
            .await;
        match written {
            Ok(_) => Ok(PairIdFilled::Filled(pair_id)),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(PairIdFilled::ChangedMeanwhile)
            }
            Err(error) => Err(unavailable("UpdateItem", &error).into()),
        }
    }
}
