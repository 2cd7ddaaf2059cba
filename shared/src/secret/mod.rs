//! Authenticates Portal by its `X-Webhook-Secret` header, the only credential Portal sends.
//!
//! Secrets are kept only as HMAC-SHA256 digests and compared in constant time, so neither the
//! content nor the length of a presented value leaks through timing. Nothing here logs, prints or
//! returns a secret. In AWS the secret lives in Secrets Manager ([`secrets_manager`]); local runs
//! take it from the environment.

pub mod secrets_manager;

pub use secrets_manager::{ManagedSecret, Timing};

use hmac::{Hmac, KeyInit, Mac};
use lambda_http::http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::fmt;

/// The header Portal sends; `HeaderMap` matches names case-insensitively (`X-WEBHOOK-SECRET` too).
pub const SECRET_HEADER: &str = "x-webhook-secret";

/// The longest value a rotated-in secret may be: a longer presented value never earns a re-read.
pub const MAX_SECRET_BYTES: usize = 1024;

/// Any fixed key serves: digests never leave the process, they only make lengths equal.
const DIGEST_KEY: &[u8] = b"custodian-backup-webhook/secret-digest/v1";

type Digest = [u8; 32];

/// The secret configured in Portal's dashboard, and optionally the one it replaced, so a rotation
/// needs no downtime.
pub struct WebhookSecrets {
    current: Option<Digest>,
    previous: Option<Digest>,
}

/// Which configured secret a request presented. Safe to log: it names a slot, not a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretSlot {
    Current,
    Previous,
}

/// Why a request was not authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// No secret is configured: every request is refused (fail closed).
    NotConfigured,
    /// The header is missing, empty, repeated or wrong. Deliberately one case.
    Refused,
    /// The secret could not be read from Secrets Manager, and no earlier value is held.
    Unavailable,
}

/// Where the webhook secret comes from: fixed at start from the environment, or read (and
/// re-read after rotation) from Secrets Manager.
pub enum Authenticator {
    Environment(WebhookSecrets),
    SecretsManager(ManagedSecret),
}

impl Authenticator {
    pub async fn verify(&self, headers: &HeaderMap) -> Result<SecretSlot, AuthFailure> {
        match self {
            Self::Environment(secrets) => secrets.verify(headers),
            Self::SecretsManager(managed) => managed.verify(headers).await,
        }
    }
}

impl From<WebhookSecrets> for Authenticator {
    fn from(secrets: WebhookSecrets) -> Self {
        Self::Environment(secrets)
    }
}

impl WebhookSecrets {
    /// Empty values count as absent. A previous secret without a current one is ignored.
    pub fn new(current: Option<SecretString>, previous: Option<SecretString>) -> Self {
        let digest_of = |secret: Option<SecretString>| {
            secret
                .filter(|secret| !secret.expose_secret().is_empty())
                .map(|secret| digest(secret.expose_secret().as_bytes()))
        };
        let current = digest_of(current);
        let previous = current.and(digest_of(previous));
        Self { current, previous }
    }

    pub fn is_configured(&self) -> bool {
        self.current.is_some()
    }

    /// Checks the request's `X-Webhook-Secret` header against both configured secrets.
    pub fn verify(&self, headers: &HeaderMap) -> Result<SecretSlot, AuthFailure> {
        let Some(current) = &self.current else {
            return Err(AuthFailure::NotConfigured);
        };
        let presented = presented(headers).ok_or(AuthFailure::Refused)?;
        // Both comparisons always run, so timing does not tell which slot matched.
        let matches_current = matches(presented, current);
        let matches_previous = self
            .previous
            .as_ref()
            .is_some_and(|previous| matches(presented, previous));
        match (matches_current, matches_previous) {
            (true, _) => Ok(SecretSlot::Current),
            (false, true) => Ok(SecretSlot::Previous),
            (false, false) => Err(AuthFailure::Refused),
        }
    }
}

/// The one `X-Webhook-Secret` value a request presents, or `None` when the header is missing,
/// empty or repeated: no secret can match such a header.
pub fn presented(headers: &HeaderMap) -> Option<&[u8]> {
    let mut values = headers.get_all(SECRET_HEADER).iter();
    match (values.next(), values.next()) {
        (Some(value), None) if !value.is_empty() => Some(value.as_bytes()),
        _ => None,
    }
}

/// Whether a presented value could be a secret rotated in since the last read: printable ASCII
/// (what a dashboard field holds) of at most [`MAX_SECRET_BYTES`]. Only such a value may cost a
/// re-read of Secrets Manager; any other is still compared with the values held.
pub fn could_be_rotated_in(presented: &[u8]) -> bool {
    presented.len() <= MAX_SECRET_BYTES && presented.iter().all(|b| (0x20..0x7f).contains(b))
}

fn mac(value: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(DIGEST_KEY)
        .expect("HMAC accepts a key of any length");
    mac.update(value);
    mac
}

