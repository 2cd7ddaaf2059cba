//! Portal's request bodies for `/backup` and `/backup/fetch`, and the types they validate into.
//!
//! Parsing never echoes a value: error messages name the field and the problem, never its content.
//! A `Share` is key material and can only be read through `expose_secret`.

use super::{BackupSharePairId, Share};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// The `backupMethod` stored for legacy (pre-multi-backup) calls that send none, as Portal's docs do.
pub const UNKNOWN_BACKUP_METHOD: &str = "UNKNOWN";

/// Longest `clientId`, `backupMethod` or `backupSharePairId` accepted, in bytes. Portal's ids are
/// a few dozen characters; this keeps every DynamoDB key far below its 1 KB sort-key limit.
pub const MAX_IDENTIFIER_BYTES: usize = 256;

/// The Portal ID of the user whose shares these are.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(String);

/// How the share was backed up, e.g. `GDRIVE-SECP256K1`. Opaque: Portal adds values over time,
/// so it is never checked against a list.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BackupMethod(String);

/// `POST /backup`: store this share as the current one for (clientId, backupMethod,
/// backupSharePairId).
#[derive(Debug)]
pub struct Backup {
    pub client_id: ClientId,
    pub backup_method: BackupMethod,
    pub share: Share,
    /// The body's `backupSharePairId`, or else the one inside the share's own JSON; `None` keeps
    /// the pair-less slot of earlier Portal versions.
    pub backup_share_pair_id: Option<BackupSharePairId>,
    /// Why a `backupSharePairId` that was sent is not kept: it is optional, and refusing the
    /// request for it would lose the share.
    pub dropped_pair_id: Option<InvalidRequest>,
    /// The body's pair id (kept) differs from the one inside the share: counted, never refused.
    pub pair_id_disagrees: bool,
}

/// `POST /backup/fetch`: return every current share of this client.
#[derive(Debug)]
pub struct Fetch {
    pub client_id: ClientId,
}

