//! Where a share lives in its client's partition of the shares table: its *slot*, the sort key
//! `backupMethod` alone (the pair-less slot every share stored before pairs has) or
//! `backupMethod␟backupSharePairId` (see [`schema::BACKUP_METHOD`]). The history and audit tables
//! name the same owner as a JSON array.

use super::schema;
use crate::domain::{BackupMethod, BackupSharePairId, ClientId, Owner, StoreError};

/// A share's slot: its backupMethod, and its pair id unless it is the pair-less slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub backup_method: BackupMethod,
    pub backup_share_pair_id: Option<BackupSharePairId>,
}

impl Slot {
    /// The slot a stored sort key names; `Corrupt` for one no write can make.
    pub fn parse(key: &str) -> Result<Self, StoreError> {
        let (method, pair) = match key.split_once(schema::PAIR_SEPARATOR) {
            Some((method, pair)) => (method, Some(pair)),
            None => (key, None),
        };
        if method.is_empty() || pair.is_some_and(str::is_empty) {
            return Err(StoreError::Corrupt(schema::BACKUP_METHOD));
        }
        Ok(Self {
            backup_method: BackupMethod::stored(method.to_owned()),
            backup_share_pair_id: pair.map(|pair| BackupSharePairId::stored(pair.to_owned())),
        })
    }

    /// The owner of the share in this slot of `client_id`'s partition.
    pub fn owner<'a>(&'a self, client_id: &'a ClientId) -> Owner<'a> {
        Owner::new(
            client_id,
            &self.backup_method,
            self.backup_share_pair_id.as_ref(),
        )
    }
}

/// The shares table's sort key of `owner`'s slot.
pub fn slot_key(owner: Owner<'_>) -> String {
    let method = owner.backup_method.as_str();
    match owner.backup_share_pair_id {
        Some(pair) => format!("{method}{}{pair}", schema::PAIR_SEPARATOR),
        None => method.to_owned(),
    }
}

/// The history and audit tables' partition key: the JSON array `[clientId, backupMethod]`, with
/// the pair id as a third element for a pair's share.
pub fn owner_json(owner: Owner<'_>) -> String {
    let mut fields = vec![owner.client_id.as_str(), owner.backup_method.as_str()];
    fields.extend(owner.backup_share_pair_id.map(BackupSharePairId::as_str));
    serde_json::Value::from(fields).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(method: &str, pair: Option<&str>) -> (String, String) {
        let client = ClientId::parse("c").unwrap();
        let method = BackupMethod::parse(method).unwrap();
        let pair = pair.map(|pair| BackupSharePairId::parse(pair).unwrap());
        let owner = Owner::new(&client, &method, pair.as_ref());
        (slot_key(owner), owner_json(owner))
    }

    #[test]
    fn no_two_owners_share_a_slot_whatever_their_separators() {
        let owners = [
            ("A#B", None),
            ("A", Some("B")),
            ("A#", Some("B")),
            ("A", Some("#B")),
            ("A/B", None),
            ("A", Some("B/C")),
            ("A␟B", None),
            ("A", Some("␟B")),
            ("A\",\"B", None),
            ("A", Some("B\",\"C")),
        ];
        let keys: Vec<_> = owners.iter().map(|(m, p)| key(m, *p)).collect();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a.0, b.0);
                assert_ne!(a.1, b.1);
            }
        }
    }

    #[test]
    fn a_slot_reads_back_as_the_owner_that_wrote_it() {
        for (method, pair) in [("GDRIVE-SECP256K1", None), ("A#B", Some("bsp_1#x"))] {
            let slot = Slot::parse(&key(method, pair).0).unwrap();
            assert_eq!(slot.backup_method.as_str(), method);
            assert_eq!(slot.backup_share_pair_id.as_ref().map(|p| p.as_str()), pair);
        }
        assert_eq!(
            key("PASSWORD", None).0,
            "PASSWORD",
            "the pair-less slot is as before"
        );
        assert_eq!(key("PASSWORD", None).1, r#"["c","PASSWORD"]"#);
        for corrupt in ["", "\u{1f}b", "a\u{1f}"] {
            assert!(Slot::parse(corrupt).is_err(), "{corrupt:?}");
        }
    }
}
