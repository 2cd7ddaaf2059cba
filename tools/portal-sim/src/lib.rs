//! A Portal simulator: calls `{base}/backup` and `{base}/backup/fetch` exactly as Portal does and
//! checks every answer against the contract, so a deployment can be verified before a real
//! wallet backup depends on it. Its [`app`] mode plays the app's side against the client-share
//! API instead.
//!
//! It stores test shares under one clearly marked test `clientId` and says so in its report.
//! It never prints the secret.

pub mod app;
mod exchange;
mod portal;
mod report;
pub mod share;

pub use report::{Call, Check, Report};

use portal::Portal;
use std::time::Duration;

/// Portal gives up on a webhook after this long.
pub const PORTAL_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Options {
    /// The webhook base URL registered in Portal, e.g. `https://…/v1`.
    pub base_url: String,
    pub secret: String,
    pub client_id: String,
    /// The method part of `backupMethod`; the curve is appended as Portal does.
    pub method: String,
}

/// Runs every check in order and reports them all; a failed check does not stop the next.
pub async fn run(options: &Options) -> Report {
    let portal = Portal::new(options);
    let checks = vec![
        portal.multi_backup().await,
        portal.repeated_backup().await,
        portal.legacy_backup().await,
        portal.failed_rebackup().await,
        portal.wrong_secret().await,
        portal.missing_secret().await,
    ];
    Report {
        base_url: options.base_url.clone(),
        client_id: options.client_id.clone(),
        passed: checks.iter().all(|check| check.passed),
        checks,
        test_data: format!(
            "clientId \"{}\" now holds test shares (its methods and UNKNOWN); replaced ones are \
             in the history table. The receiver never deletes shares, so remove these items by \
             hand if you must, or reuse the same --client-id on every run.",
            options.client_id
        ),
    }
}
