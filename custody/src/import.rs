//! `custody import --from-jsonl FILE`: every share of the store a customer ran before this one,
//! one JSON object a line (docs/migrate.md), stored through the same store as `/backup`
//! ([`DynamoDbStore::import_share`]), a line at a time (never the whole file in memory). A row
//! that cannot be imported is named by its `id` (or line) with the reason, never its share, and
//! the command then exits 12; `--verify` opens what each row's slot serves and compares SHA-256
//! digests, naming each mismatch (exit 13). `--checkpoint FILE` keeps the last line done, so a
//! killed import resumes there; running it again from the start changes nothing either.

use crate::portable::store_failure;
use crate::{Exit, Failure};
use custodian_backup::domain::client_owner::LegacyOwners;
use custodian_backup::domain::client_share::client_share_from_json;
use custodian_backup::domain::{Backup, BackupMethod, ClientId, UNKNOWN_BACKUP_METHOD};
use custodian_backup::store::dynamodb::DynamoDbStore;
use custodian_backup::store::dynamodb::import::{Checked, Imported};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::{Instant, SystemTime};

/// Rows stored at once. Each is one `GetItem`, one `GenerateDataKey` and one `PutItem` (about
/// 3 KB, 3 write units): at about 10 ms a row on AWS, 8 at once is about 800 rows a second, far
/// inside KMS's shared quota for symmetric operations (at least 5,500 a second) and an on-demand
/// table's first 4,000 write units a second (docs/migrate.md, "How fast").
const CONCURRENT_ROWS: usize = 8;

/// How often the checkpoint is written, in lines (and at the last line).
const CHECKPOINT_EVERY: usize = 100;

/// Which half the rows are: custodian shares, or the app's client shares and whose they are.
pub enum Source {
    Custodian,
    Client(LegacyOwners),
}

/// One source row, ready to store.
struct Row {
    backup: Backup,
    created_at: SystemTime,
}

pub async fn import(
    store: &DynamoDbStore,
    file: &Path,
    source: &Source,
    checkpoint: Option<&Path>,
) -> Result<Value, Failure> {
    let done_before = checkpoint.map(read_checkpoint).transpose()?.unwrap_or(0);
    let total = lines(file)?.count();
    let mut tally: Map<String, Value> = ["current", "keptOlder", "alreadyThere"]
        .into_iter()
        .map(|name| (name.to_owned(), json!(0)))
        .collect();
    let mut refused = Vec::new();
    let started = Instant::now();
    // [`CONCURRENT_ROWS`] rows in flight, their results taken in line order: the checkpoint is
    // always a line below which every row is done. Rows of one slot may overlap: the store's
    // conditional writes and its createdAt order make the outcome the same in any order.
    let rows = futures_util::stream::iter(lines(file)?.enumerate().skip(done_before))
        .map(|(index, line)| async move {
            let Some(text) = line? else {
                return Ok((index + 1, Err(refusal("", index + 1, "not UTF-8"))));
            };
            let outcome = match row(&text, source) {
                Ok(row) => Ok(store
                    .import_share(&row.backup, row.created_at)
                    .await
                    .map_err(store_failure)?),
                Err(reason) => Err(refusal(&text, index + 1, reason)),
            };
            Ok::<_, Failure>((index + 1, outcome))
        })
        .buffered(CONCURRENT_ROWS);
    futures_util::pin_mut!(rows);
    while let Some(done) = rows.next().await {
        let (number, outcome) = done?;
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
        if let Some(checkpoint) = checkpoint
            && (number.is_multiple_of(CHECKPOINT_EVERY) || number == total)
        {
            write_checkpoint(checkpoint, number)?;
        }
        progress(number - done_before, total - done_before, started);
    }
    let mut report = Value::Object(tally);
    report["lines"] = json!(total);
    report["resumedAfter"] = json!(done_before);
    report["refused"] = json!(refused);
    if !refused.is_empty() {
        return Err(Failure {
            exit: Exit::ImportIncomplete,
            code: "import_incomplete",
            message: format!(
                "{} rows could not be imported (named in refused, with the reason); every other row was: {report}",
                refused.len()
            ),
        });
    }
    Ok(report)
}

