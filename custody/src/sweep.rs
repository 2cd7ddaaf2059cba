//! A job over every current share, a page of the shares table at a time (`reseal`, `pair-ids`):
//! each share's outcome counted by name, a share that fails named with its error code while the
//! others go on. Running the job again does only what is left.

use crate::portable::{key_of, store_failure};
use crate::{Exit, Failure, failure};
use custodian_backup::domain::custody::CustodyError;
use custodian_backup::store::dynamodb::portable::TableRole;
use custodian_backup::store::dynamodb::{DynamoDbStore, Item};
use serde_json::{Map, Value, json};

/// A job's name (in progress lines), the code of its failure, the outcomes it reports (each
/// counted, zero included) and what a failed share was not (`sealed again`).
pub struct Job {
    pub name: &'static str,
    pub incomplete: &'static str,
    pub outcomes: &'static [&'static str],
    pub not_done: &'static str,
    /// What a failed run leaves, for its message.
    pub left: &'static str,
}

/// What a job that changes each share in place leaves when some fail.
pub const OTHERS_DONE: &str = "the others were, and a second run does only what is left";

/// Runs `each` on every current share; the report `{<outcome>: count, ..., "failed": [keys]}`.
pub async fn sweep(
    store: &DynamoDbStore,
    job: &Job,
    mut each: impl AsyncFnMut(&Item) -> Result<&'static str, CustodyError>,
) -> Result<Value, Failure> {
    let mut tally: Map<String, Value> = job
        .outcomes
        .iter()
        .map(|o| (o.to_string(), json!(0)))
        .collect();
    let (mut failed, mut first_failure, mut seen) = (Vec::new(), None, 0usize);
    let mut start = None;
    loop {
        let (items, next) = store
            .dump_page(TableRole::Shares, start)
            .await
            .map_err(store_failure)?;
        for item in &items {
            match each(item).await {
                Ok(outcome) => {
                    let count = tally.entry(outcome).or_insert(json!(0));
                    *count = json!(count.as_u64().unwrap_or_default() + 1);
                }
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
            "{}: {seen} current shares looked at: {}",
            job.name,
            Value::Object(tally.clone())
        );
        start = next;
        if start.is_none() {
            break;
        }
    }
    let failures = failed.len();
    let mut report = tally;
    report.insert("failed".into(), failed.into());
    let report = Value::Object(report);
    match first_failure {
        Some(first) => Err(Failure {
            exit: match first.exit {
                Exit::Integrity => Exit::Integrity,
                _ => Exit::Unavailable,
            },
            code: job.incomplete,
            message: format!(
                "{failures} shares could not be {} (named in failed, with the first cause: {}); {}: {report}",
                job.not_done, first.message, job.left
            ),
        }),
        None => Ok(report),
    }
}
