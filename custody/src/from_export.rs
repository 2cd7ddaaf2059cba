//! `custody dump --from-export DIR`: the dump made from DynamoDB point-in-time exports of the
//! three tables (`ExportTableToPointInTime`, format DynamoDB JSON) copied from S3 into DIR. Each
//! table is then a copy as of one instant, its export time, read from files instead of scanned:
//! no read capacity used, however large the table. The output is the same file and manifest as
//! `custody dump`, so `load` and `load --merge` take it.
//!
//! An export, as DynamoDB writes it ("DynamoDB table export output format" in its developer
//! guide): `AWSDynamoDB/<ExportId>/manifest-summary.json` (`tableArn`, `exportTime`, `itemCount`,
//! `outputFormat`), `manifest-files.json` (a JSON line per data file: `dataFileS3Key`,
//! `itemCount`) and `data/<name>.json.gz`, gzip JSON lines of `{"Item": <DynamoDB JSON>}`.
//! Every count is checked; a mismatch fails before the manifest is written and removes the
//! partial file, so a partial dump can never be loaded.

use crate::Failure;
use crate::portable::{DumpFile, corrupt};
use custodian_backup::store::dynamodb::DynamoDbStore;
use custodian_backup::store::dynamodb::portable::{TableRole, item_from_json};
use flate2::read::MultiGzDecoder;
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Items written to the dump at a time: a data file is never held in memory whole.
const PAGE: usize = 1000;

/// One table's export: where its manifests are, and its summary.
struct Export {
    dir: PathBuf,
    summary: Value,
}

pub fn dump_from_export(store: &DynamoDbStore, dir: &Path, out: &Path) -> Result<Value, Failure> {
    let exports = find_exports(dir)?;
    // Every table's export found and well-formed before the dump file exists.
    let chosen: Vec<(TableRole, &Export)> = TableRole::ALL
        .into_iter()
        .map(|role| Ok((role, export_of(&exports, store.table(role), dir)?)))
        .collect::<Result<_, Failure>>()?;
    let mut file = DumpFile::create(out)?;
    let sources = match copy_exports(&mut file, &chosen) {
        Ok(sources) => sources,
        Err(failure) => {
            // Sealed shares without a manifest are of no use: removed, so a retry can write.
            drop(file);
            let _ = std::fs::remove_file(out);
            return Err(failure);
        }
    };
    let times: Vec<&Value> = sources.iter().map(|source| &source["exportTime"]).collect();
    let one_instant = times.windows(2).all(|pair| pair[0] == pair[1]);
    file.finish(json!({
        "fromExports": sources,
        "consistency": match one_instant {
            true => "each table as of its point-in-time export, all three at the same exportTime",
            false => "each table as of its own point-in-time export (exportTime); the three times differ, so this is not a snapshot across tables",
        },
    }))
}

/// Every export's items into the dump, each data file's and each export's count checked; what
/// each table was copied from.
fn copy_exports(
    file: &mut DumpFile<'_>,
    chosen: &[(TableRole, &Export)],
) -> Result<Vec<Value>, Failure> {
    let mut sources = Vec::new();
    for (role, export) in chosen {
        let expected = count(&export.summary, "itemCount", &export.dir)?;
        let mut items = 0;
        for line in lines(&export.dir.join("manifest-files.json"))? {
            let entry: Value = serde_json::from_str(&line?).map_err(|_| {
                corrupt(format!(
                    "{}: a line of manifest-files.json is not JSON",
                    export.dir.display()
                ))
            })?;
            let data = data_file(&export.dir, &entry)?;
            let in_file = copy_items(file, *role, &data)?;
            if in_file != count(&entry, "itemCount", &data)? {
                return Err(corrupt(format!(
                    "{}: {in_file} items, its manifest says {}; the export is incomplete (the dump was removed)",
                    data.display(),
                    entry["itemCount"]
                )));
            }
            items += in_file;
        }
        if items != expected {
            return Err(corrupt(format!(
                "{}: {items} items in its data files, manifest-summary.json says {expected} (the dump was removed)",
                export.dir.display()
            )));
        }
        sources.push(json!({
            "table": role.as_str(),
            "exportArn": export.summary["exportArn"],
            "exportTime": export.summary["exportTime"],
        }));
    }
    Ok(sources)
}

