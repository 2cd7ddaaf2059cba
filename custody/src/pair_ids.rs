//! `custody pair-ids`: each current share stored before pairs without a `backupSharePairId` gets
//! the one inside its own JSON, a page of the shares table at a time, so `reconcile` can match it.
//! Opens each such share (needs kms:Decrypt); never changes a share or its slot. Safe to re-run.

use crate::Failure;
use crate::sweep::{Job, sweep};
use custodian_backup::store::dynamodb::DynamoDbStore;
use custodian_backup::store::dynamodb::pair_ids::PairIdFilled;
use serde_json::Value;

const PAIR_IDS: Job = Job {
    name: "pair-ids",
    incomplete: "pair_ids_incomplete",
    outcomes: &["filled", "alreadyKnown", "noneInShare", "changedMeanwhile"],
    not_done: "read",
    left: crate::sweep::OTHERS_DONE,
};

pub async fn fill(store: &DynamoDbStore) -> Result<Value, Failure> {
    sweep(store, &PAIR_IDS, async |item| {
        Ok(match store.fill_pair_id(item).await? {
            PairIdFilled::Filled(_) => "filled",
            PairIdFilled::AlreadyKnown => "alreadyKnown",
            PairIdFilled::NoneInShare => "noneInShare",
            PairIdFilled::ChangedMeanwhile => "changedMeanwhile",
        })
    })
    .await
}
