//! The envelope around every stored share: AES-256-GCM under a data key used for that share
//! alone, with the owner bound in as associated data. Pure: no AWS here ([`crate::kms`] wraps the
//! data key).
//!
//! The share's owner, (clientId, backupMethod), is bound twice: as the KMS encryption context, so
//! KMS releases the data key only for that owner, and as the AES-GCM associated data, so the
//! ciphertext opens only as that owner's share. A sealed share copied into another row, altered,
//! or opened with another context fails closed. Plaintext data keys and opened shares are zeroed
//! when dropped.

use super::{Owner, Share};
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, Generate, KeyInit, Nonce, Payload};
use std::fmt;
use zeroize::Zeroizing;

/// The one envelope format written today; stored with each share so a later one can coexist.
pub const FORMAT: u8 = 1;
pub const NONCE_BYTES: usize = 12;
pub const DATA_KEY_BYTES: usize = 32;

/// Encryption-context keys; the template's key policy requires exactly these.
pub const CONTEXT_CLIENT_ID: &str = "clientId";
pub const CONTEXT_BACKUP_METHOD: &str = "backupMethod";

/// Which half of a wallet's backup is sealed: Portal's custodian backup share, or the app's
/// encrypted client backup share. Bound into the associated data, so a share sealed as one half
/// never opens as the other (each half also has its own KMS key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShareKind {
    #[default]
    Custodian,
    Client,
}

impl ShareKind {
    /// The label in the associated data, and the value of `SHARE_KIND`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Custodian => "custodian",
            Self::Client => "client",
        }
    }
}

/// A share as stored: nothing here reveals it without KMS releasing the data key.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedShare {
    /// AES-256-GCM ciphertext followed by its 16-byte tag.
    pub ciphertext: Vec<u8>,
    pub nonce: [u8; NONCE_BYTES],
    /// The data key, encrypted by KMS under `key_id` with the owner as encryption context.
    pub encrypted_data_key: Vec<u8>,
    /// The KMS key (ARN) that wrapped the data key, kept for audit and key migration.
    pub key_id: String,
    /// The same data key wrapped again under the escrow key, when one is configured and KMS
    /// answered: a second way in that needs nothing of this account.
    pub escrow: Option<EscrowWrap>,
}

/// The data key encrypted under the escrow key: a KMS key in a separate recovery account that
/// this stack may only encrypt with (as the AWS Encryption SDK's multi-keyring wraps one data key
/// under several keys). Whoever can decrypt with either key opens the share.
#[derive(Clone, PartialEq, Eq)]
pub struct EscrowWrap {
    pub encrypted_data_key: Vec<u8>,
    /// The escrow key's ARN.
    pub key_id: String,
}

