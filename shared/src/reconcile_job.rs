//! The scheduled reconcile (the `reconcile` function, on when `PortalApiKeySecretArn` is set):
//! every hour EventBridge invokes it, and it walks Portal's clients a page at a time from where
//! the last invocation stopped, until its time is nearly up. The next walk starts 23 hours after
//! the last began (so the hourly schedule never skips a day): a daily check of any number of
//! clients, in 15-minute pieces. Every invocation publishes the last finished walk's
//! `UnrecoverablePairs` and `OrphanShares`, so their alarm stays on until a walk finds none; a
//! walk's `RetiredShares` once, when it finishes.
//!
//! Its role reads the Portal API key and queries the shares table, and has no KMS grant: it cannot
//! open a share. It retires only when `RECONCILE_RETIRE` is `true` (the template's
//! `ReconcileRetires`).

use crate::config::ConfigError;
use crate::domain::custody::{Actor, Via};
use crate::http::metrics::name;
use crate::portal_api::PortalApi;
use crate::reconcile::{Finding, Totals, Walk, WalkError};
use crate::store::dynamodb::DynamoDbStore;
use aws_sdk_dynamodb::types::AttributeValue;
use metrics::counter;
use secrecy::SecretString;
use std::time::{Duration, SystemTime};

/// A walk starts at most this often.
const WALK_EVERY: Duration = Duration::from_secs(23 * 60 * 60);
/// Time an invocation keeps for the page in flight and saving its place.
const STOP_BEFORE_DEADLINE: Duration = Duration::from_secs(90);
const STATE_ID: &str = "walk";

pub struct ReconcileJob {
    pub store: DynamoDbStore,
    pub portal: PortalApi,
    dynamodb: aws_sdk_dynamodb::Client,
    state_table: String,
    /// Who retires, when retiring is on.
    retire_as: Option<Actor>,
}

/// Where the walk is, kept in the state table between invocations.
#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct State {
    cursor: Option<String>,
    totals: Totals,
    /// When the walk in progress (or the last one) began, RFC 3339.
    started_at: Option<String>,
    /// Set when the walk reached Portal's last page.
    finished: bool,
    /// The last finished walk's totals: published by every invocation, so its alarm stays in
    /// alarm until a walk finds nothing.
    last: Option<Totals>,
}

/// What one invocation did.
#[derive(Debug, PartialEq, Eq)]
pub enum Ran {
    /// The last walk began less than a day ago.
    NotDue,
    /// Pages checked; the walk goes on at the next invocation.
    Paused {
        clients: u64,
    },
    Finished(Totals),
}

