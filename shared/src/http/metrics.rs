//! CloudWatch metrics in Embedded Metric Format: every request counts toward a few metrics, and
//! the runtime loop prints them to stdout as one JSON document after each invocation; CloudWatch
//! Logs turns that document into metrics, with no API call in the request path.
//!
//! No metric carries a clientId, share or secret. The one dimension is the stack (`STACK_NAME`),
//! so the template's alarms find exactly this deployment's metrics.

use super::error::Rejection;
use crate::domain::{StoreError, Stored};
use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
use metrics_cloudwatch_embedded::Collector;

pub const NAMESPACE: &str = "CustodianBackup";
pub const DIMENSION: &str = "Stack";

/// Metric names, shared with the alarms in `template.yaml` (a test fails if they drift).
pub mod name {
    /// Authenticated `/backup` requests, whatever their outcome.
    pub const BACKUPS: &str = "Backups";
    pub const SHARES_CREATED: &str = "SharesCreated";
    /// A different share replaced the current one, which went to history.
    pub const SHARES_REPLACED: &str = "SharesReplaced";
    /// The identical share was already current (Portal retried).
    pub const SHARES_UNCHANGED: &str = "SharesUnchanged";
    /// Authenticated `/backup/fetch` requests, whatever their outcome.
    pub const FETCHES: &str = "Fetches";
    pub const SHARES_RETURNED: &str = "SharesReturned";
    /// 401s: a missing or wrong `X-Webhook-Secret`.
    pub const AUTH_FAILURES: &str = "AuthFailures";
    /// Every other 4xx.
    pub const BAD_REQUESTS: &str = "BadRequests";
    /// DynamoDB or KMS failed or was too slow: 503 (a write cut off by the time limit may still
    /// have landed).
    pub const STORAGE_ERRORS: &str = "StorageErrors";
    /// A stored share failed its integrity check and was left out of a fetch (500 when it was
    /// the client's only one): an incident.
    pub const STORED_SHARES_UNREADABLE: &str = "StoredSharesUnreadable";
    /// A stored share whose KMS key could not be used was left out of a fetch that returned the
    /// client's other shares: a key disabled, scheduled for deletion, or no longer granted.
    pub const STORED_SHARES_UNOPENED: &str = "StoredSharesUnopened";
    /// A request whose `Content-Type` was not JSON: parsed anyway, and counted so a change in
    /// what Portal sends is seen.
    pub const ODD_CONTENT_TYPES: &str = "OddContentTypes";
    /// Every 5xx the handlers answered.
    pub const SERVER_ERRORS: &str = "ServerErrors";
    /// Handler latency in milliseconds, one value per request.
    pub const BACKUP_LATENCY: &str = "BackupLatency";
    pub const FETCH_LATENCY: &str = "FetchLatency";
    /// One per process: the first invocation after a cold start.
    pub const COLD_STARTS: &str = "ColdStarts";
    /// Counted where the escrow wrap is made.
    pub use crate::kms::ESCROW_WRAPS_MISSED;
    /// With pruning opted into: an expiry given to a version that had been current for over a
    /// day (a newer one had too). Every one is alarmed: junk does not live that long.
    pub use crate::store::dynamodb::prune::PROVEN_VERSIONS_PRUNED;
    /// Client backup shares the app stored (created, replaced or unchanged).
    pub const CLIENT_BACKUP_SHARES_STORED: &str = "ClientBackupSharesStored";
    /// Client backup shares returned to the app: an unusual rate is a stolen token harvesting.
    pub const CLIENT_BACKUP_SHARE_READS: &str = "ClientBackupShareReads";
    /// 5xx answers of the client-share API.
    pub const CLIENT_BACKUP_SHARE_SERVER_ERRORS: &str = "ClientBackupShareServerErrors";

    /// A `/backup` whose body named another `backupSharePairId` than the share's own JSON: the
    /// body's is kept (as Portal's reference server does), and a change in what Portal sends is
    /// seen.
    pub const PAIR_ID_MISMATCHES: &str = "PairIdMismatches";

    /// Shares of a client left out of a fetch because all of them do not fit one answer (Lambda's
    /// 6 MB): the oldest ones, an operator's job (docs/operations.md).
    pub const SHARES_LEFT_OUT: &str = "SharesLeftOut";
    /// The size of each fetch's answer in bytes: its maximum nearing 6 MB is the early warning.
    pub const FETCH_ANSWER_BYTES: &str = "FetchAnswerBytes";

