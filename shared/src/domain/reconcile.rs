//! `reconcile`: what Portal's Custodian API says of each wallet's backup share pairs, checked
//! against the custodian shares held here. Pure: the walk over Portal's pages and the store's
//! reads are elsewhere ([`crate::portal_api`], the `custody` CLI, the reconcile function).
//!
//! A pair Portal calls `completed` whose custodian share is not held here is **unrecoverable**
//! (the user must back up again before losing a device). A share held for a pair Portal does not
//! list is an **orphan** (reported, never touched). A share may be **retired** (moved to history)
//! only when a newer completed pair of the same wallet and backup method is held here too.

use super::custody::ShareRecord;
use serde::{Deserialize, Serialize};

/// One page of `GET /api/v3/custodians/me/clients` (only the fields reconcile reads).
#[derive(Debug, Deserialize)]
pub struct ClientsPage {
    pub results: Vec<PortalClient>,
    pub metadata: PageMetadata,
}

#[derive(Debug, Deserialize)]
pub struct PageMetadata {
    /// The next page's `cursor`; absent or null on the last page.
    pub cursor: Option<String>,
}

/// A client (a user) as Portal's Custodian API reports it.
#[derive(Debug, Deserialize)]
pub struct PortalClient {
    /// Portal's clientId.
    pub id: String,
    #[serde(default)]
    pub wallets: Vec<PortalWallet>,
}

#[derive(Debug, Deserialize)]
pub struct PortalWallet {
    /// `SECP256K1` or `ED25519`: the suffix the SDK adds to a backupMethod.
    pub curve: String,
    #[serde(rename = "backupSharePairs", default)]
    pub backup_share_pairs: Vec<PortalPair>,
}

/// One backup share pair: its `backupMethod` has no curve suffix (`PASSWORD`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PortalPair {
    pub id: String,
    pub backup_method: String,
    pub created_at: String,
    pub status: String,
}

impl PortalPair {
    /// Only `completed` counts: anything else (`incomplete`, or a status Portal adds later) is
    /// never taken as a pair the user can recover with.
    pub fn is_completed(&self) -> bool {
        self.status == "completed"
    }
}

/// A pair Portal lists, with the wallet's curve: what an operator's report names.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ListedPair {
    pub client_id: String,
    pub curve: String,
    #[serde(flatten)]
    pub pair: PortalPair,
}

/// A share held here that reconcile names (an orphan, or one to retire).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HeldShare {
    pub client_id: String,
    pub backup_method: String,
    pub backup_share_pair_id: String,
    pub version: u64,
}

/// What reconcile found for one client.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ClientFindings {
    pub pairs: usize,
    pub unrecoverable: Vec<ListedPair>,
    pub orphans: Vec<HeldShare>,
    /// Shares held whose pair id is not known (stored before pairs without one in the body):
    /// `custody pair-ids` reads it from the share.
    pub without_pair_id: usize,
    /// Shares a newer completed (and held) pair of the same wallet and method supersedes.
    pub retirable: Vec<HeldShare>,
}

