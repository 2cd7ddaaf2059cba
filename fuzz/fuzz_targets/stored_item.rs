//! Any item as read back from DynamoDB, and any envelope: decoding never panics, never guesses
//! (an item missing a part of its envelope, or the whole envelope, is refused), and nothing
//! opens without the exact key, nonce, owner and ciphertext.
#![no_main]

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use custodian_backup::domain::envelope::{NONCE_BYTES, open_with};
use custodian_backup::store::dynamodb::{Item, StoredShare, schema};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 9] = [
    // A plaintext `share` attribute, which is never read.
    "share",
    schema::SEALED_SHARE,
    schema::NONCE,
    schema::ENCRYPTED_DATA_KEY,
    schema::KMS_KEY_ID,
    schema::SEAL_FORMAT,
    schema::SHARE_SHA256,
    schema::SHARE_BYTES,
    schema::VERSION,
];

fuzz_target!(|data: &[u8]| {
    // Each record: a name (index), a type, a length, then that many bytes of value.
    let mut item = Item::new();
    let mut rest = data;
    while let [name, kind, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (value, tail) = tail.split_at(len);
        let text = String::from_utf8_lossy(value).into_owned();
        let value = match kind % 4 {
            0 => AttributeValue::S(text),
            1 => AttributeValue::N(text),
            2 => AttributeValue::B(Blob::new(value)),
            _ => AttributeValue::Bool(len % 2 == 0),
        };
        item.insert(NAMES[usize::from(*name) % NAMES.len()].to_owned(), value);
        rest = tail;
    }
    match StoredShare::from_item(&item) {
        Ok(StoredShare { sealed, sha256 }) => {
            assert!(item.contains_key(schema::SEALED_SHARE), "no envelope, yet read");
            assert_eq!(sha256.len(), 64);
            assert_eq!(sealed.nonce.len(), NONCE_BYTES);
            // A forged envelope never opens under a key it was not sealed with.
            let key = [0x42u8; 32];
            assert!(open_with(&key, &sealed.nonce, b"owner", &sealed.ciphertext).is_none());
        }
        Err(_) => {}
    }
});