/// Every `manifest-summary.json` under `dir`, however deep (an S3 prefix copied as it was).
fn find_exports(dir: &Path) -> Result<Vec<Export>, Failure> {
    let mut exports = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let entries = std::fs::read_dir(&next)
            .map_err(|error| corrupt(format!("{}: {error}", next.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .file_name()
                .is_some_and(|name| name == "manifest-summary.json")
            {
                let text = std::fs::read_to_string(&path)
                    .map_err(|error| corrupt(format!("{}: {error}", path.display())))?;
                let summary = serde_json::from_str(&text)
                    .map_err(|_| corrupt(format!("{}: not JSON", path.display())))?;
                let dir = path.parent().unwrap_or(dir).to_path_buf();
                exports.push(Export { dir, summary });
            }
        }
    }
    Ok(exports)
}

/// The one complete, full DynamoDB JSON export of `table`.
fn export_of<'a>(exports: &'a [Export], table: &str, dir: &Path) -> Result<&'a Export, Failure> {
    let of_table: Vec<&Export> = exports
        .iter()
        .filter(|export| {
            let arn = export.summary["tableArn"].as_str().unwrap_or_default();
            arn.rsplit_once(":table/")
                .is_some_and(|(_, name)| name == table)
        })
        .collect();
    let [export] = of_table[..] else {
        return Err(corrupt(format!(
            "{}: {} exports of table {table} (one per table is needed: export each of the three tables, then copy them here)",
            dir.display(),
            of_table.len()
        )));
    };
    let format = export.summary["outputFormat"].as_str();
    let kind = export.summary["exportType"]
        .as_str()
        .unwrap_or("FULL_EXPORT");
    if format != Some("DYNAMODB_JSON") || kind != "FULL_EXPORT" {
        return Err(corrupt(format!(
            "{}: a {kind} in {} format; dump needs a full export in DYNAMODB_JSON",
            export.dir.display(),
            format.unwrap_or("an unknown")
        )));
    }
    Ok(export)
}

/// The local copy of a data file named in manifest-files.json: under the export's `data/`.
fn data_file(export_dir: &Path, entry: &Value) -> Result<PathBuf, Failure> {
    let key = entry["dataFileS3Key"].as_str().unwrap_or_default();
    match key.rsplit_once('/') {
        Some((_, name)) if key.contains("/data/") && !name.is_empty() => {
            Ok(export_dir.join("data").join(name))
        }
        _ => Err(corrupt(format!(
            "{}: a data file key that is not <prefix>/AWSDynamoDB/<ExportId>/data/<name>",
            export_dir.display()
        ))),
    }
}

/// Appends a data file's items to the dump, a page at a time; how many there were.
fn copy_items(file: &mut DumpFile<'_>, role: TableRole, data: &Path) -> Result<u64, Failure> {
    let opened = std::fs::File::open(data)
        .map_err(|error| corrupt(format!("{}: {error}", data.display())))?;
    let reader = std::io::BufReader::new(MultiGzDecoder::new(opened));
    let (mut page, mut count) = (Vec::new(), 0);
    for (number, line) in reader.lines().enumerate() {
        let line = line.map_err(|error| corrupt(format!("{}: {error}", data.display())))?;
        if line.trim().is_empty() {
            continue;
        }
        let item = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|value| item_from_json(&value["Item"]))
            .ok_or_else(|| {
                corrupt(format!(
                    "{} line {}: not an {{\"Item\": ...}} of strings, numbers and binaries",
                    data.display(),
                    number + 1
                ))
            })?;
        page.push(item);
        count += 1;
        if page.len() == PAGE {
            file.write_page(role, &page)?;
            page.clear();
        }
    }
    file.write_page(role, &page)?;
    Ok(count)
}

fn lines(path: &Path) -> Result<impl Iterator<Item = Result<String, Failure>>, Failure> {
    let opened = std::fs::File::open(path)
        .map_err(|error| corrupt(format!("{}: {error}", path.display())))?;
    let shown = path.display().to_string();
    Ok(std::io::BufReader::new(opened)
        .lines()
        .filter(|line| !line.as_ref().is_ok_and(|line| line.trim().is_empty()))
        .map(move |line| line.map_err(|error| corrupt(format!("{shown}: {error}")))))
}

fn count(value: &Value, field: &str, path: &Path) -> Result<u64, Failure> {
    value[field]
        .as_u64()
        .ok_or_else(|| corrupt(format!("{}: no {field}", path.display())))
}
