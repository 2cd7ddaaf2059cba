//! `/backup/fetch`'s read: every current share of a client that opens, every method and every
//! pair, newest first. One bad row or one unusable key never blocks a client's recovery with the
//! others: it is left out, logged and counted. Only when none opens does a KMS failure become the
//! answer (503: worth retrying).

use super::calls::Order;
use super::item::{Item, StoredShare, share_record, slot_of, string, text};
use super::slot::Slot;
use super::{DynamoDbStore, schema};
use crate::domain::custody::ShareRecord;
use crate::domain::{ClientId, ClientShares, CurrentShare, Share, StoreError, Wanted};
use crate::store::{ShareLookup, ShareReader};
use futures_util::StreamExt;
use std::cmp::Reverse;

/// Shares of one client opened with KMS at once.
const OPENED_AT_ONCE: usize = 32;

impl ShareReader for DynamoDbStore {
    async fn current_shares(&self, client_id: &ClientId) -> Result<ClientShares, StoreError> {
        // The slot, when it was stored, and the envelope, nothing else.
        let fetched = [
            &[schema::BACKUP_METHOD, schema::STORED_AT][..],
            &schema::ENVELOPE,
        ]
        .concat();
        let mut items = self.client_items(client_id, &fetched).await?;
        newest_first(&mut items);
        let mut unreadable = 0;
        let mut stored = Vec::new();
        // By value: each item is freed once its share is copied out (a client's shares can
        // be 2 MB, and the peak counts against the function's memory).
        for item in items {
            match slot_of(&item).and_then(|slot| Ok((slot, StoredShare::from_item(&item)?))) {
                Ok(share) => stored.push(share),
                Err(error) => {
                    unreadable += 1;
                    tracing::error!(cause = %error, client_id = %client_id, "a stored share is unreadable and was left out");
                }
            }
        }
        // One KMS round trip for a client's shares, not one after another; at most
        // `OPENED_AT_ONCE` at a time, so a client with hundreds of pairs does not meet KMS's
        // request quota in one burst.
        let opened = stored.into_iter().map(|(slot, stored)| async move {
            let opened = self
                .share_key
                .open(slot.owner(client_id), &stored.sealed)
                .await;
            (slot, opened)
        });
        let mut shares = Vec::new();
        let (mut unopened, mut first_failure) = (0, None);
        let opened: Vec<_> = futures_util::stream::iter(opened)
            .buffered(OPENED_AT_ONCE)
            .collect()
            .await;
        for (slot, opened) in opened {
            let Slot {
                backup_method,
                backup_share_pair_id,
            } = slot;
            let pair = backup_share_pair_id
                .as_ref()
                .map_or("-", |pair| pair.as_str());
            match opened.map_err(StoreError::from) {
                Ok(share) => shares.push(CurrentShare {
                    backup_method,
                    share,
                }),
                Err(error) if error.is_integrity_failure() => {
                    unreadable += 1;
                    tracing::error!(cause = %error, client_id = %client_id, backup_method = %backup_method, backup_share_pair_id = pair, "a stored share failed its integrity check and was left out");
                }
                Err(error) => {
                    unopened += 1;
                    tracing::error!(cause = %error, client_id = %client_id, backup_method = %backup_method, backup_share_pair_id = pair, "a stored share's key could not be used and it was left out");
                    first_failure.get_or_insert(error);
                }
            }
        }
        ClientShares::served(shares, unreadable, unopened, first_failure)
    }
}

/// For the client-share API: strongly consistent reads, and a share that does not authenticate
/// is an error, never an answer.
impl ShareLookup for DynamoDbStore {
    async fn find_share(
        &self,
        client_id: &ClientId,
        wanted: Wanted<'_>,
    ) -> Result<Option<(ShareRecord, Share)>, StoreError> {
        // One query of the client's partition (a user has a few shares), then one Decrypt.
        let items = self.client_items(client_id, &[]).await?;
        let mut readable = Vec::new();
        for item in &items {
            match share_record(item, true) {
                Ok(record) => readable.push((record, item)),
                Err(error) => {
                    tracing::error!(cause = %error, client_id = %client_id, "a stored share is unreadable and was left out")
                }
            }
        }
        let records: Vec<ShareRecord> = readable.iter().map(|(record, _)| record.clone()).collect();
        let Some(chosen) = wanted.choose(&records) else {
            return Ok(None);
        };
        let (record, item) = readable.swap_remove(chosen);
        let slot = slot_of(item)?;
        let stored = StoredShare::from_item(item)?;
        let share = self
            .share_key
            .open(slot.owner(client_id), &stored.sealed)
            .await?;
        Ok(Some((record, share)))
    }

    async fn current_records(&self, client_id: &ClientId) -> Result<Vec<ShareRecord>, StoreError> {
        let mut items = self.client_items(client_id, &[]).await?;
        newest_first(&mut items);
        items.iter().map(|item| share_record(item, true)).collect()
    }
}

impl DynamoDbStore {
    /// Every current item of a client, every page, strongly consistent (Portal fetches right
    /// after `/backup`); `projection` as [`Self::query_all`] takes it.
    async fn client_items(
        &self,
        client_id: &ClientId,
        projection: &[&str],
    ) -> Result<Vec<Item>, StoreError> {
        let partition = (schema::CLIENT_ID, text(client_id.as_str()));
        self.query_all(
            &self.tables.shares,
            partition,
            Order::OldestFirst,
            projection,
        )
        .await
    }
}

/// Newest stored first (RFC 3339 in UTC with nanoseconds sorts as text); an item without a time
/// last, and the slot breaking ties, so the order never depends on DynamoDB's.
fn newest_first(items: &mut [Item]) {
    let stored_at = |item: &Item| string(item, schema::STORED_AT).ok().map(str::to_owned);
    let slot = |item: &Item| string(item, schema::BACKUP_METHOD).ok().map(str::to_owned);
    items.sort_by_cached_key(|item| (Reverse(stored_at(item)), slot(item)));
}
