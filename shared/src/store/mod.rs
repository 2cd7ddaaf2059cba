//! Where custodian backup shares live, behind one small trait per caller, so each signature says
//! exactly what it may touch: `/backup` writes, `/backup/fetch` reads, the eject endpoint exports,
//! and the operator's CLI does the custody jobs.
//!
//! [`dynamodb`] is the store; an in-memory one backs the handlers' unit tests only.

pub mod dynamodb;
#[cfg(test)]
pub mod memory;
#[cfg(test)]
mod mocked;

use crate::domain::custody::{
    Actor, AuditRecord, CustodyError, ExpectCurrent, Exported, Kept, Restored, Retired, ShareRecord,
};
use crate::domain::{Backup, ClientId, ClientShares, Owner, Share, StoreError, Stored, Wanted};
use std::future::Future;

/// Stores the share Portal sent as the current one for its (clientId, backupMethod,
/// backupSharePairId).
pub trait ShareWriter: Send + Sync {
    fn put_share(&self, backup: &Backup)
    -> impl Future<Output = Result<Stored, StoreError>> + Send;
}

/// Reads every current share of a client that opens (every method, every pair, and each
/// method's pair-less slot), newest first.
pub trait ShareReader: Send + Sync {
    fn current_shares(
        &self,
        client_id: &ClientId,
    ) -> impl Future<Output = Result<ClientShares, StoreError>> + Send;
}

/// What the client-share API reads for the app: the one share a request names, and the records
/// of them all (never a share).
pub trait ShareLookup: Send + Sync {
    /// The share of `client_id` that `wanted` names (see [`Wanted::choose`]), opened, or `None`.
    fn find_share(
        &self,
        client_id: &ClientId,
        wanted: Wanted<'_>,
    ) -> impl Future<Output = Result<Option<(ShareRecord, Share)>, StoreError>> + Send;

    /// The record of every current share of a client, newest first; empty if there is none.
    fn current_records(
        &self,
        client_id: &ClientId,
    ) -> impl Future<Output = Result<Vec<ShareRecord>, StoreError>> + Send;
}

/// Opens shares for Portal's eject, each only after its audit record is written.
pub trait ShareExporter: Send + Sync {
    /// The current share (or `version` of it).
    fn export(
        &self,
        owner: Owner<'_>,
        version: Option<u64>,
        actor: &Actor,
    ) -> impl Future<Output = Result<Exported, CustodyError>> + Send;

    /// The current share of a client that `wanted` names (see [`Wanted::choose`]);
    /// `UnknownBackupMethod` when none does.
    fn export_wanted(
        &self,
        client_id: &ClientId,
        wanted: Wanted<'_>,
        actor: &Actor,
    ) -> impl Future<Output = Result<Exported, CustodyError>> + Send;

    /// Every current share of a client (both curves, every pair, and a legacy `UNKNOWN` one).
    fn export_client(
        &self,
        client_id: &ClientId,
        actor: &Actor,
    ) -> impl Future<Output = Result<Vec<Exported>, CustodyError>> + Send;
}

/// The operator's jobs that open no share: list, history, restore, and the audit trail. None of
/// them deletes anything.
pub trait Custody: ShareExporter {
    /// Every current share of a client, by backupMethod.
    fn list(
        &self,
        client_id: &ClientId,
    ) -> impl Future<Output = Result<Vec<ShareRecord>, CustodyError>> + Send;

    /// Every version of one share, newest (the current one) first.
    fn history(
        &self,
        owner: Owner<'_>,
    ) -> impl Future<Output = Result<Vec<ShareRecord>, CustodyError>> + Send;

    /// Makes a kept share current again, if what is current is still what the operator
    /// `expect`s. The share it replaces goes to history first, so nothing is lost.
    fn restore(
        &self,
        owner: Owner<'_>,
        kept: &Kept,
        expect: ExpectCurrent,
        actor: &Actor,
    ) -> impl Future<Output = Result<Restored, CustodyError>> + Send;

    /// Moves a pair's current share (still at `version`) to history, audited first: for
    /// `reconcile --retire`, when a newer completed pair of its wallet and method is held.
    fn retire(
        &self,
        owner: Owner<'_>,
        version: u64,
        actor: &Actor,
    ) -> impl Future<Output = Result<Retired, CustodyError>> + Send;

    /// Every audit record of one share, newest first.
    fn audit_trail(
        &self,
        owner: Owner<'_>,
    ) -> impl Future<Output = Result<Vec<AuditRecord>, CustodyError>> + Send;
}
