//! Portal's custodian backup share webhooks (Self-Managed Backups), shared by the Lambda functions
//! in `functions/` and the `custody` CLI. Three layers, and the wiring:
//!
//! - [`domain`]: what Portal sends, whose share a share is, how it is sealed, what storing it
//!   did, and the custody vocabulary. No AWS here.
//! - adapters: [`store`] (DynamoDB, behind one small trait per caller), [`kms`] (the key that
//!   wraps each share's data key), [`secret`] (the `X-Webhook-Secret` check, Secrets Manager),
//!   [`aws`] (what every SDK client shares), [`portal_api`] (Portal's Custodian API, for
//!   `reconcile`).
//! - [`reconcile`]: the walk over Portal's clients that `custody reconcile` and the scheduled
//!   reconcile function share; [`reconcile_job`]: that function's hourly piece of the daily walk.
//! - [`http`]: the entrypoints. One module per route (`/backup`, `/backup/fetch`, eject), the
//!   JSON error body, the request log line, metrics, and the Lambda runtime loop.
//! - [`config`] reads the environment, [`budget`] holds every time limit, [`app`] wires them.
//!
//! A share is key material: nothing in this crate logs, prints or returns one except
//! `/backup/fetch` answering Portal, and an audited export (the CLI's or the eject endpoint's).

pub mod app;
pub mod audit_key;
pub mod aws;
pub mod budget;
pub mod config;
pub mod domain;
pub mod http;
pub mod kms;
pub mod portal_api;
pub mod reconcile;
pub mod reconcile_job;
pub mod secret;
pub mod store;
