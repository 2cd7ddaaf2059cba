//! Any set of `X-Webhook-Secret` values against a configured current and previous secret: never a
//! panic, and a request is admitted only when it carries exactly one value equal to one of them.
#![no_main]

use custodian_backup::secret::{AuthFailure, SecretSlot, WebhookSecrets};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

const CURRENT: &str = "current-secret-0123456789abcdef";
const PREVIOUS: &str = "previous-secret-0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let secrets = WebhookSecrets::new(Some(CURRENT.into()), Some(PREVIOUS.into()));
    // Values separated by 0xFF (which no header value contains after parsing anyway).
    let mut headers = HeaderMap::new();
    let mut values = Vec::new();
    for part in data.split(|byte| *byte == 0xff) {
        if let Ok(value) = HeaderValue::from_bytes(part) {
            headers.append("x-webhook-secret", value);
            values.push(part);
        }
    }
    let verdict = secrets.verify(&headers);
    let expected = match values.as_slice() {
        [one] if *one == CURRENT.as_bytes() => Ok(SecretSlot::Current),
        [one] if *one == PREVIOUS.as_bytes() => Ok(SecretSlot::Previous),
        _ => Err(AuthFailure::Refused),
    };
    assert_eq!(verdict, expected);
});
