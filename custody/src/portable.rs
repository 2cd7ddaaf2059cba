//! `custody dump` and `custody load`: every item of the three tables, still sealed, as JSON lines
//! (`{"table": "shares" | "history" | "audit", "item": <DynamoDB JSON>}`), with a manifest beside
//! it (`<file>.manifest.json`) holding the file's SHA-256, its line counts and the KMS keys the
//! shares need. No share is opened: a dump is as safe to keep as the tables themselves.

use crate::{Exit, Failure};
use custodian_backup::domain::StoreError;
use custodian_backup::store::dynamodb::item::now_rfc3339;
use custodian_backup::store::dynamodb::merge::Merged;
use custodian_backup::store::dynamodb::portable::{
    Loaded, TableRole, item_from_json, item_to_json,
};
use custodian_backup::store::dynamodb::{DynamoDbStore, Item, schema};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "custodian-backup-dump/1";

/// Writes every item to `out`, page by page as it is scanned (never a whole table in memory),
/// then the manifest beside it; never over an existing file. Progress goes to stderr.
///
/// Each table is read with strongly consistent scans between `startedAt` and `finishedAt`: a
/// copy of each item as it was when its page was read, not a snapshot of the three tables at one
/// instant (a share replaced meanwhile may be in both tables, or in history only).
pub async fn dump(store: &DynamoDbStore, out: &Path) -> Result<Value, Failure> {
    let started_at = now_rfc3339();
    let mut file = DumpFile::create(out)?;
    for role in TableRole::ALL {
        let mut start = None;
        loop {
            let (items, next) = store.dump_page(role, start).await.map_err(store_failure)?;
            file.write_page(role, &items)?;
            start = next;
            if start.is_none() {
                break;
            }
        }
    }
    file.finish(json!({
        "startedAt": started_at,
        "finishedAt": now_rfc3339(),
        "consistency": "each table scanned with strongly consistent reads between startedAt and finishedAt; not a snapshot across tables",
    }))
}

/// A dump being written: its lines, their running checksum and counts, and the KMS keys its
/// shares need; the manifest is written beside it once every line is on disk.
pub(crate) struct DumpFile<'a> {
    out: &'a Path,
    file: std::fs::File,
    hash: Sha256,
    counts: BTreeMap<&'static str, usize>,
    bytes: usize,
    key_ids: BTreeSet<String>,
}

impl<'a> DumpFile<'a> {
    /// A new file only its owner may read; never over an existing one.
    pub(crate) fn create(out: &'a Path) -> Result<Self, Failure> {
        Ok(Self {
            out,
            file: create_new(out)?,
            hash: Sha256::new(),
            counts: TableRole::ALL.map(|role| (role.as_str(), 0)).into(),
            bytes: 0,
            key_ids: BTreeSet::new(),
        })
    }

    /// Appends `items` of `role`'s table, one line each.
    pub(crate) fn write_page(&mut self, role: TableRole, items: &[Item]) -> Result<(), Failure> {
        let mut page = String::new();
        for item in items {
            for wrap in [schema::KMS_KEY_ID, schema::ESCROW_KEY_ID] {
                if let Some(key_id) = item.get(wrap).and_then(|id| id.as_s().ok()) {
                    self.key_ids.insert(key_id.clone());
                }
            }
            let item = item_to_json(item).map_err(store_failure)?;
            page.push_str(&json!({ "table": role.as_str(), "item": item }).to_string());
            page.push('\n');
        }
        self.hash.update(page.as_bytes());
        self.file
            .write_all(page.as_bytes())
            .map_err(|error| cannot_write(self.out, &error))?;
        let count = self.counts.entry(role.as_str()).or_default();
        *count += items.len();
        self.bytes += page.len();
        eprintln!(
            "dump: {} {count} items, {} bytes so far",
            role.as_str(),
            self.bytes
        );
        Ok(())
    }

