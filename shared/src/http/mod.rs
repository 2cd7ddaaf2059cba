//! The entrypoints: an HTTP request in, an HTTP response out, with the store injected. One module
//! per route, and what they share.
//!
//! Handlers never return `Err` (which API Gateway would turn into a bare 502): every failure
//! becomes a JSON [`error`] body with the right status. Each request is logged as one [`log`]
//! line with its outcome, never with its body or headers.

mod admit;
mod backup;
mod caller;
pub mod client_backup_shares;
pub mod eject;
pub mod error;
mod fetch;
mod guard;
mod log;
pub mod metrics;
pub mod runtime;

pub use backup::backup;
pub use client_backup_shares::{Callers, client_backup_shares};
pub use eject::eject;
pub use fetch::{MAX_ANSWER_BYTES, fetch};

/// The path parameters of the eject and client-share routes, as `template.yaml` names them.
pub mod path {
    pub const CLIENT_ID: &str = "clientId";
    pub const BACKUP_METHOD: &str = "backupMethod";
}

#[cfg(test)]
mod tests;