fn digest(value: &[u8]) -> Digest {
    mac(value).finalize().into_bytes().into()
}

/// `verify_slice` compares in constant time.
fn matches(presented: &[u8], expected: &Digest) -> bool {
    mac(presented).verify_slice(expected).is_ok()
}

impl fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = |digest: &Option<Digest>| {
            if digest.is_some() {
                "configured"
            } else {
                "none"
            }
        };
        f.debug_struct("WebhookSecrets")
            .field("current", &state(&self.current))
            .field("previous", &state(&self.previous))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    const SECRET: &str = "s3cr3t-from-portal-dashboard";
    const OLD_SECRET: &str = "the-secret-before-rotation";

    fn secrets(current: Option<&str>, previous: Option<&str>) -> WebhookSecrets {
        let wrap = |s: Option<&str>| s.map(|s| SecretString::from(s.to_owned()));
        WebhookSecrets::new(wrap(current), wrap(previous))
    }

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            let name = lambda_http::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            map.append(name, HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    fn verify(pairs: &[(&str, &[u8])]) -> Result<SecretSlot, AuthFailure> {
        secrets(Some(SECRET), None).verify(&headers(pairs))
    }

    #[test]
    fn accepts_the_configured_secret() {
        assert_eq!(
            verify(&[("X-Webhook-Secret", SECRET.as_bytes())]),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn header_name_is_case_insensitive() {
        assert_eq!(
            verify(&[("X-WEBHOOK-SECRET", SECRET.as_bytes())]),
            Ok(SecretSlot::Current)
        );
        assert_eq!(
            verify(&[("x-webhook-secret", SECRET.as_bytes())]),
            Ok(SecretSlot::Current)
        );
    }

    #[test]
    fn refuses_every_wrong_header_the_same_way() {
        let suffixed = format!("{SECRET}x");
        let prefix = &SECRET[..SECRET.len() - 1];
        let upper = SECRET.to_uppercase();
        let padded = format!(" {SECRET}");
        let cases: Vec<Vec<(&str, &[u8])>> = vec![
            vec![],
            vec![("X-Webhook-Secret", b"")],
            vec![("X-Webhook-Secret", b"wrong")],
            vec![("X-Webhook-Secret", prefix.as_bytes())],
            vec![("X-Webhook-Secret", suffixed.as_bytes())],
            vec![("X-Webhook-Secret", upper.as_bytes())],
            vec![("X-Webhook-Secret", padded.as_bytes())],
            vec![("X-Webhook-Secret", b"\xff\xfe")],
            vec![
                ("X-Webhook-Secret", SECRET.as_bytes()),
                ("X-Webhook-Secret", SECRET.as_bytes()),
            ],
            vec![
                ("X-Webhook-Secret", SECRET.as_bytes()),
                ("x-webhook-secret", b"wrong"),
            ],
            vec![("Authorization", SECRET.as_bytes())],
        ];
        for case in cases {
            assert_eq!(verify(&case), Err(AuthFailure::Refused), "{case:?}");
        }
    }

    #[test]
    fn only_a_printable_value_of_a_dashboard_field_could_be_a_rotated_in_secret() {
        assert!(could_be_rotated_in(SECRET.as_bytes()));
        assert!(could_be_rotated_in(b"with inner space ~!"));
        assert!(could_be_rotated_in(&[b'a'; MAX_SECRET_BYTES]));
        assert!(!could_be_rotated_in(&[b'a'; MAX_SECRET_BYTES + 1]));
        assert!(!could_be_rotated_in("café".as_bytes()));
        assert!(!could_be_rotated_in(b"tab\there"));
        assert!(!could_be_rotated_in(b"del\x7f"));
    }

    #[test]
    fn accepts_the_previous_secret_during_rotation() {
        let both = secrets(Some(SECRET), Some(OLD_SECRET));
        let old = headers(&[("X-Webhook-Secret", OLD_SECRET.as_bytes())]);
        assert_eq!(both.verify(&old), Ok(SecretSlot::Previous));
        let new = headers(&[("X-Webhook-Secret", SECRET.as_bytes())]);
        assert_eq!(both.verify(&new), Ok(SecretSlot::Current));
    }

    #[test]
    fn fails_closed_without_a_secret() {
        let presented = headers(&[("X-Webhook-Secret", b"")]);
        for unconfigured in [
            secrets(None, None),
            secrets(Some(""), None),
            secrets(None, Some(OLD_SECRET)),
        ] {
            assert!(!unconfigured.is_configured());
            assert_eq!(
                unconfigured.verify(&presented),
                Err(AuthFailure::NotConfigured)
            );
        }
    }

    #[test]
    fn debug_never_prints_a_secret_or_its_digest() {
        let printed = format!("{:?}", secrets(Some(SECRET), Some(OLD_SECRET)));
        assert_eq!(
            printed,
            r#"WebhookSecrets { current: "configured", previous: "configured" }"#
        );
    }
}