    /// The scheduled reconcile, once per finished walk: completed pairs without their share here,
    /// shares of pairs Portal does not list, and superseded shares moved to history.
    pub const UNRECOVERABLE_PAIRS: &str = "UnrecoverablePairs";
    pub const ORPHAN_SHARES: &str = "OrphanShares";
    pub const RETIRED_SHARES: &str = "RetiredShares";

    /// A current row that did not read as a share, set aside in history so that a new share
    /// (custodian or client) could be stored: a hand edit, a bad merge or a rolled-back format.
    pub const UNREADABLE_SHARES_SET_ASIDE: &str = "UnreadableSharesSetAside";

    /// Every metric the functions emit.
    pub const ALL: [&str; 28] = [
        BACKUPS,
        SHARES_CREATED,
        SHARES_REPLACED,
        SHARES_UNCHANGED,
        FETCHES,
        SHARES_RETURNED,
        AUTH_FAILURES,
        BAD_REQUESTS,
        STORAGE_ERRORS,
        STORED_SHARES_UNREADABLE,
        STORED_SHARES_UNOPENED,
        ODD_CONTENT_TYPES,
        SERVER_ERRORS,
        BACKUP_LATENCY,
        FETCH_LATENCY,
        COLD_STARTS,
        ESCROW_WRAPS_MISSED,
        CLIENT_BACKUP_SHARES_STORED,
        CLIENT_BACKUP_SHARE_READS,
        CLIENT_BACKUP_SHARE_SERVER_ERRORS,
        PAIR_ID_MISMATCHES,
        SHARES_LEFT_OUT,
        FETCH_ANSWER_BYTES,
        UNRECOVERABLE_PAIRS,
        ORPHAN_SHARES,
        RETIRED_SHARES,
        UNREADABLE_SHARES_SET_ASIDE,
        PROVEN_VERSIONS_PRUNED,
    ];
}

/// Which route a request came to. Eject counts no metric of its own: its alarm watches the
/// Lambda invocations, which no code path can skip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Backup,
    Fetch,
    Eject,
    ClientBackupShares,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Backup => "backup",
            Self::Fetch => "fetch",
            Self::Eject => "eject",
            Self::ClientBackupShares => "client-backup-shares",
        }
    }
}

/// How a request ended.
pub enum Outcome<'a> {
    Stored(Stored),
    Fetched {
        shares: usize,
        unreadable: usize,
        unopened: usize,
        /// The oldest shares that did not fit the answer.
        left_out: usize,
        answer_bytes: usize,
    },
    /// Eject and the client-share reads: what they answered (`ejected`, `fetched`, `listed`) and
    /// how many shares or cipherTexts the answer holds.
    Read {
        word: &'static str,
        shares: usize,
    },
    Rejected(&'a Rejection),
}

impl Outcome<'_> {
    /// The word the log line and the metrics use: the stored `result` or the error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Stored(stored) => stored.as_str(),
            Self::Fetched { .. } => "fetched",
            Self::Read { word, .. } => word,
            Self::Rejected(rejection) => rejection.code(),
        }
    }

    /// How many shares (or cipherTexts) the answer holds.
    pub fn shares(&self) -> usize {
        match self {
            Self::Fetched { shares, .. } | Self::Read { shares, .. } => *shares,
            Self::Stored(_) | Self::Rejected(_) => 0,
        }
    }
}

/// Installs the process-wide EMF recorder; the runtime loop flushes it after each invocation.
/// Called once, from [`super::runtime::serve`].
pub fn install(stack: String) -> Result<&'static Collector, metrics_cloudwatch_embedded::Error> {
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension(DIMENSION, stack)
        .lambda_cold_start_metric(name::COLD_STARTS)
        .with_lambda_request_id("requestId")
        .init()?;
    for counter in name::ALL {
        if ![
            name::BACKUP_LATENCY,
            name::FETCH_LATENCY,
            name::FETCH_ANSWER_BYTES,
        ]
        .contains(&counter)
        {
            describe_counter!(counter, Unit::Count, "");
        }
    }
    describe_histogram!(name::BACKUP_LATENCY, Unit::Milliseconds, "");
    describe_histogram!(name::FETCH_LATENCY, Unit::Milliseconds, "");
    describe_histogram!(name::FETCH_ANSWER_BYTES, Unit::Bytes, "");
    Ok(collector)
}