/// Checks one client's pairs, as Portal lists them, against the records of the shares held here.
pub fn reconcile_client(client: &PortalClient, held: &[ShareRecord]) -> ClientFindings {
    let held_pair = |id: &str| {
        held.iter()
            .any(|record| record.backup_share_pair_id.as_deref() == Some(id))
    };
    let mut findings = ClientFindings::default();
    let listed = || {
        client.wallets.iter().flat_map(|wallet| {
            wallet
                .backup_share_pairs
                .iter()
                .map(move |pair| (wallet, pair))
        })
    };
    for (wallet, pair) in listed() {
        findings.pairs += 1;
        if pair.is_completed() && !held_pair(&pair.id) {
            findings.unrecoverable.push(ListedPair {
                client_id: client.id.clone(),
                curve: wallet.curve.clone(),
                pair: pair.clone(),
            });
        }
    }
    for record in held {
        let Some(pair_id) = record.backup_share_pair_id.as_deref() else {
            findings.without_pair_id += 1;
            continue;
        };
        let held_share = || HeldShare {
            client_id: client.id.clone(),
            backup_method: record.backup_method.clone(),
            backup_share_pair_id: pair_id.to_owned(),
            version: record.version,
        };
        let Some((wallet, pair)) = listed().find(|(_, pair)| pair.id == pair_id) else {
            findings.orphans.push(held_share());
            continue;
        };
        // Never a pair-less slot's share: it may be the only copy of a pair stored before pairs.
        let superseded = record.in_pair_slot
            && wallet.backup_share_pairs.iter().any(|newer| {
                newer.id != pair.id
                    && newer.backup_method == pair.backup_method
                    && newer.is_completed()
                    && newer.created_at > pair.created_at
                    && held_pair(&newer.id)
            });
        if superseded {
            findings.retirable.push(held_share());
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(id: &str, method: &str, at: &str, status: &str) -> PortalPair {
        PortalPair {
            id: id.into(),
            backup_method: method.into(),
            created_at: at.into(),
            status: status.into(),
        }
    }

    fn held(method: &str, pair: Option<&str>, in_pair_slot: bool) -> ShareRecord {
        ShareRecord::current(method, pair, in_pair_slot, None)
    }

    fn client(pairs: Vec<PortalPair>) -> PortalClient {
        PortalClient {
            id: "cli".into(),
            wallets: vec![PortalWallet {
                curve: "SECP256K1".into(),
                backup_share_pairs: pairs,
            }],
        }
    }

    #[test]
    fn a_completed_pair_without_its_share_here_is_unrecoverable_and_an_incomplete_one_is_not() {
        let portal = client(vec![
            pair("a", "PASSWORD", "2026-01-01T00:00:00Z", "completed"),
            pair("b", "PASSWORD", "2026-02-01T00:00:00Z", "incomplete"),
            pair("c", "GDRIVE", "2026-03-01T00:00:00Z", "completed"),
        ]);
        let findings = reconcile_client(&portal, &[held("GDRIVE-SECP256K1", Some("c"), true)]);
        let unrecoverable: Vec<&str> = findings
            .unrecoverable
            .iter()
            .map(|p| p.pair.id.as_str())
            .collect();
        assert_eq!(unrecoverable, ["a"]);
        assert_eq!(findings.pairs, 3);
        assert!(findings.orphans.is_empty() && findings.retirable.is_empty());
    }

    #[test]
    fn a_share_portal_does_not_list_is_an_orphan_and_one_without_a_pair_id_is_counted() {
        let portal = client(vec![pair(
            "a",
            "PASSWORD",
            "2026-01-01T00:00:00Z",
            "completed",
        )]);
        let findings = reconcile_client(
            &portal,
            &[
                held("PASSWORD-SECP256K1", Some("a"), true),
                held("PASSWORD-SECP256K1", Some("zz"), true),
                held("UNKNOWN", None, false),
            ],
        );
        assert!(findings.unrecoverable.is_empty());
        assert_eq!(findings.orphans.len(), 1);
        assert_eq!(findings.orphans[0].backup_share_pair_id, "zz");
        assert_eq!(findings.without_pair_id, 1);
    }

    #[test]
    fn only_a_share_superseded_by_a_newer_completed_held_pair_of_its_method_is_retirable() {
        let portal = client(vec![
            pair("old", "PASSWORD", "2026-01-01T00:00:00Z", "completed"),
            pair("new", "PASSWORD", "2026-02-01T00:00:00Z", "completed"),
            pair("newest", "PASSWORD", "2026-03-01T00:00:00Z", "incomplete"),
            pair("gdrive", "GDRIVE", "2026-04-01T00:00:00Z", "completed"),
            pair("legacy", "PASSWORD", "2025-01-01T00:00:00Z", "completed"),
        ]);
        let findings = reconcile_client(
            &portal,
            &[
                held("PASSWORD-SECP256K1", Some("old"), true),
                held("PASSWORD-SECP256K1", Some("new"), true),
                held("PASSWORD-SECP256K1", Some("newest"), true),
                held("GDRIVE-SECP256K1", Some("gdrive"), true),
                // A pair-less slot's share is never retired, superseded or not.
                held("PASSWORD-SECP256K1", Some("legacy"), false),
            ],
        );
        let retirable: Vec<&str> = findings
            .retirable
            .iter()
            .map(|s| s.backup_share_pair_id.as_str())
            .collect();
        assert_eq!(
            retirable,
            ["old"],
            "never the newest completed, an incomplete's word, another method's or a pair-less slot's"
        );
        // Without the newer completed pair's share held here, nothing is retired.
        let findings = reconcile_client(&portal, &[held("PASSWORD-SECP256K1", Some("old"), true)]);
        assert!(findings.retirable.is_empty());
        assert_eq!(findings.unrecoverable.len(), 3);
    }

    #[test]
    fn portals_documented_page_parses() {
        let page: ClientsPage = serde_json::from_str(
            r#"{"results":[{"createdAt":"2024-04-16T21:15:06.443Z","id":"clientId","ejectedAt":null,
            "wallets":[{"createdAt":"2024-04-16T21:15:45.144Z","curve":"SECP256K1","id":"wallet1Id",
            "backupSharePairs":[{"backupMethod":"PASSWORD","createdAt":"2024-04-16T21:16:48.723Z","id":"backupSharePairId1","status":"completed"}],
            "signingSharePairs":[],"publicKey":"stringifiedJSON"}]}],
            "metadata":{"cursor":"nextCursorToUse","take":100,"total":1000}}"#,
        )
        .unwrap();
        assert_eq!(page.metadata.cursor.as_deref(), Some("nextCursorToUse"));
        assert!(page.results[0].wallets[0].backup_share_pairs[0].is_completed());
    }
}
