//! `custody client-owners`: every client share stored under a bare owner (before 0.4.0) moves to
//! the owner that names its variant and, for the app, the token issuer and claim, so the app
//! finds it after the upgrade. Opens each such share (needs the client key's kms:Decrypt). Safe
//! to re-run: a bound share is left as it is.

use crate::Failure;
use crate::sweep::{Job, sweep};
use custodian_backup::domain::client_owner::{LegacyOwners, OwnerBound};
use custodian_backup::domain::custody::Actor;
use custodian_backup::store::dynamodb::DynamoDbStore;
use serde_json::Value;

const CLIENT_OWNERS: Job = Job {
    name: "client-owners",
    incomplete: "client_owners_incomplete",
    outcomes: &["bound", "alreadyBound", "newerThere", "changedMeanwhile"],
    not_done: "moved",
    left: crate::sweep::OTHERS_DONE,
};

pub async fn bind(
    store: &DynamoDbStore,
    legacy: &LegacyOwners,
    actor: &Actor,
) -> Result<Value, Failure> {
    sweep(store, &CLIENT_OWNERS, async |item| {
        Ok(match store.bind_owner(item, legacy, actor).await? {
            OwnerBound::Bound => "bound",
            OwnerBound::AlreadyBound => "alreadyBound",
            OwnerBound::NewerThere => "newerThere",
            OwnerBound::ChangedMeanwhile => "changedMeanwhile",
        })
    })
    .await
}
