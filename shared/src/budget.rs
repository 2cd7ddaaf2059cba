//! Every time budget, side by side, so that their sum visibly fits inside Portal's wait.
//!
//! Portal waits [`PORTAL_WAIT`] for an answer. The function's timeout ([`LAMBDA_TIMEOUT`], the
//! template's `Timeout`) is shorter, and inside it the worst request waits for one secret read (a
//! request causes at most one) and the storage budget. Each SDK call gives up on its own well before.

use std::time::Duration;

/// How long Portal waits for `/backup` or `/backup/fetch` to answer.
pub const PORTAL_WAIT: Duration = Duration::from_secs(10);

/// The functions' timeout in `template.yaml` (a test checks they agree).
pub const LAMBDA_TIMEOUT: Duration = Duration::from_secs(8);

/// The longest storage (DynamoDB and KMS together) may take before the answer is 503. A write cut
/// off here may still land, which is safe: only a 200 promises.
pub const STORAGE: Duration = Duration::from_secs(6);

/// One attempt of any AWS SDK call, and its connection.
pub const SDK_ATTEMPT: Duration = Duration::from_secs(2);

/// One AWS SDK call with its retries ([`SDK_MAX_ATTEMPTS`], with backoff).
pub const SDK_OPERATION: Duration = Duration::from_secs(4);

pub const SDK_MAX_ATTEMPTS: u32 = 3;

/// The longest the escrow key's `Encrypt` may hold up a backup: past it the share is stored
/// without its escrow wrap (a second way in) rather than risk the whole write's budget.
pub const ESCROW_WRAP: Duration = Duration::from_secs(1);

/// The longest a Secrets Manager read may hold up a request (or init): Secrets Manager hanging is
/// a clean 503, not a 5xx from Lambda.
pub const SECRET_READ: Duration = Duration::from_millis(1500);

/// The least time between two Secrets Manager reads caused by a secret that matched nothing. No
/// request waits for it: one that arrives sooner is refused at once.
pub const SECRET_REREAD_INTERVAL: Duration = Duration::from_millis(250);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slowest_request_still_answers_inside_the_lambda_timeout_and_portals_wait() {
        assert!(SECRET_READ + STORAGE < LAMBDA_TIMEOUT);
        assert!(LAMBDA_TIMEOUT < PORTAL_WAIT);
        assert!(SDK_ATTEMPT < SDK_OPERATION && SDK_OPERATION < STORAGE);
        assert!(SDK_OPERATION + ESCROW_WRAP < STORAGE);
    }
}
