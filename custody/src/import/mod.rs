//! `custody import`: every share of the store a customer ran before this one (docs/migrate.md),
//! from a JSON-lines file ([`jsonl`]) or straight from Portal's documented PostgreSQL schema
//! ([`postgres`]), stored through the same store as `/backup` ([`DynamoDbStore::import_share`]),
//! a few rows at a time and never the whole source in memory. A row that cannot be imported is
//! named by its `id` with the reason, never its share, and the command then exits 12; `--verify`
//! opens what each row's slot serves and compares SHA-256 digests, naming each mismatch (exit
//! 13). `--checkpoint FILE` keeps the place below which every row is done, so a killed import
//! resumes there; running it again from the start changes nothing either.

pub mod jsonl;
pub mod postgres;

use crate::portable::store_failure;
use crate::{Exit, Failure};
use custodian_backup::domain::client_owner::LegacyOwners;
use custodian_backup::domain::client_share::client_share_from_json;
use custodian_backup::domain::custody::Actor;
use custodian_backup::domain::{Backup, BackupMethod, ClientId, StoreError, UNKNOWN_BACKUP_METHOD};
use custodian_backup::store::dynamodb::DynamoDbStore;
use custodian_backup::store::dynamodb::import::{Checked, Imported};
use futures_util::{Stream, StreamExt};
use serde_json::{Map, Value, json};
use std::path::Path;
use std::time::{Instant, SystemTime};

/// Rows stored at once. Each is one `GetItem`, one `GenerateDataKey` and one `PutItem` (about
/// 3 KB, 3 write units): at about 10 ms a row on AWS, 8 at once is about 800 rows a second, far
/// inside KMS's shared quota for symmetric operations (at least 5,500 a second) and an on-demand
/// table's first 4,000 write units a second (docs/migrate.md, "How fast").
const CONCURRENT_ROWS: usize = 8;

/// Refused rows named in a run's audit record (the report names them all).
const RECORDED_REFUSALS: usize = 100;

/// How often the checkpoint is written, in rows (and after the last).
const CHECKPOINT_EVERY: usize = 100;

/// Which half the rows are: custodian shares, or the app's client shares and whose they are.
pub enum Source {
    Custodian,
    Client(LegacyOwners),
}

/// One source row as its store holds it, before any check: each value as read (JSON null when
/// absent), so both sources are refused for the same reasons.
#[derive(Default)]
pub struct Fields {
    pub client_id: Value,
    /// Client shares: how the app's tokens name the user (`--owner-from`, or the line's `owner`).
    pub owner: Value,
    pub backup_method: Value,
    pub backup_share_pair_id: Value,
    /// A custodian share's `share`, a client share's `cipherText`.
    pub share: Value,
    pub cipher_text: Value,
    pub created_at: Option<SystemTime>,
}

/// A source row and where it sits: what a refusal names, and what the checkpoint keeps.
pub struct Entry {
    pub id: Option<String>,
    pub place: Place,
    /// The row, or why it cannot be read at all (not JSON, not UTF-8).
    pub fields: Result<Fields, &'static str>,
}

/// Where a row sits in its source: a file's line, or a table's `id` (rows are read in `id` order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Line(usize),
    Id(String),
}

/// One row ready to store.
struct Row {
    backup: Backup,
    created_at: SystemTime,
}

/// One `custody import`: into which store, which half, where to keep the place reached, and
/// who runs it (none when only verifying: nothing is written).
pub struct Run<'a> {
    pub store: &'a DynamoDbStore,
    pub source: &'a Source,
    pub checkpoint: Option<&'a Checkpoint<'a>>,
    pub actor: Option<Actor>,
}

impl Run<'_> {
    /// Stores the source's `entries`, or with no actor, checks them.
    async fn entries(
        &self,
        entries: impl Stream<Item = Result<Entry, Failure>>,
        total: usize,
        report: Map<String, Value>,
    ) -> Result<Value, Failure> {
        match &self.actor {
            None => verify(self.store, entries, self.source).await,
            Some(actor) => {
                // The run's record is written last: its key must be there before the first row.
                if !self.store.signs_audit_records() {
                    return Err(store_failure(StoreError::AuditKeyMissing));
                }
                let mut report = import(self, entries, total, report).await?;
                if let Some(reason) = &actor.reason {
                    report["reason"] = json!(reason);
                }
                // One record a run that went through every row, refused ones or not: who, when,
                // the source and the counts. A killed run leaves it to the run that resumes.
                if let Err(error) = self.store.audit_import_run(actor, &recorded(&report)).await {
                    let mut failure = store_failure(error);
                    failure.message = format!(
                        "every row was done but the run's audit record was not written ({}): {report}",
                        failure.message
                    );
                    return Err(failure);
                }
                let refused = report["refused"].as_array().map_or(0, Vec::len);
                if refused > 0 {
                    return Err(Failure {
                        exit: Exit::ImportIncomplete,
                        code: "import_incomplete",
                        message: format!(
                            "{refused} rows could not be imported (named in refused, with the reason); every other row was: {report}"
                        ),
                    });
                }
                Ok(report)
            }
        }
    }
}

