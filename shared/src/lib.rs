//! Portal's custodian backup share webhooks (Self-Managed Backups), shared by the two Lambda
//! functions in `functions/`.
//!
//! - [`portal`]: the request bodies Portal sends, validated into types.
//! - [`secret`]: authentication by the `X-Webhook-Secret` header.
//! - [`store`]: where shares live (DynamoDB), behind one small trait per handler.
//! - [`envelope`]: every stored share sealed with AES-256-GCM under a KMS data key.
//! - [`handler`]: `/backup` and `/backup/fetch`, HTTP request in, HTTP response out; and the
//!   optional IAM-authorised eject endpoint.
//! - [`custody`]: the operator's jobs (list, history, restore, export) and their audit trail.
//! - [`error`]: every rejection and the JSON response it gets.
//! - [`config`]: environment variables, the AWS clients, and the [`App`] built from them.
//! - [`runtime`]: the Lambda runtime loop, guarded against bodies lambda_http would panic on.
//! - [`telemetry`]: CloudWatch metrics (Embedded Metric Format) for every request.
//!
//! A share is key material: nothing in this crate logs, prints or returns one except
//! `/backup/fetch` answering Portal, and an audited export (the CLI's or the eject endpoint's).

pub mod config;
pub mod envelope;
pub mod error;
pub mod handler;
pub mod portal;
pub mod runtime;
pub mod secret;
pub mod store;
pub mod telemetry;

pub use config::{App, Config, Tables};
pub use store::dynamodb::{DynamoDbStore, custody};
