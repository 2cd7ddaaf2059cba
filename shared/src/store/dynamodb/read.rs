//! `/backup/fetch`'s read: every current share of a client that opens. One bad row or one
//! unusable key never blocks a client's recovery with the others: it is left out, logged and
//! counted. Only when none opens does a KMS failure become the answer (503: worth retrying).

use super::calls::Order;
use super::item::{StoredShare, share_record, string, text};
use super::{DynamoDbStore, schema};
use crate::domain::custody::ShareRecord;
use crate::domain::{BackupMethod, ClientId, ClientShares, CurrentShare, Owner, Share, StoreError};
use crate::store::{ShareLookup, ShareReader};

impl ShareReader for DynamoDbStore {
    async fn current_shares(&self, client_id: &ClientId) -> Result<ClientShares, StoreError> {
        let partition = (schema::CLIENT_ID, text(client_id.as_str()));
        // The backupMethod and the envelope, nothing else.
        let fetched = [&[schema::BACKUP_METHOD][..], &schema::ENVELOPE].concat();
        let items = self
            .query_all(&self.tables.shares, partition, Order::OldestFirst, &fetched)
            .await?;
        let mut unreadable = 0;
        let mut stored = Vec::new();
        // By value: each item is freed once its share is copied out (a client's shares can
        // be 2 MB, and the peak counts against the function's memory).
        for item in items {
            let read = string(&item, schema::BACKUP_METHOD).and_then(|method| {
                Ok((
                    BackupMethod::stored(method.to_owned()),
                    StoredShare::from_item(&item)?,
                ))
            });
            match read {
                Ok(share) => stored.push(share),
                Err(error) => {
                    unreadable += 1;
                    tracing::error!(cause = %error, client_id = %client_id, "a stored share is unreadable and was left out");
                }
            }
        }
        // One KMS round trip for all of the client's shares, not one after another.
        let opened = stored
            .into_iter()
            .map(|(backup_method, stored)| async move {
                let opened = self
                    .share_key
                    .open(Owner::new(client_id, &backup_method), &stored.sealed)
                    .await;
                (backup_method, opened)
            });
        let mut shares = Vec::new();
        let (mut unopened, mut first_failure) = (0, None);
        for (backup_method, opened) in futures_util::future::join_all(opened).await {
            match opened.map_err(StoreError::from) {
                Ok(share) => shares.push(CurrentShare {
                    backup_method,
                    share,
                }),
                Err(error) if error.is_integrity_failure() => {
                    unreadable += 1;
                    tracing::error!(cause = %error, client_id = %client_id, backup_method = %backup_method, "a stored share failed its integrity check and was left out");
                }
                Err(error) => {
                    unopened += 1;
                    tracing::error!(cause = %error, client_id = %client_id, backup_method = %backup_method, "a stored share's key could not be used and it was left out");
                    first_failure.get_or_insert(error);
                }
            }
        }
        match first_failure {
            Some(error) if shares.is_empty() => Err(error),
            _ => Ok(ClientShares {
                shares,
                unreadable,
                unopened,
            }),
        }
    }
}

/// For the client-share API: strongly consistent reads, and a share that does not authenticate
/// is an error, never an answer.
impl ShareLookup for DynamoDbStore {
    async fn current_share(
        &self,
        owner: Owner<'_>,
    ) -> Result<Option<(ShareRecord, Share)>, StoreError> {
        let Some(current) = self.read_current(owner).await? else {
            return Ok(None);
        };
        let record = share_record(&current.item, true)?;
        let share = self.share_key.open(owner, &current.share.sealed).await?;
        Ok(Some((record, share)))
    }

    async fn current_records(&self, client_id: &ClientId) -> Result<Vec<ShareRecord>, StoreError> {
        let partition = (schema::CLIENT_ID, text(client_id.as_str()));
        let items = self
            .query_all(&self.tables.shares, partition, Order::OldestFirst, &[])
            .await?;
        items.iter().map(|item| share_record(item, true)).collect()
    }
}
