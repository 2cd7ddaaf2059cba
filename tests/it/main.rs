//! Every functional test against real services, in one binary (one link after a change, not
//! fifteen): DynamoDB Local, the KMS and Secrets Manager emulator, PostgreSQL, the real Lambda
//! binaries through the Lambda Runtime API, the `custody` CLI, and the template as
//! CloudFormation reads it. One module per subject; [`support`] holds what several share.
//!
//! The load and fault tests are binaries of their own (`tests/load.rs`, `tests/faults.rs`): they
//! stress or restart DynamoDB Local, which would disturb these.

mod bad_input;
mod binaries;
mod client_shares;
mod custody;
mod deploy;
mod deployed;
mod import;
mod layout;
mod operations;
mod pairs;
mod protection;
mod recovery;
mod simulator;
mod storage;
mod support;
mod template;
