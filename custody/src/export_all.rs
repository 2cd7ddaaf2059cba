//! `custody export-all --to-jsonl FILE`: the way back. Every current custodian share, opened and
//! written in `import`'s line format (docs/migrate.md), so the store a customer ran before can
//! take them again (`docs/way-back.sql` loads the file into Portal's schema). Each share is
//! audited before it is opened, as `export` audits one; the file is created new, readable by its
//! owner only, and synced before the command reports.

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
    outcomes: &["exported"],
    not_done: "exported",
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
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .map_err(unwritable)?;
    let mut lines = std::io::BufWriter::new(opened);
    let mut write_error = None;
    let report = sweep(store, &EXPORT_ALL, async |item| {
        let (client_id, slot, exported) = store.export_current(item, actor).await?;
        let line = json!({
            "clientId": client_id.as_str(),
            "backupMethod": slot.backup_method.as_str(),
            "backupSharePairId": slot.backup_share_pair_id.as_ref().map(|pair| pair.as_str()),
            "share": exported.share.expose_secret(),
            "createdAt": exported.record.stored_at,
        });
        if let Err(error) = writeln!(lines, "{line}") {
            write_error.get_or_insert(error);
        }
        Ok("exported")
    })
    .await?;
    if let Some(error) = write_error {
        return Err(unwritable(error));
    }
    let opened = lines
        .into_inner()
        .map_err(|error| unwritable(error.into_error()))?;
    opened.sync_all().map_err(unwritable)?;
    Ok(report)
}