impl SealedShare {
    /// Whether sealing this stored envelope again as `fresh` was sealed gains something and
    /// loses nothing: it moves to today's key (a key move, a load from another stack) or gains
    /// today's escrow wrap, so that an earlier key can be let go. A fresh seal whose escrow wrap
    /// failed never replaces one that has it.
    pub fn needs_sealing_again(&self, fresh: &SealedShare) -> bool {
        let escrow_key = |sealed: &SealedShare| sealed.escrow.as_ref().map(|e| e.key_id.clone());
        if fresh.escrow.is_none() && self.escrow.is_some() {
            return false;
        }
        self.key_id != fresh.key_id
            || (fresh.escrow.is_some() && escrow_key(self) != escrow_key(fresh))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// KMS refused or did not answer. `detail` is an error code, never data.
    #[error("KMS {operation} failed: {detail}")]
    KmsUnavailable {
        operation: &'static str,
        detail: String,
    },
    /// The sealed share does not open as this owner's: altered, moved from another row, or
    /// wrapped by another key. Never retried and never answered with data.
    #[error("a stored share failed authentication (altered, moved or foreign key)")]
    Tampered,
}

/// A fresh random nonce: safe because each data key seals one share only.
pub fn fresh_nonce() -> [u8; NONCE_BYTES] {
    Nonce::<Aes256Gcm>::generate().into()
}

/// The AES-GCM associated data: kind, format and owner, as an unambiguous JSON array. A pair's
/// share adds its pair id as a fourth element; the pair-less slot keeps the three of every share
/// sealed before pairs, so those still open.
pub fn associated_data(kind: ShareKind, owner: Owner<'_>) -> Vec<u8> {
    let mut fields = vec![
        format!("{}-backup/v{FORMAT}", kind.as_str()),
        owner.client_id.as_str().to_owned(),
        owner.backup_method.as_str().to_owned(),
    ];
    fields.extend(owner.backup_share_pair_id.map(|id| id.as_str().to_owned()));
    serde_json::Value::from(fields).to_string().into_bytes()
}

/// AES-256-GCM encryption; `None` only for a data key of the wrong length.
pub fn seal_with(
    data_key: &[u8],
    nonce: &[u8; NONCE_BYTES],
    associated_data: &[u8],
    share: &Share,
) -> Option<Vec<u8>> {
    let cipher = cipher(data_key)?;
    let payload = Payload {
        msg: share.expose_secret().as_bytes(),
        aad: associated_data,
    };
    cipher
        .encrypt(&Nonce::<Aes256Gcm>::from(*nonce), payload)
        .ok()
}

/// AES-256-GCM decryption; `None` unless the tag proves key, nonce, associated data and
/// ciphertext are exactly those sealed. The plaintext buffer becomes the share without a copy.
pub fn open_with(
    data_key: &[u8],
    nonce: &[u8; NONCE_BYTES],
    associated_data: &[u8],
    ciphertext: &[u8],
) -> Option<Share> {
    let cipher = cipher(data_key)?;
    let payload = Payload {
        msg: ciphertext,
        aad: associated_data,
    };
    let plaintext = cipher
        .decrypt(&Nonce::<Aes256Gcm>::from(*nonce), payload)
        .ok()?;
    match String::from_utf8(plaintext) {
        Ok(text) => Some(Share::from(text)),
        Err(error) => {
            drop(Zeroizing::new(error.into_bytes()));
            None
        }
    }
}

fn cipher(data_key: &[u8]) -> Option<Aes256Gcm> {
    if data_key.len() != DATA_KEY_BYTES {
        return None;
    }
    Aes256Gcm::new_from_slice(data_key).ok()
}

impl fmt::Debug for SealedShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedShare")
            .field("ciphertext_bytes", &self.ciphertext.len())
            .field("key_id", &self.key_id)
            .field("escrow_key_id", &self.escrow.as_ref().map(|e| &e.key_id))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BackupMethod, BackupSharePairId, ClientId};

    const KEY: [u8; 32] = [7; 32];
    const NONCE: [u8; NONCE_BYTES] = [9; NONCE_BYTES];

    fn owner_aad(client: &str, method: &str) -> Vec<u8> {
        let client_id = ClientId::parse(client).unwrap();
        let backup_method = BackupMethod::parse(method).unwrap();
        associated_data(
            ShareKind::Custodian,
            Owner::new(&client_id, &backup_method, None),
        )
    }

    #[test]
    fn opens_exactly_what_was_sealed() {
        let share = Share::from("{\"share\":\"0xabc\",\"unicode\":\"é\u{0}\"}".to_owned());
        let aad = owner_aad("client", "GDRIVE-SECP256K1");
        let sealed = seal_with(&KEY, &NONCE, &aad, &share).unwrap();
        assert!(!sealed.windows(5).any(|w| w == b"0xabc"));
        let opened = open_with(&KEY, &NONCE, &aad, &sealed).unwrap();
        assert!(opened.same_as(&share));
    }

    #[test]
    fn fails_closed_on_any_change() {
        let share = Share::from("key material".to_owned());
        let aad = owner_aad("client", "PASSKEY");
        let sealed = seal_with(&KEY, &NONCE, &aad, &share).unwrap();
        let mut flipped = sealed.clone();
        flipped[0] ^= 1;
        let mut other_key = KEY;
        other_key[31] ^= 1;
        let mut other_nonce = NONCE;
        other_nonce[0] ^= 1;
        assert!(open_with(&KEY, &NONCE, &aad, &flipped).is_none());
        assert!(open_with(&other_key, &NONCE, &aad, &sealed).is_none());
        assert!(open_with(&KEY, &other_nonce, &aad, &sealed).is_none());
        assert!(open_with(&KEY, &NONCE, &owner_aad("client", "GDRIVE"), &sealed).is_none());
        assert!(open_with(&KEY, &NONCE, &owner_aad("other", "PASSKEY"), &sealed).is_none());
        assert!(open_with(&KEY, &NONCE, &aad, &sealed[..sealed.len() - 1]).is_none());
        assert!(open_with(&KEY[..16], &NONCE, &aad, &sealed).is_none());
    }

    fn sealed(key_id: &str, escrow_key_id: Option<&str>) -> SealedShare {
        SealedShare {
            ciphertext: vec![1],
            nonce: NONCE,
            encrypted_data_key: vec![2],
            key_id: key_id.into(),
            escrow: escrow_key_id.map(|key_id| EscrowWrap {
                encrypted_data_key: vec![3],
                key_id: key_id.into(),
            }),
        }
    }

    #[test]
    fn a_share_is_sealed_again_only_to_gain_todays_keys_and_never_to_lose_its_escrow_wrap() {
        let today = sealed("key-b", Some("escrow-1"));
        assert!(!sealed("key-b", Some("escrow-1")).needs_sealing_again(&today));
        assert!(sealed("key-a", Some("escrow-1")).needs_sealing_again(&today));
        assert!(
            sealed("key-b", None).needs_sealing_again(&today),
            "gains the escrow wrap"
        );
        assert!(sealed("key-b", Some("escrow-0")).needs_sealing_again(&today));
        // Escrow off: the main key decides.
        assert!(!sealed("key-b", None).needs_sealing_again(&sealed("key-b", None)));
        assert!(sealed("key-a", None).needs_sealing_again(&sealed("key-b", None)));
        // Today's escrow wrap failed: a share that has one keeps it, even under an earlier key.
        assert!(!sealed("key-a", Some("escrow-1")).needs_sealing_again(&sealed("key-b", None)));
    }

    #[test]
    fn a_custodian_share_never_opens_as_a_client_share() {
        let share = Share::from("key material".to_owned());
        let (client_id, method) = (
            ClientId::parse("u").unwrap(),
            BackupMethod::parse("P").unwrap(),
        );
        let owner = Owner::new(&client_id, &method, None);
        let sealed = seal_with(
            &KEY,
            &NONCE,
            &associated_data(ShareKind::Custodian, owner),
            &share,
        );
        let as_client = associated_data(ShareKind::Client, owner);
        assert!(open_with(&KEY, &NONCE, &as_client, &sealed.unwrap()).is_none());
        assert!(
            String::from_utf8(as_client)
                .unwrap()
                .starts_with("[\"client-backup/v1\"")
        );
    }

    #[test]
    fn a_pairs_share_opens_only_as_that_pairs() {
        let (client_id, method) = (
            ClientId::parse("u").unwrap(),
            BackupMethod::parse("P").unwrap(),
        );
        let [a, b] = ["a", "b"].map(|pair| BackupSharePairId::parse(pair).unwrap());
        let aad =
            |pair| associated_data(ShareKind::Custodian, Owner::new(&client_id, &method, pair));
        let share = Share::from("key material".to_owned());
        let sealed = seal_with(&KEY, &NONCE, &aad(Some(&a)), &share).unwrap();
        assert!(open_with(&KEY, &NONCE, &aad(Some(&a)), &sealed).is_some());
        assert!(open_with(&KEY, &NONCE, &aad(Some(&b)), &sealed).is_none());
        assert!(open_with(&KEY, &NONCE, &aad(None), &sealed).is_none());
        // The pair-less slot's associated data is the one every earlier share was sealed with.
        assert_eq!(aad(None), br#"["custodian-backup/v1","u","P"]"#);
    }

    #[test]
    fn associated_data_cannot_be_shifted_between_fields() {
        // ("a\",\"b", "c") and ("a", "b\",\"c") must not collide.
        assert_ne!(owner_aad("a\",\"b", "c"), owner_aad("a", "b\",\"c"));
    }
}
