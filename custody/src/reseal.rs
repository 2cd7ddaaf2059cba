//! `custody reseal`: every current share the operator selects, sealed again under today's keys,
//! a page of the shares table at a time. One share that fails (a KMS error, a damaged item) is
//! named and the rest go on; running it again finishes the job and changes nothing done.

use crate::portable::{key_of, store_failure};
use crate::{Exit, Failure, failure};
use custodian_backup::domain::custody::{Actor, Reseal, Resealed};
use custodian_backup::store::dynamodb::DynamoDbStore;
use custodian_backup::store::dynamodb::portable::TableRole;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub async fn reseal(
    store: &DynamoDbStore,
    which: &Reseal,
    actor: &Actor,
) -> Result<Value, Failure> {
    let mut tally = BTreeMap::from([
        ("resealed", 0),
        ("alreadySealed", 0),
        ("changedMeanwhile", 0),
        ("notSelected", 0),
    ]);
    let (mut failed, mut first_failure) = (Vec::new(), None);
    let (mut start, mut seen) = (None, 0usize);
    loop {
        let (items, next) = store
            .dump_page(TableRole::Shares, start)
            .await
            .map_err(store_failure)?;
        for item in &items {
            match store.reseal(item, which, actor).await {
                Ok(resealed) => *tally.entry(name(resealed)).or_default() += 1,
                Err(error) => {
                    let mut key = key_of(TableRole::Shares, item);
                    key["code"] = json!(error.code());
                    failed.push(key);
                    first_failure.get_or_insert(failure(error));
                }
            }
        }
        seen += items.len();
        eprintln!(
            "reseal: {seen} current shares looked at, {} resealed so far",
            tally["resealed"]
        );
        start = next;
        if start.is_none() {
            break;
        }
    }
    let report = json!({
        "resealed": tally["resealed"],
        "alreadySealed": tally["alreadySealed"],
        "changedMeanwhile": tally["changedMeanwhile"],
        "notSelected": tally["notSelected"],
        "failed": failed,
    });
    match first_failure {
        Some(first) => Err(Failure {
            exit: match first.exit {
                Exit::Integrity => Exit::Integrity,
                _ => Exit::Unavailable,
            },
            code: "reseal_incomplete",
            message: format!(
                "{} shares could not be sealed again (named in failed, with the first cause: {}); the others were, and a second run does only what is left: {report}",
                failed.len(),
                first.message
            ),
        }),
        None => Ok(report),
    }
}

fn name(resealed: Resealed) -> &'static str {
    match resealed {
        Resealed::Resealed { .. } => "resealed",
        Resealed::AlreadySealed => "alreadySealed",
        Resealed::ChangedMeanwhile => "changedMeanwhile",
        Resealed::NotSelected => "notSelected",
    }
}
