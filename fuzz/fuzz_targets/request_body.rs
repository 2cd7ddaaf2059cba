//! Any bytes as a `/backup` or `/backup/fetch` body: never a panic, and whatever is accepted
//! holds the invariants the store relies on; no error message quotes the body.
#![no_main]

use custodian_backup::domain::{Backup, Fetch, MAX_IDENTIFIER_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let valid_identifier =
        |id: &str| !id.is_empty() && id.len() <= MAX_IDENTIFIER_BYTES && !id.chars().any(char::is_control);
    match Backup::from_json(body) {
        Ok(backup) => {
            assert!(valid_identifier(backup.client_id.as_str()));
            assert!(valid_identifier(backup.backup_method.as_str()));
            assert!(!backup.share.is_empty());
            assert_eq!(format!("{:?}", backup.share), "Share([REDACTED])");
        }
        Err(error) => assert_no_echo(&error.to_string(), body),
    }
    match Fetch::from_json(body) {
        Ok(fetch) => assert!(valid_identifier(fetch.client_id.as_str())),
        Err(error) => assert_no_echo(&error.to_string(), body),
    }
});

/// Messages are built from fixed texts: field names and serde_json's syntax messages, which quote
/// nothing. So a message holding any character outside their alphabet (`"`, `#`, `@`, `~`,
/// non-ASCII, ...) would be an echo of the body. (A plain substring check does not work: the
/// fuzzer learns the fixed texts and puts them in the body.)
fn assert_no_echo(message: &str, _body: &[u8]) {
    let fixed = |c: char| c.is_ascii_alphanumeric() || " `,:()-_\\{}[]./+'".contains(c);
    assert!(message.chars().all(fixed), "error message holds input: {message:?}");
}
