//! `custody pair-ids`: each current share stored before pairs without a `backupSharePairId` gets
//! the one inside its own JSON, a page of the shares table at a time, so `reconcile` can match it.
//! Opens each such share (needs kms:Decrypt); never changes a share or its slot. Safe to re-run.

use crate::portable::{key_of, store_failure};
use crate::{Exit, Failure, failure};
use custodian_backup::store::dynamodb::DynamoDbStore;
use custodian_backup::store::dynamodb::pair_ids::PairIdFilled;
use custodian_backup::store::dynamodb::portable::TableRole;
use serde_json::{Value, json};

pub async fn fill(store: &DynamoDbStore) -> Result<Value, Failure> {
    let (mut filled, mut known, mut none, mut changed) = (0u64, 0u64, 0u64, 0u64);
    let mut failed = Vec::new();
    let mut start = None;
    loop {
        let (items, next) = store
            .dump_page(TableRole::Shares, start)
            .await
            .map_err(store_failure)?;
        for item in &items {
            match store.fill_pair_id(item).await {
                Ok(PairIdFilled::Filled(_)) => filled += 1,
                Ok(PairIdFilled::AlreadyKnown) => known += 1,
                Ok(PairIdFilled::NoneInShare) => none += 1,
                Ok(PairIdFilled::ChangedMeanwhile) => changed += 1,
                Err(error) => {
                    let mut key = key_of(TableRole::Shares, item);
                    key["code"] = json!(error.code());
                    failed.push((key, failure(error)));
                }
            }
        }
        eprintln!("pair-ids: {filled} filled in, {known} already known, {none} without one");
        start = next;
        if start.is_none() {
            break;
        }
    }
    let report = json!({
        "filled": filled, "alreadyKnown": known, "noneInShare": none, "changedMeanwhile": changed,
        "failed": failed.iter().map(|(key, _)| key.clone()).collect::<Vec<_>>(),
    });
    match failed.into_iter().next() {
        Some((_, first)) => Err(Failure {
            exit: match first.exit {
                Exit::Integrity => Exit::Integrity,
                _ => Exit::Unavailable,
            },
            code: "pair_ids_incomplete",
            message: format!(
                "some shares could not be read (named in failed; the first: {}); a second run does what is left: {report}",
                first.message
            ),
        }),
        None => Ok(report),
    }
}