/// Stores every entry of `entries` (`total` of them, for the progress line), saving the place
/// of the last done in the run's checkpoint; `report` is what the source says of itself.
async fn import(
    run: &Run<'_>,
    entries: impl Stream<Item = Result<Entry, Failure>>,
    total: usize,
    mut tally: Map<String, Value>,
) -> Result<Value, Failure> {
    let (store, source, checkpoint) = (run.store, run.source, run.checkpoint);
    for name in ["current", "keptOlder", "alreadyThere"] {
        tally.insert(name.to_owned(), json!(0));
    }
    let mut refused = Vec::new();
    let started = Instant::now();
    // [`CONCURRENT_ROWS`] rows in flight, their results taken in source order: the checkpoint is
    // always a place below which every row is done. Rows of one slot may overlap: the store's
    // conditional writes and its createdAt order make the outcome the same in any order.
    let results = entries
        .map(|entry| async move {
            let entry = entry?;
            let outcome = match entry.fields.and_then(|fields| row(fields, source)) {
                Ok(row) => Ok(store
                    .import_share(&row.backup, row.created_at)
                    .await
                    .map_err(store_failure)?),
                Err(reason) => Err(refusal(&entry.id, &entry.place, reason)),
            };
            Ok::<_, Failure>((entry.place, outcome))
        })
        .buffered(CONCURRENT_ROWS);
    futures_util::pin_mut!(results);
    let mut done = 0;
    let mut last = None;
    while let Some(result) = results.next().await {
        let (place, outcome) = result?;
        match outcome {
            Ok(imported) => {
                let name = match imported {
                    Imported::Current => "current",
                    Imported::KeptOlder => "keptOlder",
                    Imported::AlreadyThere => "alreadyThere",
                };
                tally[name] = json!(tally[name].as_u64().unwrap_or(0) + 1);
            }
            Err(refused_row) => refused.push(refused_row),
        }
        done += 1;
        // The checkpoint never passes a refused row: a run resumed after it meets the row again
        // and refuses it again, so no run after a refusal can end clean without it fixed.
        if refused.is_empty() {
            if let Some(checkpoint) = checkpoint
                && done % CHECKPOINT_EVERY == 0
            {
                checkpoint.write(&place)?;
            }
            last = Some(place);
        }
        progress(done, total, started);
    }
    if let (Some(checkpoint), Some(place)) = (checkpoint, &last) {
        checkpoint.write(place)?;
    }
    let mut report = Value::Object(tally);
    report["rows"] = json!(done);
    report["refused"] = json!(refused);
    Ok(report)
}

/// Re-reads every row and opens what its slot serves now: the same share, a newer one, or not.
async fn verify(
    store: &DynamoDbStore,
    entries: impl Stream<Item = Result<Entry, Failure>>,
    source: &Source,
) -> Result<Value, Failure> {
    let results = entries
        .map(|entry| async move {
            let entry = entry?;
            let Ok(row) = entry.fields.and_then(|fields| row(fields, source)) else {
                return Ok(None);
            };
            let checked = store
                .check_import(&row.backup, row.created_at)
                .await
                .map_err(store_failure)?;
            Ok::<_, Failure>(Some((entry.id, entry.place, checked)))
        })
        .buffered(CONCURRENT_ROWS);
    futures_util::pin_mut!(results);
    let (mut same, mut superseded, mut mismatches, mut refused) = (0, 0, Vec::new(), 0);
    while let Some(result) = results.next().await {
        match result? {
            None => refused += 1,
            Some((_, _, Checked::Same)) => same += 1,
            Some((_, _, Checked::Superseded)) => superseded += 1,
            Some((id, place, Checked::Mismatch)) => {
                mismatches.push(refusal(&id, &place, "not what its slot serves"))
            }
        }
    }
    let report = json!({ "same": same, "superseded": superseded, "refused": refused, "mismatches": mismatches });
    if !mismatches.is_empty() {
        return Err(Failure {
            exit: Exit::ImportMismatch,
            code: "import_mismatch",
            message: format!(
                "{} rows are not what their slot serves (named in mismatches): {report}",
                mismatches.len()
            ),
        });
    }
    Ok(report)
}