    /// Syncs the file, then writes the manifest: checksum, counts, keys, and `when` (when and
    /// how consistent the copy is).
    pub(crate) fn finish(self, when: Value) -> Result<Value, Failure> {
        self.file
            .sync_all()
            .map_err(|error| cannot_write(self.out, &error))?;
        let mut manifest = json!({
            "format": FORMAT,
            "file": self.out.file_name().map(|name| name.to_string_lossy()),
            "sha256": hex(&self.hash.finalize()),
            "lines": self.counts.values().sum::<usize>(),
            "bytes": self.bytes,
            "items": self.counts,
            "kmsKeyIds": self.key_ids,
        });
        if let (Some(manifest), Value::Object(when)) = (manifest.as_object_mut(), when) {
            manifest.extend(when);
        }
        write_new(
            &manifest_path(self.out),
            format!("{manifest:#}\n").as_bytes(),
        )?;
        Ok(manifest)
    }
}

/// Loads a dump into this stack's tables where each key is free, then reads every item back.
/// Fails before writing anything if the file does not match its manifest.
pub async fn load(store: &DynamoDbStore, file: &Path) -> Result<Value, Failure> {
    check(file)?;
    let mut tally = BTreeMap::from([("written", 0), ("alreadyThere", 0), ("different", 0)]);
    let mut conflicts = Vec::new();
    let mut lines = 0;
    for entry in items(file)? {
        let (role, item) = entry?;
        let loaded = store.load_item(role, &item).await.map_err(store_failure)?;
        *tally.entry(name(loaded)).or_default() += 1;
        if loaded == Loaded::Different {
            conflicts.push(key_of(role, &item));
        }
        lines += 1;
        progress("load", lines);
    }
    // Every item read back: what is there now must be exactly what was dumped.
    let mut verified = 0;
    for entry in items(file)? {
        let (role, item) = entry?;
        if store.holds(role, &item).await.map_err(store_failure)? {
            verified += 1;
        }
    }
    let report = json!({
        "lines": lines,
        "written": tally["written"],
        "alreadyThere": tally["alreadyThere"],
        "different": tally["different"],
        "verified": verified,
        "conflicts": conflicts,
    });
    if tally["different"] > 0 || verified != lines {
        return Err(Failure {
            exit: Exit::LoadConflict,
            code: "load_conflict",
            message: format!(
                "{} of {lines} items differ from the item already under their key; those were left as they are, nothing was overwritten: {report}",
                lines - verified,
            ),
        });
    }
    Ok(report)
}

/// Merges a dump of a damaged table into this stack's (restored) tables, then merges it again
/// as the check: every item must then be already there (`verified`), or it was left behind.
pub async fn merge(store: &DynamoDbStore, file: &Path) -> Result<Value, Failure> {
    check(file)?;
    let mut tally: BTreeMap<&str, usize> =
        ["current", "history", "audit", "alreadyThere", "different"]
            .into_iter()
            .map(|name| (name, 0))
            .collect();
    let mut conflicts = Vec::new();
    let mut lines = 0;
    for entry in items(file)? {
        let (role, item) = entry?;
        let merged = store.merge_item(role, &item).await.map_err(store_failure)?;
        *tally.entry(merged_name(merged)).or_default() += 1;
        if merged == Merged::Different {
            conflicts.push(key_of(role, &item));
        }
        lines += 1;
        progress("merge", lines);
    }
    let mut verified = 0;
    for entry in items(file)? {
        let (role, item) = entry?;
        if store.merge_item(role, &item).await.map_err(store_failure)? == Merged::AlreadyThere {
            verified += 1;
        }
    }
    let report = json!({
        "lines": lines,
        "current": tally["current"],
        "history": tally["history"],
        "audit": tally["audit"],
        "alreadyThere": tally["alreadyThere"],
        "different": tally["different"],
        "verified": verified,
        "conflicts": conflicts,
    });
    if verified != lines {
        return Err(Failure {
            exit: Exit::LoadConflict,
            code: "load_conflict",
            message: format!(
                "{} of {lines} items are not in the tables after the merge (audit records whose key holds another are named in conflicts); nothing was overwritten: {report}",
                lines - verified,
            ),
        });
    }
    Ok(report)
}

/// Every 1,000 items, how far a long command has come, on stderr.
fn progress(command: &str, items: usize) {
    if items.is_multiple_of(1000) {
        eprintln!("{command}: {items} items so far");
    }
}

fn merged_name(merged: Merged) -> &'static str {
    match merged {
        Merged::Current => "current",
        Merged::History => "history",
        Merged::Audit => "audit",
        Merged::AlreadyThere => "alreadyThere",
        Merged::Different => "different",
    }
}

