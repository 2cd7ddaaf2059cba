//! Opted-in pruning of history (`HISTORY_RETENTION_DAYS`): which kept version may get an expiry.
//!
//! Two rules, so that junk sent with a leaked secret, or a run of bad re-backups, cannot push
//! every good copy out: the newest [`NEWEST_VERSIONS_NEVER_PRUNED`] kept versions never expire,
//! and neither does the newest version that was current for at least [`PROVEN`] (a share Portal
//! and its user lived with, which junk arriving in a burst never is). A version current that long
//! that does get an expiry (a newer one was current that long too) is counted, and alarmed.

use super::item::{Item, number, owner_value, whole};
use super::{DynamoDbStore, schema};
use crate::aws::error_detail;
use crate::domain::Owner;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// With pruning opted into, the newest this many kept versions of a share never expire.
pub const NEWEST_VERSIONS_NEVER_PRUNED: u64 = 5;

/// How long a version must have been current to count as proven.
pub const PROVEN: Duration = Duration::from_secs(24 * 3600);

/// Counts expiries given to a version that had been current for at least [`PROVEN`].
pub const PROVEN_VERSIONS_PRUNED: &str = "ProvenVersionsPruned";

impl DynamoDbStore {
    /// With pruning opted into, gives an expiry to the version that `newest` (just archived)
    /// pushed out of the newest [`NEWEST_VERSIONS_NEVER_PRUNED`], unless it is the newest proven
    /// one. Best effort: the share is already stored, and a version that misses its expiry is
    /// simply kept.
    pub(super) async fn prune_below(&self, owner: Owner<'_>, newest: u64) {
        let Some(keep) = self.tables.history_retention.duration() else {
            return;
        };
        let Some(version) = newest.checked_sub(NEWEST_VERSIONS_NEVER_PRUNED) else {
            return;
        };
        let kept = match self.kept_from(owner, version).await {
            Ok(kept) => kept,
            Err(detail) => {
                tracing::warn!(cause = %detail, version, "could not read history to prune; the version is kept");
                return;
            }
        };
        // Oldest first: the candidate, then the (at most five) newer kept versions.
        let Some(((first, was_proven), newer)) = kept.split_first() else {
            return;
        };
        if *first != version {
            return;
        }
        if *was_proven && !newer.iter().any(|(_, proven)| *proven) {
            return;
        }
        let expires = (SystemTime::now() + keep)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.history)
            .key(schema::OWNER, owner_value(owner))
            .key(schema::VERSION, whole(version))
            .update_expression("SET #expiresAt = :expiresAt")
            .condition_expression("attribute_exists(#owner) AND attribute_not_exists(#expiresAt)")
            .expression_attribute_names("#owner", schema::OWNER)
            .expression_attribute_names("#expiresAt", schema::EXPIRES_AT)
            .expression_attribute_values(":expiresAt", AttributeValue::N(expires.to_string()))
            .send()
            .await;
        match result {
            Ok(_) if *was_proven => {
                metrics::counter!(PROVEN_VERSIONS_PRUNED).increment(1);
                tracing::warn!(
                    version,
                    "a version current for over a day was given an expiry: a newer one was too"
                );
            }
            Ok(_) => {}
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) => {}
            Err(error) => {
                tracing::warn!(cause = %error_detail(&error), version, "could not set a history expiry; the version is kept");
            }
        }
    }

    /// The kept versions from `version` up, oldest first, each with whether it was current for
    /// at least [`PROVEN`]. At most six: `version` is the newest archived less five.
    async fn kept_from(&self, owner: Owner<'_>, version: u64) -> Result<Vec<(u64, bool)>, String> {
        let page = self
            .client
            .query()
            .table_name(&self.tables.history)
            .key_condition_expression("#owner = :owner AND #version >= :version")
            .expression_attribute_names("#owner", schema::OWNER)
            .expression_attribute_names("#version", schema::VERSION)
            .expression_attribute_names("#storedAt", schema::STORED_AT)
            .expression_attribute_names("#replacedAt", schema::REPLACED_AT)
            .expression_attribute_names("#setAside", schema::SET_ASIDE_UNREADABLE)
            .expression_attribute_values(":owner", owner_value(owner))
            .expression_attribute_values(":version", whole(version))
            .projection_expression("#version, #storedAt, #replacedAt, #setAside")
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| error_detail(&error))?;
        Ok(page
            .items()
            .iter()
            .filter_map(|item| {
                let kept = number(item, schema::VERSION).ok()?;
                // A row set aside unreadable was never a share anyone lived with.
                let set_aside = item.contains_key(schema::SET_ASIDE_UNREADABLE);
                Some((kept, !set_aside && was_current_for(item) >= PROVEN))
            })
            .collect())
    }
}

/// How long a kept version was current: from when it was stored to when it was replaced.
fn was_current_for(item: &Item) -> Duration {
    let time = |name| {
        item.get(name)
            .and_then(|value| value.as_s().ok())
            .and_then(|text| humantime::parse_rfc3339_weak(text).ok())
    };
    match (time(schema::STORED_AT), time(schema::REPLACED_AT)) {
        (Some(stored), Some(replaced)) => replaced.duration_since(stored).unwrap_or_default(),
        _ => Duration::ZERO,
    }
}
