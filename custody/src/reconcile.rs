//! `custody reconcile`: walks Portal's Custodian API (every client, every wallet's backup share
//! pairs) and checks each against the custodian shares held here. A `completed` pair whose share
//! is not here is unrecoverable: printed, counted, and the exit code is 10. Orphans (shares of
//! pairs Portal does not list) are reported and never touched. `--retire` moves to history only a
//! pair's share that a newer completed, held pair of its wallet and method supersedes.
//!
//! Resumable: with `--checkpoint FILE`, each page's cursor and the totals so far are saved after
//! the page, and a run started with the file resumes after the last finished page.

use crate::{Exit, Failure, failure};
use custodian_backup::domain::custody::{Actor, CustodyError, Retired};
use custodian_backup::domain::reconcile::{HeldShare, ListedPair, reconcile_client};
use custodian_backup::domain::{BackupMethod, BackupSharePairId, ClientId, Owner};
use custodian_backup::portal_api::{MAX_TAKE, PortalApi};
use custodian_backup::store::Custody;
use custodian_backup::store::dynamodb::DynamoDbStore;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where the walk is: saved after each page.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The next page's cursor; `None` before the first page.
    pub cursor: Option<String>,
    pub clients: u64,
    pub pairs: u64,
    pub unrecoverable: Vec<ListedPair>,
    pub orphans: Vec<HeldShare>,
    pub without_pair_id: u64,
    pub retired: Vec<HeldShare>,
}

pub struct Walk<'a> {
    pub store: &'a DynamoDbStore,
    pub portal: PortalApi,
    pub take: u32,
    pub checkpoint: Option<PathBuf>,
    /// `--retire`: who retires (an audit record per share).
    pub retire_as: Option<Actor>,
}

impl Walk<'_> {
    pub async fn run(&self) -> Result<Progress, Failure> {
        let mut progress = self.resume()?;
        loop {
            let page = self
                .portal
                .clients_page(progress.cursor.as_deref(), self.take.clamp(1, MAX_TAKE))
                .await
                .map_err(|error| Failure {
                    exit: Exit::PortalApi,
                    code: "portal_api",
                    message: format!("{error}; run again with the same --checkpoint to resume"),
                })?;
            for client in &page.results {
                let Ok(client_id) = ClientId::parse(&client.id) else {
                    eprintln!("warning: Portal listed a client id no backup can have; skipped");
                    continue;
                };
                let held = match self.store.list(&client_id).await {
                    Ok(held) => held,
                    Err(CustodyError::UnknownClient) => Vec::new(),
                    Err(error) => return Err(failure(error)),
                };
                let findings = reconcile_client(client, &held);
                for pair in &findings.unrecoverable {
                    eprintln!(
                        "UNRECOVERABLE client {} pair {} {}-{} completed, created {}: no custodian share here",
                        pair.client_id,
                        pair.pair.id,
                        pair.pair.backup_method,
                        pair.curve,
                        pair.pair.created_at
                    );
                }
                for orphan in &findings.orphans {
                    eprintln!(
                        "orphan: client {} {} pair {} v{} (Portal lists no such pair; left as it is)",
                        orphan.client_id,
                        orphan.backup_method,
                        orphan.backup_share_pair_id,
                        orphan.version
                    );
                }
                if let Some(actor) = &self.retire_as {
                    for share in &findings.retirable {
                        if self.retire(&client_id, share, actor).await? {
                            progress.retired.push(share.clone());
                        }
                    }
                }
                progress.clients += 1;
                progress.pairs += findings.pairs as u64;
                progress.without_pair_id += findings.without_pair_id as u64;
                progress.unrecoverable.extend(findings.unrecoverable);
                progress.orphans.extend(findings.orphans);
            }
            progress.cursor = page.metadata.cursor.filter(|_| !page.results.is_empty());
            eprintln!(
                "reconcile: {} clients, {} pairs, {} unrecoverable, {} orphans",
                progress.clients,
                progress.pairs,
                progress.unrecoverable.len(),
                progress.orphans.len()
            );
            if progress.cursor.is_none() {
                self.finish()?;
                return Ok(progress);
            }
            self.save(&progress)?;
        }
    }

    /// Retires one share; `false` if Portal stored the pair again since (left as it is).
    async fn retire(
        &self,
        client_id: &ClientId,
        share: &HeldShare,
        actor: &Actor,
    ) -> Result<bool, Failure> {
        let method = BackupMethod::parse(&share.backup_method).map_err(crate::usage)?;
        let pair = BackupSharePairId::parse(&share.backup_share_pair_id).map_err(crate::usage)?;
        let owner = Owner::new(client_id, &method, Some(&pair));
        match self.store.retire(owner, share.version, actor).await {
            Ok(Retired::Retired { .. }) => Ok(true),
            Ok(Retired::AlreadyRetired) | Err(CustodyError::CurrentChanged { .. }) => Ok(false),
            Err(error) => Err(failure(error)),
        }
    }

    fn resume(&self) -> Result<Progress, Failure> {
        let Some(path) = &self.checkpoint else {
            return Ok(Progress::default());
        };
        match std::fs::read(path) {
            Ok(saved) => serde_json::from_slice(&saved).map_err(|error| {
                crate::usage(format!(
                    "{} is not a reconcile checkpoint: {error}",
                    path.display()
                ))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Progress::default()),
            Err(error) => Err(crate::usage(format!("{}: {error}", path.display()))),
        }
    }

    fn save(&self, progress: &Progress) -> Result<(), Failure> {
        let Some(path) = &self.checkpoint else {
            return Ok(());
        };
        // Written beside it and renamed: a run killed mid-write leaves the last page's file.
        let partial = path.with_extension("partial");
        let saved = serde_json::to_vec(progress).expect("progress serializes");
        std::fs::write(&partial, saved)
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|error| crate::usage(format!("{}: {error}", path.display())))
    }

    /// A finished walk leaves no checkpoint: the next run starts from the first page.
    fn finish(&self) -> Result<(), Failure> {
        match &self.checkpoint {
            Some(path) if path.exists() => std::fs::remove_file(path)
                .map_err(|error| crate::usage(format!("{}: {error}", path.display()))),
            _ => Ok(()),
        }
    }
}