/// Re-reads every row and opens what its slot serves now: the same share, a newer one, or not.
pub async fn verify(store: &DynamoDbStore, file: &Path, source: &Source) -> Result<Value, Failure> {
    let (mut same, mut superseded, mut mismatches, mut refused) = (0, 0, Vec::new(), 0);
    for (index, line) in lines(file)?.enumerate() {
        let Some(text) = line? else {
            refused += 1;
            continue;
        };
        let Ok(row) = row(&text, source) else {
            refused += 1;
            continue;
        };
        match store
            .check_import(&row.backup, row.created_at)
            .await
            .map_err(store_failure)?
        {
            Checked::Same => same += 1,
            Checked::Superseded => superseded += 1,
            Checked::Mismatch => {
                mismatches.push(refusal(&text, index + 1, "not what its slot serves"))
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

/// A line as a row to store, or why not (a reason naming a field, never a value).
fn row(text: &str, source: &Source) -> Result<Row, &'static str> {
    let line: Value = serde_json::from_str(text).map_err(|_| "not a JSON object")?;
    let created_at = line["createdAt"]
        .as_str()
        .and_then(|text| humantime::parse_rfc3339_weak(text).ok())
        .ok_or("no createdAt (RFC 3339)")?;
    let field = |name: &str| line.get(name).cloned().unwrap_or(Value::Null);
    let backup = match source {
        Source::Custodian => {
            let body = json!({
                "clientId": field("clientId"),
                "backupMethod": field("backupMethod"),
                "backupSharePairId": field("backupSharePairId"),
                "share": field("share"),
            });
            Backup::from_json(body.to_string().as_bytes()).map_err(|invalid| invalid.code())?
        }
        Source::Client(legacy) => {
            let owner = line["owner"].as_str().ok_or("no owner")?;
            let owner = ClientId::parse(owner).map_err(|invalid| invalid.code())?;
            let bound = legacy
                .owner_of(&owner)
                .ok_or("owner already bound")?
                .stored_as()
                .map_err(|invalid| invalid.code())?;
            let method = match line["backupMethod"].as_str() {
                Some(method) if !method.is_empty() => method,
                _ => UNKNOWN_BACKUP_METHOD,
            };
            let method = BackupMethod::parse(method).map_err(|invalid| invalid.code())?;
            let body = json!({
                "cipherText": field("cipherText"),
                "backupSharePairId": field("backupSharePairId"),
            });
            client_share_from_json(body.to_string().as_bytes(), bound, method)
                .map_err(|_| "cipherText missing, empty or too large, or a bad backupSharePairId")?
        }
    };
    Ok(Row { backup, created_at })
}

/// A refused row: its `id` if it has one, its line, the reason; never a share.
fn refusal(text: &str, line: usize, reason: &str) -> Value {
    let id = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|row| row.get("id").and_then(Value::as_str).map(str::to_owned));
    json!({ "id": id, "line": line, "reason": reason })
}

/// The file's lines; one that is not UTF-8 as `None`, refused by its number, never guessed at.
fn lines(
    file: &Path,
) -> Result<impl Iterator<Item = Result<Option<String>, Failure>> + '_, Failure> {
    let opened = std::fs::File::open(file).map_err(|error| unreadable(file, &error))?;
    Ok(BufReader::new(opened).split(b'\n').map(move |line| {
        let mut bytes = line.map_err(|error| unreadable(file, &error))?;
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        Ok(String::from_utf8(bytes).ok())
    }))
}

fn unreadable(file: &Path, error: &std::io::Error) -> Failure {
    Failure {
        exit: Exit::Usage,
        code: "source_unreadable",
        message: format!("{}: {}", file.display(), error.kind()),
    }
}

fn read_checkpoint(path: &Path) -> Result<usize, Failure> {
    match std::fs::read_to_string(path) {
        Ok(text) => text.trim().parse().map_err(|_| Failure {
            exit: Exit::Usage,
            code: "checkpoint_unreadable",
            message: format!("{} holds no line number", path.display()),
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(error) => Err(unreadable(path, &error)),
    }
}

/// The last line done, written aside and renamed over the checkpoint: never half written.
fn write_checkpoint(path: &Path, line: usize) -> Result<(), Failure> {
    let aside = path.with_extension("partial");
    std::fs::write(&aside, line.to_string())
        .and_then(|()| std::fs::rename(&aside, path))
        .map_err(|error| unreadable(path, &error))
}

/// Every 1,000 rows, and at the end: how many, how fast, and how long the rest will take.
fn progress(done: usize, total: usize, started: Instant) {
    if !done.is_multiple_of(1000) && done != total {
        return;
    }
    let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
    let left = (total - done) as f64 / rate.max(0.001);
    eprintln!("import: {done}/{total} rows, {rate:.0} rows/s, about {left:.0} s left");
}
