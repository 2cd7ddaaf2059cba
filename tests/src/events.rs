//! The `events/` fixtures and what each must answer.

/// The development secret in the fixtures, printed by `make run`.
pub const DEV_SECRET: &str = "local-dev-secret-change-me";

/// (file, route, expected status). Ordered: fetch files run after the backups they read.
pub const EVENTS: [(&str, &str, u16); 15] = [
    ("backup-multi-backup.json", "backup", 200),
    ("backup-legacy.json", "backup", 200),
    ("backup-base64-body.json", "backup", 200),
    ("backup-wrong-secret.json", "backup", 401),
    ("backup-missing-secret.json", "backup", 401),
    ("backup-malformed-body.json", "backup", 400),
    ("backup-missing-share.json", "backup", 400),
    ("backup-invalid-base64.json", "backup", 400),
    ("backup-text-plain.json", "backup", 200),
    ("fetch.json", "fetch", 200),
    ("fetch-http-api-v2.json", "fetch", 200),
    ("fetch-wrong-secret.json", "fetch", 401),
    ("eject.json", "eject", 200),
    ("eject-without-caller-identity.json", "eject", 403),
    ("eject-unknown-client.json", "eject", 404),
];

pub fn event(file: &str) -> String {
    std::fs::read_to_string(crate::repo_root().join("events").join(file)).expect("event file")
}

use serde_json::Value;

/// A REST API (payload 1.0) event as API Gateway sends Portal's call: `fetch.json`'s headers,
/// secret included, with `path` and `body`.
pub fn rest_event(path: &str, body: &str) -> Value {
    let mut event: Value = serde_json::from_str(&event("fetch.json")).expect("fetch.json");
    event["path"] = path.into();
    event["resource"] = path.into();
    event["requestContext"]["resourcePath"] = path.into();
    event["body"] = body.into();
    event
}

/// Sets header `name` to `values` in a REST event, replacing any spelling of it: every value in
/// `multiValueHeaders`, the last in `headers`, as API Gateway does. No values removes it.
pub fn set_header(event: &mut Value, name: &str, values: &[&str]) {
    for map in ["headers", "multiValueHeaders"] {
        if let Some(headers) = event[map].as_object_mut() {
            headers.retain(|key, _| !key.eq_ignore_ascii_case(name));
        }
    }
    if let Some(last) = values.last() {
        event["headers"][name] = (*last).into();
        event["multiValueHeaders"][name] = values.to_vec().into();
    }
}
