//! The reconcile walk, shared by `custody reconcile` and the scheduled reconcile function: one
//! page of Portal's clients at a time, each client's held shares read from the store and checked
//! with [`crate::domain::reconcile`], each finding handed to the caller (who prints, logs or
//! counts it), and with `retire_as`, each superseded share retired. Where to resume (the next
//! page's cursor) and the totals are the caller's to keep.

use crate::domain::custody::{Actor, CustodyError, Retired};
use crate::domain::reconcile::{HeldShare, ListedPair, reconcile_client};
use crate::domain::{BackupMethod, BackupSharePairId, ClientId, Owner};
use crate::portal_api::{MAX_TAKE, PortalApi, PortalApiError};
use crate::store::Custody;
use serde::{Deserialize, Serialize};

/// What a walk has counted so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub clients: u64,
    pub pairs: u64,
    pub unrecoverable: u64,
    pub orphans: u64,
    pub without_pair_id: u64,
    pub retired: u64,
}

/// One thing the walk found.
pub enum Finding<'a> {
    /// A completed pair whose custodian share is not held here.
    Unrecoverable(&'a ListedPair),
    /// A held share of a pair Portal does not list: left as it is.
    Orphan(&'a HeldShare),
    /// A share a newer completed, held pair superseded, now in history.
    Retired(&'a HeldShare),
}

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error(transparent)]
    Portal(#[from] PortalApiError),
    #[error(transparent)]
    Custody(#[from] CustodyError),
}

pub struct Walk<'a, S> {
    pub store: &'a S,
    pub portal: &'a PortalApi,
    /// Clients per page (at most Portal's 100).
    pub take: u32,
    /// Retire superseded shares as this actor (each audited); `None` only reports.
    pub retire_as: Option<&'a Actor>,
}

impl<S: Custody> Walk<'_, S> {
    /// Checks the page after `cursor` (the first without), adding to `totals` and handing each
    /// finding to `found`; the next page's cursor, or `None` after the last page.
    pub async fn page(
        &self,
        cursor: Option<&str>,
        totals: &mut Totals,
        found: &mut impl FnMut(Finding<'_>),
    ) -> Result<Option<String>, WalkError> {
        let page = self
            .portal
            .clients_page(cursor, self.take.clamp(1, MAX_TAKE))
            .await?;
        for client in &page.results {
            // A client whose shares cannot be read is not proven recoverable: each of its
            // completed pairs counts as unrecoverable (and is named), never as held.
            let client_id = ClientId::parse(&client.id).ok();
            let held = match &client_id {
                None => {
                    tracing::error!(
                        "Portal listed a client id no backup can have: its completed pairs count as unrecoverable"
                    );
                    Vec::new()
                }
                Some(client_id) => match self.store.list(client_id).await {
                    Ok(held) => held,
                    Err(CustodyError::UnknownClient) => Vec::new(),
                    Err(CustodyError::Store(error)) if error.is_integrity_failure() => {
                        tracing::error!(client_id = %client_id, cause = %error, "a stored share of this client is unreadable: its completed pairs count as unrecoverable");
                        Vec::new()
                    }
                    Err(error) => return Err(error.into()),
                },
            };
            let findings = reconcile_client(client, &held);
            totals.clients += 1;
            totals.pairs += findings.pairs as u64;
            totals.without_pair_id += findings.without_pair_id as u64;
            totals.unrecoverable += findings.unrecoverable.len() as u64;
            totals.orphans += findings.orphans.len() as u64;
            findings
                .unrecoverable
                .iter()
                .for_each(|pair| found(Finding::Unrecoverable(pair)));
            findings
                .orphans
                .iter()
                .for_each(|share| found(Finding::Orphan(share)));
            let (Some(actor), Some(client_id)) = (self.retire_as, &client_id) else {
                continue;
            };
            for share in &findings.retirable {
                if self.retire(client_id, share, actor).await? {
                    totals.retired += 1;
                    found(Finding::Retired(share));
                }
            }
        }
        Ok(page.metadata.cursor.filter(|_| !page.results.is_empty()))
    }

    /// Retires one share; `false` if Portal stored its pair again since (left as it is).
    async fn retire(
        &self,
        client_id: &ClientId,
        share: &HeldShare,
        actor: &Actor,
    ) -> Result<bool, WalkError> {
        let stored = |error| CustodyError::Store(crate::domain::StoreError::Corrupt(error));
        let method =
            BackupMethod::parse(&share.backup_method).map_err(|_| stored("backupMethod"))?;
        let pair = BackupSharePairId::parse(&share.backup_share_pair_id)
            .map_err(|_| stored("backupSharePairId"))?;
        let owner = Owner::new(client_id, &method, Some(&pair));
        match self.store.retire(owner, share.version, actor).await {
            Ok(Retired::Retired { .. }) => Ok(true),
            Ok(Retired::AlreadyRetired) | Err(CustodyError::CurrentChanged { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }
}
