//! The `events/` fixtures and what each must answer.

/// The development secret in the fixtures, printed by `make run`.
pub const DEV_SECRET: &str = "local-dev-secret-change-me";

/// (file, route, expected status). Ordered: fetch files run after the backups they read.
pub const EVENTS: [(&str, &str, u16); 12] = [
    ("backup-multi-backup.json", "backup", 200),
    ("backup-legacy.json", "backup", 200),
    ("backup-base64-body.json", "backup", 200),
    ("backup-wrong-secret.json", "backup", 401),
    ("backup-missing-secret.json", "backup", 401),
    ("backup-malformed-body.json", "backup", 400),
    ("backup-missing-share.json", "backup", 400),
    ("backup-invalid-base64.json", "backup", 400),
    ("backup-text-plain.json", "backup", 415),
    ("fetch.json", "fetch", 200),
    ("fetch-http-api-v2.json", "fetch", 200),
    ("fetch-wrong-secret.json", "fetch", 401),
];

pub fn event(file: &str) -> String {
    std::fs::read_to_string(crate::repo_root().join("events").join(file)).expect("event file")
}
