//! `custody reconcile`: the shared walk ([`custodian_backup::reconcile`]) over every page of
//! Portal's clients, each finding on stderr as it is found and all of them in the report. A
//! `completed` pair whose custodian share is not held here is unrecoverable: exit code 10.
//!
//! Resumable: with `--checkpoint FILE`, the next page's cursor and what was found so far are saved
//! after each page, and a run started with the file resumes after the last finished page.

use crate::{Exit, Failure, failure};
use custodian_backup::domain::custody::Actor;
use custodian_backup::domain::reconcile::{HeldShare, ListedPair};
use custodian_backup::portal_api::PortalApi;
use custodian_backup::reconcile::{Finding, Totals, Walk, WalkError};
use custodian_backup::store::dynamodb::DynamoDbStore;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where the walk is and what it found: saved after each page, and the report.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The next page's cursor; `None` before the first page.
    pub cursor: Option<String>,
    pub totals: Totals,
    pub unrecoverable: Vec<ListedPair>,
    pub orphans: Vec<HeldShare>,
    pub retired: Vec<HeldShare>,
}

pub struct Run<'a> {
    pub store: &'a DynamoDbStore,
    pub portal: PortalApi,
    pub take: u32,
    pub checkpoint: Option<PathBuf>,
    pub retire_as: Option<Actor>,
}

impl Run<'_> {
    pub async fn run(&self) -> Result<Progress, Failure> {
        let mut progress = self.resume()?;
        let walk = Walk {
            store: self.store,
            portal: &self.portal,
            take: self.take,
            retire_as: self.retire_as.as_ref(),
        };
        loop {
            let Progress {
                cursor,
                totals,
                unrecoverable,
                orphans,
                retired,
            } = &mut progress;
            let next = walk
                .page(cursor.as_deref(), totals, &mut |finding| match finding {
                    Finding::Unrecoverable(pair) => {
                        eprintln!(
                            "UNRECOVERABLE client {} pair {} {}-{} completed, created {}: no custodian share here",
                            pair.client_id, pair.pair.id, pair.pair.backup_method, pair.curve, pair.pair.created_at
                        );
                        unrecoverable.push(pair.clone());
                    }
                    Finding::Orphan(share) => {
                        eprintln!(
                            "orphan: client {} {} pair {} v{} (Portal lists no such pair; left as it is)",
                            share.client_id, share.backup_method, share.backup_share_pair_id, share.version
                        );
                        orphans.push(share.clone());
                    }
                    Finding::Retired(share) => retired.push(share.clone()),
                })
                .await
                .map_err(|error| match error {
                    WalkError::Portal(error) => Failure {
                        exit: Exit::PortalApi,
                        code: "portal_api",
                        message: format!("{error}; run again with the same --checkpoint to resume"),
                    },
                    WalkError::Custody(error) => failure(error),
                })?;
            *cursor = next;
            eprintln!(
                "reconcile: {} clients, {} pairs, {} unrecoverable, {} orphans",
                totals.clients, totals.pairs, totals.unrecoverable, totals.orphans
            );
            if cursor.is_none() {
                self.finish()?;
                return Ok(progress);
            }
            self.save(&progress)?;
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
