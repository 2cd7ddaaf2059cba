//! What each command prints: a table for people, or one JSON document with `--json`. Only
//! [`Output::exported`] ever prints a share.

use crate::Failure;
use custodian_backup::domain::custody::{Actor, AuditRecord, Exported, Restored, ShareRecord};
use custodian_backup::domain::{BackupMethod, ClientId, Owner};
use custodian_backup::http::error::ErrorBody;
use serde_json::json;

pub struct Output {
    pub json: bool,
}

impl Output {
    /// `list` (every method's current share) and `history` (every version of one).
    pub fn shares(
        &self,
        client_id: &ClientId,
        backup_method: Option<&BackupMethod>,
        shares: &[ShareRecord],
    ) {
        if self.json {
            let mut document = json!({ "clientId": client_id.as_str(), "shares": shares });
            if let Some(method) = backup_method {
                document["backupMethod"] = method.as_str().into();
            }
            return print_json(&document);
        }
        println!(
            "{:<24} {:>7}  {:<8} {:<30} {:<30} {:<64} {:>7}",
            "BACKUP_METHOD", "VERSION", "STATE", "STORED_AT", "REPLACED_AT", "SHA256", "BYTES"
        );
        for share in shares {
            let state = match (share.current, share.restored_from) {
                (true, Some(_)) => "restored",
                (true, None) => "current",
                (false, _) => "kept",
            };
            println!(
                "{:<24} {:>7}  {:<8} {:<30} {:<30} {:<64} {:>7}",
                share.backup_method,
                share.version,
                state,
                share.stored_at.as_deref().unwrap_or("-"),
                share.replaced_at.as_deref().unwrap_or("-"),
                share.share_sha256,
                share.share_bytes,
            );
        }
    }

    pub fn restored(
        &self,
        client_id: &ClientId,
        backup_method: &BackupMethod,
        restored: &Restored,
    ) {
        if self.json {
            let mut document = serde_json::to_value(restored).expect("plain data");
            document["clientId"] = client_id.as_str().into();
            document["backupMethod"] = backup_method.as_str().into();
            return print_json(&document);
        }
        match restored {
            Restored::Restored { from, version } => println!(
                "restored version {from} of {client_id} / {backup_method}: it is current again as version {version}; \
                 whatever was current there before is kept in history"
            ),
            Restored::AlreadyCurrent { version } => println!(
                "the requested share is already current (version {version}) for {client_id} / {backup_method}: nothing changed"
            ),
        }
    }

    /// The share alone on stdout (so `$(custody export ...)` is the share); what was exported
    /// goes to stderr.
    pub fn exported(&self, owner: Owner<'_>, exported: &Exported, actor: &Actor) {
        let record = &exported.record;
        if self.json {
            return print_json(&json!({
                "clientId": owner.client_id.as_str(),
                "backupMethod": record.backup_method,
                "version": record.version,
                "current": record.current,
                "shareSha256": record.share_sha256,
                "auditedAs": actor.arn,
                "share": exported.share.expose_secret(),
            }));
        }
        println!("{}", exported.share.expose_secret());
        eprintln!(
            "exported version {} of {} / {} (sha256 {}); audit record written for {}",
            record.version, owner.client_id, record.backup_method, record.share_sha256, actor.arn
        );
    }

    pub fn audit(
        &self,
        client_id: &ClientId,
        backup_method: &BackupMethod,
        records: &[AuditRecord],
    ) {
        if self.json {
            return print_json(&json!({
                "clientId": client_id.as_str(),
                "backupMethod": backup_method.as_str(),
                "records": records,
            }));
        }
        if records.is_empty() {
            println!("no export or restore of {client_id} / {backup_method} is recorded");
            return;
        }
        println!(
            "{:<32} {:<8} {:>7}  {:<15} {:<50} REASON",
            "AT", "ACTION", "VERSION", "VIA", "ACTOR"
        );
        for record in records {
            println!(
                "{:<32} {:<8} {:>7}  {:<15} {:<50} {}",
                record.at,
                record.action,
                record.share_version,
                record.via,
                record.actor,
                record.reason.as_deref().unwrap_or("-")
            );
        }
    }

    /// `audit --imports`: each import run, newest first, with its report.
    pub fn import_runs(&self, records: &[AuditRecord]) {
        if self.json {
            return print_json(&json!({ "imports": records }));
        }
        if records.is_empty() {
            println!("no import is recorded");
            return;
        }
        for record in records {
            println!(
                "{}  {}  {}",
                record.at,
                record.actor,
                record.reason.as_deref().unwrap_or("-")
            );
        }
    }

    /// `dump` and `load`: what was done, as one JSON document, or a line and the document.
    pub fn report(&self, done: &str, report: &serde_json::Value) {
        if !self.json {
            println!("{done}:");
        }
        print_json(report);
    }

    pub fn failure(&self, failure: &Failure) {
        if self.json {
            print_json(&ErrorBody::new(failure.code, failure.message.clone()).to_json());
        } else {
            eprintln!("custody: {}", failure.message);
        }
    }
}

fn print_json(document: &serde_json::Value) {
    println!("{document:#}");
}
