//! `custody audit`: a share's audit trail read back and checked (see `audit.rs` for how it is
//! written).

use super::audit_item::{audit_canonical, audit_record};
use super::calls::Order;
use super::item::{Item, number, owner_value, string, text};
use super::{DynamoDbStore, schema};
use crate::domain::Owner;
use crate::domain::custody::{AuditRecord, CustodyError};
use sha2::{Digest, Sha256};

impl DynamoDbStore {
    /// Every record of a share, newest first, once the trail holds (see the module's comment):
    /// the earlier records each name an earlier one's digest (two writers at once may both name
    /// the same), the first names ""; the sequenced ones are numbered 1, 2, 3, … with no gap,
    /// each names the one before it, each MAC verifies under the audit key, and the head names
    /// the newest. A record rewritten, removed from the middle or made up breaks it.
    pub(super) async fn verified_audit_trail(
        &self,
        owner: Owner<'_>,
    ) -> Result<Vec<AuditRecord>, CustodyError> {
        self.verified_trail(owner_value(owner)).await
    }

    /// Every `custody import` run's record, newest first, checked as a share's trail is.
    pub async fn import_runs(&self) -> Result<Vec<AuditRecord>, CustodyError> {
        self.verified_trail(text(super::audit::IMPORT_RUNS)).await
    }

    async fn verified_trail(
        &self,
        partition: aws_sdk_dynamodb::types::AttributeValue,
    ) -> Result<Vec<AuditRecord>, CustodyError> {
        let partition = (schema::OWNER, partition);
        let mut items = self
            .query_all(&self.tables.audit, partition, Order::OldestFirst, &[])
            .await?;
        let head = match items.first() {
            Some(first) if number(first, schema::RECORDED_AT)? == schema::HEAD_RECORDED_AT => {
                Some(items.remove(0))
            }
            _ => None,
        };
        let (mut sequenced, earlier): (Vec<Item>, Vec<Item>) = items
            .into_iter()
            .partition(|item| item.contains_key(schema::SEQUENCE));
        sequenced.sort_by_key(|item| number(item, schema::SEQUENCE).unwrap_or(0));
        let broken = |record: &AuditRecord| CustodyError::AuditChainBroken {
            recorded_at: record.recorded_at.clone(),
        };
        let mut digests: Vec<String> = Vec::new();
        let mut records = Vec::new();
        for item in &earlier {
            let record = audit_record(item)?;
            let follows = match record.previous_digest.as_deref() {
                Some("") => digests.is_empty(),
                Some(previous) => digests.iter().any(|digest| digest == previous),
                None => false,
            };
            if !follows {
                return Err(broken(&record));
            }
            digests.push(record.digest.clone());
            records.push(record);
        }
        // The first signed record names the newest earlier one: from there every earlier record
        // must be on its chain, so none can be added among them, or rewritten, afterwards.
        let mut previous = digests.last().cloned().unwrap_or_default();
        if let Some(first) = sequenced.first() {
            let anchor = string(first, schema::PREVIOUS_DIGEST).unwrap_or_default();
            let mut on_chain = Vec::new();
            let mut at = anchor.to_owned();
            while !at.is_empty() && on_chain.len() <= records.len() {
                let Some(index) = records.iter().position(|record| record.digest == at) else {
                    break;
                };
                on_chain.push(index);
                at = records[index].previous_digest.clone().unwrap_or_default();
            }
            if let Some(off) = (0..records.len()).find(|index| !on_chain.contains(index)) {
                return Err(broken(&records[off]));
            }
            // A named record gone (or a loop): the chain never reached the first record.
            if !at.is_empty() {
                return Err(broken(&audit_record(first)?));
            }
            previous = anchor.to_owned();
        }
        for (expected, item) in (1..).zip(&sequenced) {
            let record = audit_record(item)?;
            let message = Sha256::digest(audit_canonical(item));
            if record.sequence != Some(expected)
                || record.previous_digest.as_deref() != Some(previous.as_str())
                || !self.audit_key()?.verify(&message, &record.digest).await?
            {
                return Err(broken(&record));
            }
            previous = record.digest.clone();
            records.push(record);
        }
        // The head names the newest record: one removed from the end, or a head put back, shows.
        let head_says = head.as_ref().map(|head| {
            (
                number(head, schema::SEQUENCE).ok(),
                string(head, schema::DIGEST).ok().map(str::to_owned),
            )
        });
        let newest = records.last().filter(|record| record.sequence.is_some());
        let agrees = match (head_says, newest) {
            (None, None) => true,
            (Some((sequence, digest)), Some(newest)) => {
                sequence == newest.sequence && digest.as_deref() == Some(newest.digest.as_str())
            }
            _ => false,
        };
        if !agrees {
            return Err(CustodyError::AuditChainBroken {
                recorded_at: newest
                    .map_or_else(|| "head".into(), |record| record.recorded_at.clone()),
            });
        }
        records.reverse();
        Ok(records)
    }
}