/// Counts one request of the client-share API by its outcome, with the cipherTexts it returned.
fn client_backup_share(outcome: &Outcome<'_>) {
    let count = |metric: &'static str, value: u64| counter!(metric).increment(value);
    match outcome {
        Outcome::Stored(Stored::ReplacedUnreadable) => {
            count(name::CLIENT_BACKUP_SHARES_STORED, 1);
            count(name::UNREADABLE_SHARES_SET_ASIDE, 1);
        }
        Outcome::Stored(_) => count(name::CLIENT_BACKUP_SHARES_STORED, 1),
        Outcome::Rejected(rejection) if rejection.status().is_server_error() => {
            count(name::CLIENT_BACKUP_SHARE_SERVER_ERRORS, 1)
        }
        _ => {}
    }
    if outcome.shares() > 0 {
        count(name::CLIENT_BACKUP_SHARE_READS, outcome.shares() as u64);
    }
}

/// Counts a backup whose body and share named different pair ids.
pub fn pair_id_mismatch() {
    counter!(name::PAIR_ID_MISMATCHES).increment(1);
}

/// Counts a request whose `Content-Type` was not JSON.
pub fn odd_content_type() {
    counter!(name::ODD_CONTENT_TYPES).increment(1);
}

/// Counts one request. Without an installed recorder (unit tests, tools) this does nothing.
pub fn record(route: Route, authenticated: bool, outcome: &Outcome<'_>, latency_ms: f64) {
    let count = |metric: &'static str, value: u64| counter!(metric).increment(value);
    let latency = match route {
        Route::Backup => name::BACKUP_LATENCY,
        Route::Fetch => name::FETCH_LATENCY,
        Route::ClientBackupShares => return client_backup_share(outcome),
        Route::Eject => return,
    };
    match (route, authenticated) {
        (Route::Backup, true) => count(name::BACKUPS, 1),
        (Route::Fetch, true) => count(name::FETCHES, 1),
        _ => {}
    }
    match outcome {
        Outcome::Stored(Stored::Created) => count(name::SHARES_CREATED, 1),
        Outcome::Stored(Stored::Replaced) => count(name::SHARES_REPLACED, 1),
        Outcome::Stored(Stored::Unchanged) => count(name::SHARES_UNCHANGED, 1),
        Outcome::Stored(Stored::ReplacedUnreadable) => {
            count(name::SHARES_REPLACED, 1);
            count(name::UNREADABLE_SHARES_SET_ASIDE, 1);
        }
        Outcome::Read { .. } => {}
        Outcome::Fetched {
            shares,
            unreadable,
            unopened,
            left_out,
            answer_bytes,
        } => {
            count(name::SHARES_RETURNED, *shares as u64);
            histogram!(name::FETCH_ANSWER_BYTES).record(*answer_bytes as f64);
            if *left_out > 0 {
                count(name::SHARES_LEFT_OUT, *left_out as u64);
            }
            if *unreadable > 0 {
                count(name::STORED_SHARES_UNREADABLE, *unreadable as u64);
            }
            if *unopened > 0 {
                count(name::STORED_SHARES_UNOPENED, *unopened as u64);
            }
        }
        Outcome::Rejected(rejection) => {
            match rejection {
                Rejection::StorageUnavailable(_) | Rejection::StorageTimeout => {
                    count(name::STORAGE_ERRORS, 1)
                }
                Rejection::StoredShareUnreadable(StoreError::AllUnreadable(shares)) => {
                    count(name::STORED_SHARES_UNREADABLE, *shares as u64)
                }
                Rejection::StoredShareUnreadable(_) => count(name::STORED_SHARES_UNREADABLE, 1),
                _ => {}
            }
            match rejection.status().as_u16() {
                401 => count(name::AUTH_FAILURES, 1),
                400..=499 => count(name::BAD_REQUESTS, 1),
                _ => count(name::SERVER_ERRORS, 1),
            }
        }
    }
    histogram!(latency).record(latency_ms);
}