/// A source row as a share to store, or why not (a reason naming a field, never a value).
fn row(fields: Fields, source: &Source) -> Result<Row, &'static str> {
    let created_at = fields.created_at.ok_or("no createdAt (RFC 3339)")?;
    let backup = match source {
        Source::Custodian => {
            let body = json!({
                "clientId": fields.client_id,
                "backupMethod": fields.backup_method,
                "backupSharePairId": fields.backup_share_pair_id,
                "share": fields.share,
            });
            Backup::from_json(body.to_string().as_bytes()).map_err(|invalid| invalid.code())?
        }
        Source::Client(legacy) => {
            let owner = fields.owner.as_str().ok_or("no owner")?;
            let owner = ClientId::parse(owner).map_err(|invalid| invalid.code())?;
            let bound = legacy
                .owner_of(&owner)
                .ok_or("owner already bound")?
                .stored_as()
                .map_err(|invalid| invalid.code())?;
            let method = match fields.backup_method.as_str() {
                Some(method) if !method.is_empty() => method,
                _ => UNKNOWN_BACKUP_METHOD,
            };
            let method = BackupMethod::parse(method).map_err(|invalid| invalid.code())?;
            let body = json!({
                "cipherText": fields.cipher_text,
                "backupSharePairId": fields.backup_share_pair_id,
            });
            client_share_from_json(body.to_string().as_bytes(), bound, method)
                .map_err(|_| "cipherText missing, empty or too large, or a bad backupSharePairId")?
        }
    };
    Ok(Row { backup, created_at })
}

/// What the run's audit record keeps of its report: everything but the refused rows beyond the
/// first [`RECORDED_REFUSALS`] (an audit item stays far below DynamoDB's 400 KB).
fn recorded(report: &Value) -> Value {
    let mut recorded = report.clone();
    let count = recorded["refused"].as_array().map_or(0, Vec::len);
    recorded["refusedCount"] = json!(count);
    if let Some(refused) = recorded["refused"].as_array_mut() {
        refused.truncate(RECORDED_REFUSALS);
    }
    recorded
}

/// A refused row: its `id`, its line (a file's), the reason; never a share.
fn refusal(id: &Option<String>, place: &Place, reason: &str) -> Value {
    match place {
        Place::Line(line) => json!({ "id": id, "line": line, "reason": reason }),
        Place::Id(_) => json!({ "id": id, "reason": reason }),
    }
}

/// `--checkpoint FILE`: the place of the last row done, below which every row is done. A file's
/// is its line number; a table's is `id:` and the row's id.
pub struct Checkpoint<'a>(pub &'a Path);

impl Checkpoint<'_> {
    pub fn read(&self) -> Result<Option<Place>, Failure> {
        let text = match std::fs::read_to_string(self.0) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(unreadable(self.0, &error)),
        };
        let text = text.trim_end_matches('\n');
        let place = match text.strip_prefix("id:") {
            Some(id) => Some(Place::Id(id.to_owned())),
            None => text.parse().ok().map(Place::Line),
        };
        place.map(Some).ok_or_else(|| Failure {
            exit: Exit::Usage,
            code: "checkpoint_unreadable",
            message: format!("{} holds no line number or id", self.0.display()),
        })
    }

    /// Written aside and renamed over the checkpoint: never half written.
    fn write(&self, place: &Place) -> Result<(), Failure> {
        let text = match place {
            Place::Line(line) => line.to_string(),
            Place::Id(id) => format!("id:{id}"),
        };
        let aside = self.0.with_extension("partial");
        std::fs::write(&aside, text)
            .and_then(|()| std::fs::rename(&aside, self.0))
            .map_err(|error| unreadable(self.0, &error))
    }
}

fn unreadable(file: &Path, error: &std::io::Error) -> Failure {
    Failure {
        exit: Exit::Usage,
        code: "source_unreadable",
        message: format!("{}: {}", file.display(), error.kind()),
    }
}

/// Every 1,000 rows, and at the end: how many, how fast, and how long the rest will take.
fn progress(done: usize, total: usize, started: Instant) {
    if !done.is_multiple_of(1000) && done != total {
        return;
    }
    let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
    let left = total.saturating_sub(done) as f64 / rate.max(0.001);
    eprintln!("import: {done}/{total} rows, {rate:.0} rows/s, about {left:.0} s left");
}
