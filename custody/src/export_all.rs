//! `custody export-all --to-jsonl FILE`: the way back. Every current custodian share, opened and
//! written in `import`'s line format (docs/migrate.md), so the store a customer ran before can
//! take them again (`docs/way-back.sql` loads the file into Portal's schema). Each share is
//! audited before it is opened, as `export` audits one. The lines go to `FILE.partial`, created
//! new and readable by its owner only, which becomes FILE only once every share is in it and
//! synced: a run that fails leaves no file that looks whole, and removes its partial one.

use crate::sweep::{Job, sweep};
use crate::{Exit, Failure};
use custodian_backup::domain::custody::Actor;
use custodian_backup::store::dynamodb::DynamoDbStore;
use serde_json::{Value, json};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

const EXPORT_ALL: Job = Job {
    name: "export-all",
    incomplete: "export_incomplete",
    outcomes: &["exported", "notOpenedAfterAWriteFailed"],
    not_done: "exported",
    left: "no file was written (the partial one is removed): run it again once the cause is fixed",
};

pub async fn export_all(
    store: &DynamoDbStore,
    file: &Path,
    actor: &Actor,
) -> Result<Value, Failure> {
    let unwritable = |error: std::io::Error| Failure {
        exit: Exit::Usage,
        code: "file_unwritable",
        message: format!("{}: {}", file.display(), error.kind()),
    };
    // Never over an existing file: a second run names a new one.
    if file.exists() {
        return Err(unwritable(std::io::ErrorKind::AlreadyExists.into()));
    }
    let partial = file.with_extension("partial");
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .map_err(unwritable)?;
    let mut lines = std::io::BufWriter::new(opened);
    let mut write_error = None;
    let swept = sweep(store, &EXPORT_ALL, async |item| {
        // After a failed write no further share is opened: the file is lost anyway.
        if write_error.is_some() {
            return Ok("notOpenedAfterAWriteFailed");
        }
        let (client_id, slot, exported) = store.export_current(item, actor).await?;
        let line = json!({
            "clientId": client_id.as_str(),
            "backupMethod": slot.backup_method.as_str(),
            "backupSharePairId": slot.backup_share_pair_id.as_ref().map(|pair| pair.as_str()),
            "share": exported.share.expose_secret(),
            "createdAt": exported.record.stored_at,
        });
        if let Err(error) = writeln!(lines, "{line}") {
            write_error = Some(error);
        }
        Ok("exported")
    })
    .await;
    let finished = match (swept, write_error) {
        (Err(failure), _) => Err(failure),
        (Ok(_), Some(error)) => Err(unwritable(error)),
        (Ok(report), None) => lines
            .into_inner()
            .map_err(|error| error.into_error())
            .and_then(|opened| opened.sync_all())
            .and_then(|()| std::fs::rename(&partial, file))
            .map(|()| report)
            .map_err(unwritable),
    };
    if finished.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    finished
}