impl ReconcileJob {
    /// `PORTAL_API_KEY_SECRET_ARN`, `PORTAL_API_URL` (default Portal's), `RECONCILE_STATE_TABLE`,
    /// `RECONCILE_RETIRE` and the role's ARN (`RECONCILE_ROLE_ARN`, the audit records' actor).
    pub async fn from_env(
        store: DynamoDbStore,
        aws: &aws_config::SdkConfig,
    ) -> Result<Self, ConfigError> {
        let var = |name| std::env::var(name).ok().filter(|value| !value.is_empty());
        let required = |name: &'static str| var(name).ok_or(ConfigError::Missing(name));
        let secret_arn = required("PORTAL_API_KEY_SECRET_ARN")?;
        let key = aws_sdk_secretsmanager::Client::new(aws)
            .get_secret_value()
            .secret_id(&secret_arn)
            .send()
            .await
            .ok()
            .and_then(|read| read.secret_string)
            .filter(|key| !key.is_empty())
            .ok_or(ConfigError::Invalid {
                name: "PORTAL_API_KEY_SECRET_ARN",
                reason: "the secret could not be read, or holds no string",
            })?;
        let url = var("PORTAL_API_URL").unwrap_or_else(|| "https://api.portalhq.io".to_owned());
        let retire_as = match var("RECONCILE_RETIRE").as_deref() {
            None | Some("false") => None,
            Some("true") => Some(Actor {
                arn: required("RECONCILE_ROLE_ARN")?,
                via: Via::Reconcile,
                reason: Some("a newer completed backup share pair supersedes it".to_owned()),
            }),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "RECONCILE_RETIRE",
                    reason: "neither `true` nor `false`",
                });
            }
        };
        Ok(Self {
            store,
            portal: PortalApi::new(&url, SecretString::from(key)),
            dynamodb: aws_sdk_dynamodb::Client::new(aws),
            state_table: required("RECONCILE_STATE_TABLE")?,
            retire_as,
        })
    }

    /// One invocation: checks pages until `deadline` is near, then saves its place.
    pub async fn run(&self, deadline: SystemTime) -> Result<Ran, WalkError> {
        let mut state = self.load().await?;
        let ran = self.walk(&mut state, deadline).await;
        if let Some(last) = &state.last {
            counter!(name::UNRECOVERABLE_PAIRS).increment(last.unrecoverable);
            counter!(name::ORPHAN_SHARES).increment(last.orphans);
        }
        ran
    }

    async fn walk(&self, state: &mut State, deadline: SystemTime) -> Result<Ran, WalkError> {
        let now = SystemTime::now();
        if state.finished || state.cursor.is_none() && state.started_at.is_none() {
            let began = state
                .started_at
                .as_deref()
                .and_then(|at| humantime::parse_rfc3339(at).ok());
            if state.finished && began.is_some_and(|began| now < began + WALK_EVERY) {
                return Ok(Ran::NotDue);
            }
            *state = State {
                started_at: Some(humantime::format_rfc3339_seconds(now).to_string()),
                last: state.last.take(),
                ..State::default()
            };
        }
        let walk = Walk {
            store: &self.store,
            portal: &self.portal,
            take: crate::portal_api::MAX_TAKE,
            retire_as: self.retire_as.as_ref(),
        };
        loop {
            let next = walk
                .page(state.cursor.as_deref(), &mut state.totals, &mut log_finding)
                .await?;
            state.cursor = next;
            if state.cursor.is_none() {
                state.finished = true;
                state.last = Some(state.totals.clone());
                self.save(state).await?;
                let totals = state.totals.clone();
                counter!(name::RETIRED_SHARES).increment(totals.retired);
                tracing::info!(
                    clients = totals.clients,
                    pairs = totals.pairs,
                    unrecoverable = totals.unrecoverable,
                    orphans = totals.orphans,
                    without_pair_id = totals.without_pair_id,
                    retired = totals.retired,
                    "reconcile walk finished"
                );
                return Ok(Ran::Finished(totals));
            }
            self.save(state).await?;
            let left = deadline
                .duration_since(SystemTime::now())
                .unwrap_or_default();
            if left < STOP_BEFORE_DEADLINE {
                return Ok(Ran::Paused {
                    clients: state.totals.clients,
                });
            }
        }
    }

    async fn load(&self) -> Result<State, WalkError> {
        let read = self
            .dynamodb
            .get_item()
            .table_name(&self.state_table)
            .key("id", AttributeValue::S(STATE_ID.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| unavailable("GetItem", &error))?;
        let saved = read
            .item
            .as_ref()
            .and_then(|item| item.get("state"))
            .and_then(|state| state.as_s().ok());
        Ok(saved
            .and_then(|saved| serde_json::from_str(saved).ok())
            .unwrap_or_default())
    }

    async fn save(&self, state: &State) -> Result<(), WalkError> {
        let saved = serde_json::to_string(state).expect("state serializes");
        self.dynamodb
            .put_item()
            .table_name(&self.state_table)
            .item("id", AttributeValue::S(STATE_ID.to_owned()))
            .item("state", AttributeValue::S(saved))
            .send()
            .await
            .map_err(|error| unavailable("PutItem", &error))?;
        Ok(())
    }
}

fn log_finding(finding: Finding<'_>) {
    match finding {
        Finding::Unrecoverable(pair) => {
            tracing::error!(client_id = %pair.client_id, backup_share_pair_id = %pair.pair.id, backup_method = %pair.pair.backup_method, curve = %pair.curve, created_at = %pair.pair.created_at, "a completed backup share pair has no custodian share here: unrecoverable until the user backs up again")
        }
        Finding::Orphan(share) => {
            tracing::warn!(client_id = %share.client_id, backup_share_pair_id = %share.backup_share_pair_id, backup_method = %share.backup_method, "a share held here is of a pair Portal does not list (left as it is)")
        }
        Finding::Retired(share) => {
            tracing::info!(client_id = %share.client_id, backup_share_pair_id = %share.backup_share_pair_id, backup_method = %share.backup_method, "a superseded pair's share moved to history")
        }
    }
}

fn unavailable<E, R>(
    operation: &'static str,
    error: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> WalkError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    WalkError::Custody(
        crate::domain::StoreError::Unavailable {
            operation,
            detail: crate::aws::error_detail(error),
        }
        .into(),
    )
}
