//! `custody dump` and `custody load`: every item of the three tables, still sealed, as JSON lines
//! (`{"table": "shares" | "history" | "audit", "item": <DynamoDB JSON>}`), with a manifest beside
//! it (`<file>.manifest.json`) holding the file's SHA-256, its line counts and the KMS keys the
//! shares need. No share is opened: a dump is as safe to keep as the tables themselves.

use crate::{Exit, Failure};
use custodian_backup::domain::StoreError;
use custodian_backup::store::dynamodb::merge::Merged;
use custodian_backup::store::dynamodb::portable::{
    Loaded, TableRole, item_from_json, item_to_json,
};
use custodian_backup::store::dynamodb::{DynamoDbStore, Item, schema};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "custodian-backup-dump/1";

/// Writes every item to `out` and the manifest beside it, never over an existing file.
pub async fn dump(store: &DynamoDbStore, out: &Path) -> Result<Value, Failure> {
    let mut lines = String::new();
    let mut counts = BTreeMap::new();
    let mut key_ids = BTreeSet::new();
    for role in TableRole::ALL {
        let items = store.dump_table(role).await.map_err(store_failure)?;
        for item in &items {
            if let Some(key_id) = item.get(schema::KMS_KEY_ID).and_then(|id| id.as_s().ok()) {
                key_ids.insert(key_id.clone());
            }
            let item = item_to_json(item).map_err(store_failure)?;
            lines.push_str(&json!({ "table": role.as_str(), "item": item }).to_string());
            lines.push('\n');
        }
        counts.insert(role.as_str(), items.len());
    }
    let manifest = json!({
        "format": FORMAT,
        "file": out.file_name().map(|name| name.to_string_lossy()),
        "sha256": sha256_hex(lines.as_bytes()),
        "lines": counts.values().sum::<usize>(),
        "items": counts,
        "kmsKeyIds": key_ids,
    });
    write_new(out, lines.as_bytes())?;
    write_new(&manifest_path(out), format!("{manifest:#}\n").as_bytes())?;
    Ok(manifest)
}

/// Loads a dump into this stack's tables where each key is free, then reads every item back.
/// Fails before writing anything if the file does not match its manifest.
pub async fn load(store: &DynamoDbStore, file: &Path) -> Result<Value, Failure> {
    let items = read_checked(file)?;
    let mut tally = BTreeMap::from([("written", 0), ("alreadyThere", 0), ("different", 0)]);
    let mut conflicts = Vec::new();
    for (role, item) in &items {
        let loaded = store.load_item(*role, item).await.map_err(store_failure)?;
        *tally.entry(name(loaded)).or_default() += 1;
        if loaded == Loaded::Different {
            conflicts.push(key_of(*role, item));
        }
    }
    // Every item read back: what is there now must be exactly what was dumped.
    let mut verified = 0;
    for (role, item) in &items {
        if store.holds(*role, item).await.map_err(store_failure)? {
            verified += 1;
        }
    }
    let report = json!({
        "lines": items.len(),
        "written": tally["written"],
        "alreadyThere": tally["alreadyThere"],
        "different": tally["different"],
        "verified": verified,
        "conflicts": conflicts,
    });
    if tally["different"] > 0 || verified != items.len() {
        return Err(Failure {
            exit: Exit::LoadConflict,
            code: "load_conflict",
            message: format!(
                "{} of {} items differ from the item already under their key; those were left as they are, nothing was overwritten: {report}",
                items.len() - verified,
                items.len()
            ),
        });
    }
    Ok(report)
}

/// Merges a dump of a damaged table into this stack's (restored) tables, then merges it again
/// as the check: every item must then be already there (`verified`), or it was left behind.
pub async fn merge(store: &DynamoDbStore, file: &Path) -> Result<Value, Failure> {
    let items = read_checked(file)?;
    let mut tally: BTreeMap<&str, usize> =
        ["current", "history", "audit", "alreadyThere", "different"]
            .into_iter()
            .map(|name| (name, 0))
            .collect();
    let mut conflicts = Vec::new();
    for (role, item) in &items {
        let merged = store.merge_item(*role, item).await.map_err(store_failure)?;
        *tally.entry(merged_name(merged)).or_default() += 1;
        if merged == Merged::Different {
            conflicts.push(key_of(*role, item));
        }
    }
    let mut verified = 0;
    for (role, item) in &items {
        if store.merge_item(*role, item).await.map_err(store_failure)? == Merged::AlreadyThere {
            verified += 1;
        }
    }
    let report = json!({
        "lines": items.len(),
        "current": tally["current"],
        "history": tally["history"],
        "audit": tally["audit"],
        "alreadyThere": tally["alreadyThere"],
        "different": tally["different"],
        "verified": verified,
        "conflicts": conflicts,
    });
    if verified != items.len() {
        return Err(Failure {
            exit: Exit::LoadConflict,
            code: "load_conflict",
            message: format!(
                "{} of {} items are not in the tables after the merge (audit records whose key holds another are named in conflicts); nothing was overwritten: {report}",
                items.len() - verified,
                items.len()
            ),
        });
    }
    Ok(report)
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

/// The dump's items, once the file matches its manifest: checksum, format and counts.
fn read_checked(file: &Path) -> Result<Vec<(TableRole, Item)>, Failure> {
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
    let bytes = std::fs::read(file)
        .map_err(|error| corrupt(format!("{} cannot be read: {error}", file.display())))?;
    if manifest["format"] != FORMAT {
        return Err(corrupt(format!("the manifest's format is not {FORMAT}")));
    }
    if manifest["sha256"] != sha256_hex(&bytes) {
        return Err(corrupt(
            "the file's SHA-256 is not the manifest's: it changed since it was dumped".into(),
        ));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| corrupt("the file is not UTF-8".into()))?;
    let mut items = Vec::new();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let parsed: Option<(TableRole, Item)> =
            serde_json::from_str::<Value>(line).ok().and_then(|line| {
                let role = TableRole::parse(line["table"].as_str()?)?;
                Some((role, item_from_json(&line["item"])?))
            });
        let (role, item) =
            parsed.ok_or_else(|| corrupt(format!("line {} is not a dumped item", number + 1)))?;
        *counts.entry(role.as_str()).or_default() += 1;
        items.push((role, item));
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
    Ok(items)
}

fn manifest_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

/// Creates `path` readable by its owner only; an existing file is never replaced.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        });
    written.map_err(|error| Failure {
        exit: Exit::Usage,
        code: "cannot_write",
        message: format!("{}: {error} (a dump never replaces a file)", path.display()),
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The key of a dumped item, to name a conflict: identifiers and versions, never a share.
fn key_of(role: TableRole, item: &Item) -> Value {
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

fn corrupt(message: String) -> Failure {
    Failure {
        exit: Exit::DumpCorrupt,
        code: "dump_corrupt",
        message,
    }
}

fn store_failure(error: StoreError) -> Failure {
    crate::failure(error.into())
}