/// Checks the file against its manifest, a line at a time (never the whole file in memory):
/// format, checksum, and each table's count. Nothing is written before this passes.
fn check(file: &Path) -> Result<(), Failure> {
    let manifest_file = manifest_path(file);
    let manifest: Value = std::fs::read(&manifest_file)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| {
            corrupt(format!(
                "{} is missing or not JSON",
                manifest_file.display()
            ))
        })?;
    if manifest["format"] != FORMAT {
        return Err(corrupt(format!("the manifest's format is not {FORMAT}")));
    }
    let mut hash = Sha256::new();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut reader = open(file)?;
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|error| corrupt(format!("{} cannot be read: {error}", file.display())))?;
        if read == 0 {
            break;
        }
        hash.update(&line);
        let (role, _) = parse(number, &line)?;
        *counts.entry(role.as_str()).or_default() += 1;
    }
    if manifest["sha256"] != hex(&hash.finalize()) {
        return Err(corrupt(
            "the file's SHA-256 is not the manifest's: it changed since it was dumped".into(),
        ));
    }
    for role in TableRole::ALL {
        let expected = manifest["items"][role.as_str()].as_u64().unwrap_or(0);
        if counts.get(role.as_str()).copied().unwrap_or(0) != expected {
            return Err(corrupt(format!(
                "the file's {} items are not the manifest's count",
                role.as_str()
            )));
        }
    }
    Ok(())
}

/// The dump's items in order, read a line at a time (after [`check`]).
fn items(file: &Path) -> Result<impl Iterator<Item = Result<(TableRole, Item), Failure>>, Failure> {
    let lines = open(file)?.split(b'\n');
    Ok(lines.enumerate().map(|(index, line)| {
        let line = line.map_err(|error| corrupt(format!("the dump cannot be read: {error}")))?;
        parse(index + 1, &line)
    }))
}

fn open(file: &Path) -> Result<std::io::BufReader<std::fs::File>, Failure> {
    std::fs::File::open(file)
        .map(std::io::BufReader::new)
        .map_err(|error| corrupt(format!("{} cannot be read: {error}", file.display())))
}

fn parse(number: usize, line: &[u8]) -> Result<(TableRole, Item), Failure> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|line| serde_json::from_str::<Value>(line).ok())
        .and_then(|line| {
            let role = TableRole::parse(line["table"].as_str()?)?;
            Some((role, item_from_json(&line["item"])?))
        })
        .ok_or_else(|| corrupt(format!("line {number} is not a dumped item")))
}

fn manifest_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

/// Creates `path` readable by its owner only; an existing file is never replaced.
/// A new file only its owner may read; never over an existing one.
fn create_new(path: &Path) -> Result<std::fs::File, Failure> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| cannot_write(path, &error))
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut file = create_new(path)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|error| cannot_write(path, &error))
}

fn cannot_write(path: &Path, error: &std::io::Error) -> Failure {
    Failure {
        exit: Exit::Usage,
        code: "cannot_write",
        message: format!("{}: {error} (a dump never replaces a file)", path.display()),
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The key of a dumped item, to name a conflict: identifiers and versions, never a share.
pub(crate) fn key_of(role: TableRole, item: &Item) -> Value {
    let text = |name: &str| item.get(name).and_then(|value| value.as_s().ok()).cloned();
    let number = |name: &str| item.get(name).and_then(|value| value.as_n().ok()).cloned();
    match role {
        TableRole::Shares => json!({
            "table": "shares",
            "clientId": text(schema::CLIENT_ID),
            "backupMethod": text(schema::BACKUP_METHOD),
        }),
        TableRole::History => json!({
            "table": "history",
            "shareKey": text(schema::OWNER),
            "version": number(schema::VERSION),
        }),
        TableRole::Audit => json!({
            "table": "audit",
            "shareKey": text(schema::OWNER),
            "recordedAt": number(schema::RECORDED_AT),
        }),
    }
}

fn name(loaded: Loaded) -> &'static str {
    match loaded {
        Loaded::Written => "written",
        Loaded::AlreadyThere => "alreadyThere",
        Loaded::Different => "different",
    }
}

pub(crate) fn corrupt(message: String) -> Failure {
    Failure {
        exit: Exit::DumpCorrupt,
        code: "dump_corrupt",
        message,
    }
}

pub(crate) fn store_failure(error: StoreError) -> Failure {
    crate::failure(error.into())
}
