//! Audit records as the audit table holds them: the item written, its canonical form (what its
//! digest or MAC covers) and the record read back.

use super::item::{Item, number, owner_value, string, text, whole};
use super::schema;
use crate::domain::custody::{Action, Actor, AuditRecord, ShareRecord};
use crate::domain::{Owner, StoreError};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::time::SystemTime;

/// An audit record of `action` on the share `record` describes, without its sort key.
pub fn audit_item(
    owner: Owner<'_>,
    action: Action,
    actor: &Actor,
    record: &ShareRecord,
    at: SystemTime,
) -> Item {
    let mut item = HashMap::from([
        (schema::OWNER.to_owned(), owner_value(owner)),
        (schema::CLIENT_ID.to_owned(), text(owner.client_id.as_str())),
        (
            schema::BACKUP_METHOD.to_owned(),
            text(owner.backup_method.as_str()),
        ),
        (schema::ACTION.to_owned(), text(action.as_str())),
        (schema::ACTOR.to_owned(), text(&actor.arn)),
        (schema::VIA.to_owned(), text(actor.via.as_str())),
        (
            schema::AT.to_owned(),
            text(&humantime::format_rfc3339_nanos(at).to_string()),
        ),
        (schema::SHARE_VERSION.to_owned(), whole(record.version)),
        (schema::SHARE_SHA256.to_owned(), text(&record.share_sha256)),
    ]);
    if let Some(reason) = &actor.reason {
        item.insert(schema::REASON.to_owned(), text(reason));
    }
    if let Some(pair_id) = owner.backup_share_pair_id {
        item.insert(
            schema::BACKUP_SHARE_PAIR_ID.to_owned(),
            text(pair_id.as_str()),
        );
    }
    item
}

/// An audit record's digest as written before 0.4.0 (no `sequence`): the SHA-256 (hex) of
/// [`audit_canonical`]. A record with a sequence has its MAC instead (`audit.rs`).
pub fn audit_digest(item: &Item) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(audit_canonical(item).as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The JSON array of an audit record's attributes in a fixed order, the previous record's digest
/// included, and its `sequence` last when it has one (docs/custody.md, "The audit trail").
pub fn audit_canonical(item: &Item) -> String {
    let value = |name: &str| match item.get(name) {
        Some(AttributeValue::S(text)) | Some(AttributeValue::N(text)) => Some(text.as_str()),
        _ => None,
    };
    let fields = [
        schema::OWNER,
        schema::RECORDED_AT,
        schema::ACTION,
        schema::ACTOR,
        schema::VIA,
        schema::AT,
        schema::SHARE_VERSION,
        schema::SHARE_SHA256,
        schema::REASON,
        schema::PREVIOUS_DIGEST,
    ];
    let mut values = fields.map(value).to_vec();
    if item.contains_key(schema::SEQUENCE) {
        values.push(value(schema::SEQUENCE));
    }
    serde_json::Value::from(values).to_string()
}

pub fn audit_record(item: &Item) -> Result<AuditRecord, StoreError> {
    let text = |name| string(item, name).map(str::to_owned);
    Ok(AuditRecord {
        recorded_at: number(item, schema::RECORDED_AT)?.to_string(),
        sequence: number(item, schema::SEQUENCE).ok(),
        digest: match item.contains_key(schema::SEQUENCE) {
            true => text(schema::DIGEST)?,
            false => audit_digest(item),
        },
        previous_digest: text(schema::PREVIOUS_DIGEST).ok(),
        at: text(schema::AT)?,
        action: text(schema::ACTION)?,
        actor: text(schema::ACTOR)?,
        via: text(schema::VIA)?,
        share_version: number(item, schema::SHARE_VERSION)?,
        share_sha256: text(schema::SHARE_SHA256)?,
        reason: text(schema::REASON).ok(),
    })
}
