//! Attribute names of the three tables, shared with `template.yaml` (a test in `tests/` fails if
//! they drift). Stored data uses these names: none may ever change.

/// Shares table: partition key.
pub const CLIENT_ID: &str = "clientId";
/// Shares table: sort key, the share's *slot*: its backupMethod, followed for a pair's share by
/// [`PAIR_SEPARATOR`] and its backupSharePairId (`GDRIVE-SECP256K1␟bsp_1`). Neither part may hold
/// a control character (every identifier is checked), so no two owners' slots collide, and the
/// pair-less slot is the backupMethod alone, as every share stored before pairs has it.
pub const BACKUP_METHOD: &str = "backupMethod";
/// Between a slot's backupMethod and its backupSharePairId: U+001F (the unit separator), a
/// control character no validated identifier can contain.
pub const PAIR_SEPARATOR: char = '\u{1f}';
/// The share sealed with AES-256-GCM (ciphertext and tag), binary.
pub const SEALED_SHARE: &str = "sealedShare";
/// The AES-GCM nonce, 12 bytes.
pub const NONCE: &str = "nonce";
/// The share's data key, encrypted by KMS.
pub const ENCRYPTED_DATA_KEY: &str = "encryptedDataKey";
/// ARN of the KMS key that encrypted the data key.
pub const KMS_KEY_ID: &str = "kmsKeyId";
/// The share's data key, also encrypted under the escrow key (present when one was configured
/// and answered).
pub const ESCROWED_DATA_KEY: &str = "escrowedDataKey";
/// ARN of the escrow key that encrypted `escrowedDataKey`.
pub const ESCROW_KEY_ID: &str = "escrowKeyId";
/// Envelope format, [`crate::domain::envelope::FORMAT`].
pub const SEAL_FORMAT: &str = "sealFormat";
/// SHA-256 of the share, lowercase hex: repeat detection and audit without the share.
pub const SHARE_SHA256: &str = "shareSha256";
/// Size of the share in bytes.
pub const SHARE_BYTES: &str = "shareBytes";
/// The share's backupSharePairId, where known: the slot's pair, or (a share stored before pairs
/// in its method's pair-less slot) the body's, or the one `custody pair-ids` read from the share.
pub const BACKUP_SHARE_PAIR_ID: &str = "backupSharePairId";
/// Starts at 1 and grows by one with each replacement: the optimistic-concurrency guard,
/// and the history table's sort key, so history sorts in replacement order.
pub const VERSION: &str = "version";
pub const STORED_AT: &str = "storedAt";
/// History and audit tables: partition key, the owner as the JSON array
/// `[clientId, backupMethod]`, or `[clientId, backupMethod, backupSharePairId]` for a pair's
/// share. Named `shareKey` on disk, where it cannot change.
pub const OWNER: &str = "shareKey";
/// History table: when the share was moved there, RFC 3339 with nanoseconds.
pub const REPLACED_AT: &str = "replacedAt";
/// History table: the TTL attribute (epoch seconds). Absent unless pruning is opted into,
/// and then set only on a version with five newer ones kept.
pub const EXPIRES_AT: &str = "expiresAt";
/// History table: the version a share had while current, when it was archived under
/// another one because that version was already taken (a hand-deleted or PITR-restored row).
pub const ARCHIVED_FROM: &str = "archivedFrom";
/// Shares table: the version an operator's restore copied this share from.
pub const RESTORED_FROM: &str = "restoredFrom";
/// Shares table: the version this share had when Portal sent it, before `custody reseal` sealed
/// it again (once or more) under a higher version.
pub const RESEALED_FROM: &str = "resealedFrom";
/// On a history item: it was a current item that could not be read (the attribute it failed on),
/// set aside exactly as it was so that a new share could be stored.
pub const SET_ASIDE_UNREADABLE: &str = "setAsideUnreadable";
/// Audit table: sort key, the time of the record in nanoseconds since 1970.
pub const RECORDED_AT: &str = "recordedAt";
/// The audit table's head item of a share sits at this `recordedAt`: the newest record's
/// `sequence` and `digest`, written in the same transaction as that record.
pub const HEAD_RECORDED_AT: u64 = 0;
/// An audit record's place in its share's trail: 1, 2, 3, … with no gap, written conditionally.
pub const SEQUENCE: &str = "sequence";
/// A sequenced audit record's MAC under the audit key (hex); on the head item, the newest one's.
pub const DIGEST: &str = "digest";
/// Audit records: the `digest` of the record before this one of the same share ("" for the
/// first), which chains them so that a rewritten or removed record shows.
pub const PREVIOUS_DIGEST: &str = "previousDigest";
/// Audit records: what was done.
pub const ACTION: &str = "action";
/// Audit records: who did it (an IAM ARN).
pub const ACTOR: &str = "actor";
/// Audit records: through what (`cli` or `eject-endpoint`).
pub const VIA: &str = "via";
/// Audit records: when, RFC 3339.
pub const AT: &str = "at";
/// Audit records: the version of the share concerned.
pub const SHARE_VERSION: &str = "shareVersion";
/// Audit records: the operator's stated reason, if given.
pub const REASON: &str = "reason";

/// The sealed envelope and the hash of what it holds: what opening a share needs (the escrow
/// wrap's two only when it has one).
pub const ENVELOPE: [&str; 8] = [
    SEALED_SHARE,
    NONCE,
    ENCRYPTED_DATA_KEY,
    KMS_KEY_ID,
    ESCROWED_DATA_KEY,
    ESCROW_KEY_ID,
    SEAL_FORMAT,
    SHARE_SHA256,
];