/// Why a request body was refused. Messages name the field, never its value.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRequest {
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("request body must be a JSON object")]
    NotAnObject,
    #[error("field `{0}` appears more than once")]
    DuplicateField(&'static str),
    #[error("field `{0}` is required")]
    MissingField(&'static str),
    #[error("field `{field}` must be a string, not {found}")]
    WrongType {
        field: &'static str,
        found: &'static str,
    },
    #[error("field `{0}` must not be empty")]
    EmptyField(&'static str),
    #[error("field `{field}` is longer than {max} bytes")]
    TooLong { field: &'static str, max: usize },
    #[error("field `{0}` must not contain control characters")]
    ControlCharacter(&'static str),
}

impl InvalidRequest {
    /// A stable, machine-readable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::NotAnObject => "not_an_object",
            Self::DuplicateField(_) => "duplicate_field",
            Self::MissingField(_) => "missing_field",
            Self::WrongType { .. } => "wrong_type",
            Self::EmptyField(_) => "empty_field",
            Self::TooLong { .. } => "field_too_long",
            Self::ControlCharacter(_) => "invalid_character",
        }
    }
}

const CLIENT_ID: &str = "clientId";
const BACKUP_METHOD: &str = "backupMethod";
const SHARE: &str = "share";
/// Portal's name for a backup share pair's id: a body field, and the client-share GET's and
/// eject's query parameter.
pub const BACKUP_SHARE_PAIR_ID: &str = "backupSharePairId";
const FIELDS: [&str; 3] = [CLIENT_ID, BACKUP_METHOD, SHARE];

/// The body as sent. Fields are loose `Value`s so a wrong type is reported by field name instead
/// of by serde's message, which would quote the value. Unknown fields are ignored.
#[derive(Deserialize)]
struct RawBody {
    #[serde(rename = "clientId")]
    client_id: Option<Value>,
    #[serde(rename = "backupMethod")]
    backup_method: Option<Value>,
    share: Option<Value>,
}

/// The optional `backupSharePairId`, read on its own so that anything wrong with it (even a
/// repeat) drops it instead of refusing the share.
#[derive(Deserialize)]
struct RawPairId {
    #[serde(rename = "backupSharePairId")]
    backup_share_pair_id: Option<Value>,
}

impl Backup {
    pub fn from_json(body: &[u8]) -> Result<Self, InvalidRequest> {
        let raw = parse(body)?;
        let share = string_field(SHARE, raw.share)?.ok_or(InvalidRequest::MissingField(SHARE))?;
        if share.is_empty() {
            return Err(InvalidRequest::EmptyField(SHARE));
        }
        let backup_method = match string_field(BACKUP_METHOD, raw.backup_method)? {
            Some(method) if !method.is_empty() => identifier(BACKUP_METHOD, method)?,
            _ => UNKNOWN_BACKUP_METHOD.to_owned(),
        };
        let pair_id = serde_json::from_slice::<RawPairId>(body)
            .map_err(|_| InvalidRequest::DuplicateField(BACKUP_SHARE_PAIR_ID))
            .and_then(|raw| string_field(BACKUP_SHARE_PAIR_ID, raw.backup_share_pair_id))
            .and_then(|id| {
                id.filter(|id| !id.is_empty())
                    .map(|id| identifier(BACKUP_SHARE_PAIR_ID, id))
                    .transpose()
            });
        let (sent, dropped_pair_id) = match pair_id {
            Ok(id) => (id.map(BackupSharePairId::stored), None),
            Err(invalid) => (None, Some(invalid)),
        };
        let client_id = client_id(raw.client_id)?;
        let share = Share::from(share);
        let embedded = BackupSharePairId::embedded_in(&share);
        let pair_id_disagrees =
            matches!((&sent, &embedded), (Some(sent), Some(embedded)) if sent != embedded);
        Ok(Self {
            client_id,
            backup_method: BackupMethod(backup_method),
            share,
            backup_share_pair_id: sent.or(embedded),
            dropped_pair_id,
            pair_id_disagrees,
        })
    }
}

impl Fetch {
    pub fn from_json(body: &[u8]) -> Result<Self, InvalidRequest> {
        let raw = parse(body)?;
        Ok(Self {
            client_id: client_id(raw.client_id)?,
        })
    }
}

fn parse(body: &[u8]) -> Result<RawBody, InvalidRequest> {
    parse_object(body, &FIELDS)
}

/// A JSON object of loose fields (`fields` are the ones a repeat of is refused), with errors that
/// never quote the input.
pub(super) fn parse_object<T: serde::de::DeserializeOwned>(
    body: &[u8],
    fields: &[&'static str],
) -> Result<T, InvalidRequest> {
    let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
    if first.is_some_and(|byte| *byte != b'{') {
        // Checked before serde, whose "invalid type" message would quote a top-level string.
        return match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Err(error) if error.is_syntax() || error.is_eof() => {
                Err(InvalidRequest::MalformedJson(error.to_string()))
            }
            _ => Err(InvalidRequest::NotAnObject),
        };
    }
    serde_json::from_slice(body).map_err(|error| {
        if error.is_syntax() || error.is_eof() || error.is_io() {
            // serde_json's syntax messages are fixed texts plus a position: they quote no input.
            InvalidRequest::MalformedJson(error.to_string())
        } else {
            // In an object of loose fields the only data error left is a repeated known field.
            let message = error.to_string();
            fields
                .iter()
                .copied()
                .find(|field| message.contains(&format!("`{field}`")))
                .map_or(InvalidRequest::NotAnObject, InvalidRequest::DuplicateField)
        }
    })
}

fn client_id(value: Option<Value>) -> Result<ClientId, InvalidRequest> {
    let id = string_field(CLIENT_ID, value)?.ok_or(InvalidRequest::MissingField(CLIENT_ID))?;
    if id.trim().is_empty() {
        return Err(InvalidRequest::EmptyField(CLIENT_ID));
    }
    identifier(CLIENT_ID, id).map(ClientId)
}

/// `None` for an absent or `null` field; an error for any non-string value.
pub(super) fn string_field(
    field: &'static str,
    value: Option<Value>,
) -> Result<Option<String>, InvalidRequest> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(InvalidRequest::WrongType {
            field,
            found: kind(&other),
        }),
    }
}

pub(super) fn identifier(field: &'static str, text: String) -> Result<String, InvalidRequest> {
    identifier_up_to(field, text, MAX_IDENTIFIER_BYTES)
}

fn identifier_up_to(
    field: &'static str,
    text: String,
    max: usize,
) -> Result<String, InvalidRequest> {
    if text.len() > max {
        return Err(InvalidRequest::TooLong { field, max });
    }
    if text.chars().any(char::is_control) {
        return Err(InvalidRequest::ControlCharacter(field));
    }
    Ok(text)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl ClientId {
    /// A `clientId` given other than in a request body (by an operator, say), validated alike.
    pub fn parse(id: &str) -> Result<Self, InvalidRequest> {
        client_id(Some(Value::String(id.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An owner of validated parts (`client_owner`): no control character, at most `max` bytes.
    pub(crate) fn bound(id: String, max: usize) -> Result<Self, InvalidRequest> {
        identifier_up_to(CLIENT_ID, id, max).map(Self)
    }
}

impl BackupMethod {
    /// Takes a stored `backupMethod` back; new ones come only from a validated `Backup`.
    pub(crate) fn stored(method: String) -> Self {
        Self(method)
    }

    /// A `backupMethod` given other than in a request body, validated alike; required here.
    pub fn parse(method: &str) -> Result<Self, InvalidRequest> {
        if method.is_empty() {
            return Err(InvalidRequest::EmptyField(BACKUP_METHOD));
        }
        identifier(BACKUP_METHOD, method.to_owned()).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the legacy, pre-multi-backup slot.
    pub fn is_unknown(&self) -> bool {
        self.0 == UNKNOWN_BACKUP_METHOD
    }
}

macro_rules! displayed_as_text {
    ($($name:ty),*) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
        }
    )*};
}
displayed_as_text!(ClientId, BackupMethod);
