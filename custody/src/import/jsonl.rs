//! `--from-jsonl FILE`: one JSON object a line (docs/migrate.md, "The line format"), read a line
//! at a time; a line that is not UTF-8 is refused by its number, never guessed at.

use super::{Checkpoint, Entry, Fields, Place, unreadable};
use crate::{Exit, Failure};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;

/// The file's rows imported (or checked), from after the checkpoint's line.
pub async fn run(run: &super::Run<'_>, file: &Path) -> Result<Value, Failure> {
    let after = match run.actor {
        Some(_) => run.checkpoint.map(Checkpoint::read).transpose()?.flatten(),
        None => None,
    };
    let (total, rows) = entries(file, after.as_ref())?;
    let resumed = match after {
        Some(Place::Line(line)) => line,
        _ => 0,
    };
    let mut report = serde_json::Map::new();
    report.insert("source".into(), json!(file.display().to_string()));
    report.insert("lines".into(), json!(total));
    report.insert("resumedAfter".into(), json!(resumed));
    let rows = futures_util::stream::iter(rows);
    run.entries(rows, total.saturating_sub(resumed), report)
        .await
}

/// The file's rows after line `after` (a checkpoint's), and how many lines it has.
fn entries<'a>(
    file: &'a Path,
    after: Option<&Place>,
) -> Result<(usize, impl Iterator<Item = Result<Entry, Failure>> + 'a), Failure> {
    let skip = match after {
        None => 0,
        Some(Place::Line(line)) => *line,
        Some(Place::Id(_)) => {
            return Err(Failure {
                exit: Exit::Usage,
                code: "checkpoint_unreadable",
                message: "the checkpoint is a table's (an id), not a file's line".into(),
            });
        }
    };
    let total = lines(file)?.count();
    let rows = lines(file)?.enumerate().skip(skip).map(|(index, line)| {
        let place = Place::Line(index + 1);
        let Some(text) = line? else {
            return Ok(Entry {
                id: None,
                place,
                fields: Err("not UTF-8"),
            });
        };
        let parsed: Option<Value> = serde_json::from_str(&text).ok();
        let id = parsed
            .as_ref()
            .and_then(|row| row.get("id")?.as_str().map(str::to_owned));
        Ok(Entry {
            id,
            place,
            fields: parsed.as_ref().map(fields).ok_or("not a JSON object"),
        })
    });
    Ok((total, rows))
}

fn fields(line: &Value) -> Fields {
    let field = |name: &str| line.get(name).cloned().unwrap_or(Value::Null);
    Fields {
        client_id: field("clientId"),
        owner: field("owner"),
        backup_method: field("backupMethod"),
        backup_share_pair_id: field("backupSharePairId"),
        share: field("share"),
        cipher_text: field("cipherText"),
        created_at: line["createdAt"]
            .as_str()
            .and_then(|text| humantime::parse_rfc3339_weak(text).ok()),
    }
}

/// The file's lines; one that is not UTF-8 as `None`.
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
