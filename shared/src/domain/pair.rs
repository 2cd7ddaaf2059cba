//! Backup share pairs: every backup Portal runs makes a pair with its own id, whose custodian half
//! comes to `/backup` and whose client half goes to the app. A user's last *completed* pair is the
//! one that recovers their wallet, and a later pair may never complete (the app's upload of its
//! half failed), so a share's identity is (clientId, backupMethod, backupSharePairId): a new pair
//! never displaces another pair's share (docs/contract.md, "Backup share pairs").

use super::custody::ShareRecord;
use super::portal::{BACKUP_SHARE_PAIR_ID, identifier};
use super::{BackupMethod, InvalidRequest, Share, UNKNOWN_BACKUP_METHOD};
use serde::Deserialize;
use std::fmt;

/// The id Portal gives a backup share pair, e.g. `bsp_…`: validated as every identifier is
/// (at most 256 bytes, no control characters), so it can never contain the shares table's slot
/// separator.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BackupSharePairId(String);

impl BackupSharePairId {
    /// A `backupSharePairId` from a request or an operator; an empty one is an error here (a
    /// request treats an empty field as absent before it gets here).
    pub fn parse(id: &str) -> Result<Self, InvalidRequest> {
        if id.is_empty() {
            return Err(InvalidRequest::EmptyField(BACKUP_SHARE_PAIR_ID));
        }
        identifier(BACKUP_SHARE_PAIR_ID, id.to_owned()).map(Self)
    }

    /// Takes a stored pair id back; new ones come only from [`Self::parse`].
    pub(crate) fn stored(id: String) -> Self {
        Self(id)
    }

    /// The pair id Portal wrote inside a custodian share's own JSON, if it is a valid one. Reads
    /// only that field (the rest is skipped, never copied) and never changes the share.
    pub fn embedded_in(share: &Share) -> Option<Self> {
        #[derive(Deserialize)]
        struct Embedded {
            #[serde(rename = "backupSharePairId")]
            backup_share_pair_id: Option<String>,
        }
        let embedded: Embedded = serde_json::from_str(share.expose_secret()).ok()?;
        Self::parse(&embedded.backup_share_pair_id?).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BackupSharePairId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which of a client's shares a reader asks for (the client-share `GET`): one pair's, or the
/// newest of a backup method. Either falls back to the legacy `UNKNOWN` method, as Portal's
/// reference server does, and never to another pair's share.
#[derive(Clone, Copy, Debug)]
pub struct Wanted<'a> {
    pub backup_method: &'a BackupMethod,
    pub backup_share_pair_id: Option<&'a BackupSharePairId>,
}

impl Wanted<'_> {
    /// The index in `records` (a client's current shares) of the one to answer with: for a
    /// pair, its share (in its pair's slot before a pair-less one that knows the pair);
    /// otherwise the newest stored. First of the method asked for, then of `UNKNOWN`.
    pub fn choose(&self, records: &[ShareRecord]) -> Option<usize> {
        let legacy = (!self.backup_method.is_unknown()).then_some(UNKNOWN_BACKUP_METHOD);
        [Some(self.backup_method.as_str()), legacy]
            .into_iter()
            .flatten()
            .find_map(|method| {
                let candidates = records.iter().enumerate().filter(|(_, record)| {
                    record.backup_method == method
                        && self.backup_share_pair_id.is_none_or(|wanted| {
                            record.backup_share_pair_id.as_deref() == Some(wanted.as_str())
                        })
                });
                let for_pair = self.backup_share_pair_id.is_some();
                let rank = |record: &ShareRecord| {
                    (for_pair && record.in_pair_slot, record.stored_at.clone())
                };
                candidates
                    .max_by_key(|(_, record)| rank(record))
                    .map(|(index, _)| index)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(method: &str, pair: Option<&str>, in_pair_slot: bool, at: &str) -> ShareRecord {
        ShareRecord::current(method, pair, in_pair_slot, Some(at))
    }

    #[test]
    fn a_pair_is_answered_only_with_that_pairs_share() {
        let records = [
            record("PASSWORD", Some("a"), false, "2026-01-01T00:00:00Z"),
            record("PASSWORD", Some("b"), true, "2026-02-01T00:00:00Z"),
            record("PASSWORD", Some("a"), true, "2026-01-02T00:00:00Z"),
            record("UNKNOWN", Some("c"), true, "2025-01-01T00:00:00Z"),
        ];
        let method = BackupMethod::parse("PASSWORD").unwrap();
        let wanted = |pair: &str| {
            let pair = BackupSharePairId::parse(pair).unwrap();
            Wanted {
                backup_method: &method,
                backup_share_pair_id: Some(&pair),
            }
            .choose(&records)
        };
        assert_eq!(wanted("a"), Some(2), "its pair's slot first");
        assert_eq!(wanted("b"), Some(1));
        assert_eq!(
            wanted("c"),
            Some(3),
            "the legacy method's share of that pair"
        );
        assert_eq!(wanted("d"), None, "never another pair's share");
        let newest = Wanted {
            backup_method: &method,
            backup_share_pair_id: None,
        };
        assert_eq!(newest.choose(&records), Some(1));
        let other = BackupMethod::parse("GDRIVE").unwrap();
        let fallback = Wanted {
            backup_method: &other,
            backup_share_pair_id: None,
        };
        assert_eq!(fallback.choose(&records), Some(3));
        assert_eq!(fallback.choose(&records[..3]), None);
    }

    fn embedded(share: &str) -> Option<String> {
        BackupSharePairId::embedded_in(&Share::from(share.to_owned())).map(|id| id.0)
    }

    #[test]
    fn the_pair_id_inside_a_share_is_read_without_touching_the_rest() {
        let share =
            r#"{"clientId":"c","backupSharePairId":"bsp_1","share":"0xabc","bks":{"x":[1,2]}}"#;
        assert_eq!(embedded(share).as_deref(), Some("bsp_1"));
    }

    #[test]
    fn a_share_without_a_usable_pair_id_has_none() {
        for share in [
            "not json",
            "\"a string\"",
            "[1,2]",
            r#"{"share":"0xabc"}"#,
            r#"{"backupSharePairId":null}"#,
            r#"{"backupSharePairId":""}"#,
            r#"{"backupSharePairId":7}"#,
            "{\"backupSharePairId\":\"a\\u001fb\"}",
            r#"{"backupSharePairId":"a","backupSharePairId":"b"}"#,
        ] {
            assert_eq!(embedded(share), None, "{share}");
        }
        let long = format!(r#"{{"backupSharePairId":"{}"}}"#, "p".repeat(257));
        assert_eq!(embedded(&long), None);
    }
}
