//! A custodian backup share: key material. Readable only through `expose_secret`, zeroed on
//! drop, and never printed by `Debug`.

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// A custodian backup share: the exact string Portal sent, never parsed or re-serialised.
/// Its memory is zeroed on drop and `Debug` prints `[REDACTED]`.
pub struct Share(SecretString);

impl Share {
    /// The exact text Portal sent. Call only to store it or to return it to Portal.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether `other` is byte for byte the same share.
    pub fn same_as(&self, other: &Share) -> bool {
        self.expose_secret() == other.expose_secret()
    }

    /// SHA-256 of the exact bytes, in lowercase hex: tells shares apart (repeats, audit,
    /// `sha256sum` by an operator) without revealing one. A share is high-entropy key
    /// material, so its hash leaves nothing to guess against.
    pub fn sha256_hex(&self) -> String {
        use sha2::Digest;
        sha2::Sha256::digest(self.expose_secret().as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Size in bytes of the share as sent.
    pub fn len(&self) -> usize {
        self.expose_secret().len()
    }

    pub fn is_empty(&self) -> bool {
        self.expose_secret().is_empty()
    }
}

impl From<String> for Share {
    fn from(text: String) -> Self {
        Self(SecretString::from(text))
    }
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Share([REDACTED])")
    }
}
