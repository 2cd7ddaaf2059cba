//! Any bytes as a `/backup` or `/backup/fetch` body: never a panic, and whatever is accepted
//! holds the invariants the store relies on; no error message quotes the body.
#![no_main]

use custodian_backup::portal::{Backup, Fetch, MAX_IDENTIFIER_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let valid_identifier =
        |id: &str| !id.is_empty() && id.len() <= MAX_IDENTIFIER_BYTES && !id.chars().any(char::is_control);
    match Backup::from_json(body) {
        Ok(backup) => {
            assert!(valid_identifier(backup.client_id.as_str()));
            assert!(valid_identifier(backup.backup_method.as_str()));
            assert!(!backup.share.is_empty());
            assert!(!format!("{backup:?}").contains(backup.share.expose_secret()));
        }
        Err(error) => assert_no_echo(&error.to_string(), body),
    }
    match Fetch::from_json(body) {
        Ok(fetch) => assert!(valid_identifier(fetch.client_id.as_str())),
        Err(error) => assert_no_echo(&error.to_string(), body),
    }
});

/// A message may share short runs with the body by chance (`"share"`, digits of a position), but
/// never a long one: 24 bytes of the body in the message means it was quoted.
fn assert_no_echo(message: &str, body: &[u8]) {
    if body.len() >= 24 {
        for window in body.windows(24) {
            if let Ok(text) = std::str::from_utf8(window) {
                assert!(!message.contains(text), "error message quotes the body: {message}");
            }
        }
    }
}
