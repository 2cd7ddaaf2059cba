//! `custody reseal`: every current share the operator selects, sealed again under today's keys,
//! a page of the shares table at a time. One share that fails (a KMS error, a damaged item) is
//! named and the rest go on; running it again finishes the job and changes nothing done.

use crate::Failure;
use crate::sweep::{Job, sweep};
use custodian_backup::domain::custody::{Actor, Reseal, Resealed};
use custodian_backup::store::dynamodb::DynamoDbStore;
use serde_json::Value;

const RESEAL: Job = Job {
    name: "reseal",
    incomplete: "reseal_incomplete",
    outcomes: &[
        "resealed",
        "alreadySealed",
        "changedMeanwhile",
        "notSelected",
    ],
    not_done: "sealed again",
    left: crate::sweep::OTHERS_DONE,
};

pub async fn reseal(
    store: &DynamoDbStore,
    which: &Reseal,
    actor: &Actor,
) -> Result<Value, Failure> {
    sweep(store, &RESEAL, async |item| {
        store.reseal(item, which, actor).await.map(name)
    })
    .await
}

fn name(resealed: Resealed) -> &'static str {
    match resealed {
        Resealed::Resealed { .. } => "resealed",
        Resealed::AlreadySealed => "alreadySealed",
        Resealed::ChangedMeanwhile => "changedMeanwhile",
        Resealed::NotSelected => "notSelected",
    }
}
