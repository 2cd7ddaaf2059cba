//! The KMS HMAC key that signs every audit record, so that a record cannot be rewritten, nor a
//! chain rebuilt, by anyone who can only write the audit table: a signature takes a
//! `kms:GenerateMac` call (each one in CloudTrail under its caller's name), and `custody audit`
//! checks every record with `kms:VerifyMac`. The key never leaves KMS.

use crate::aws::error_detail;
use crate::domain::StoreError;
use aws_sdk_kms::Client;
use aws_sdk_kms::operation::verify_mac::VerifyMacError;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::MacAlgorithmSpec;

const ALGORITHM: MacAlgorithmSpec = MacAlgorithmSpec::HmacSha256;

pub struct AuditKey {
    kms: Client,
    key_id: String,
}

impl AuditKey {
    /// `key_id` is the ID, ARN or alias of an `HMAC_256` key for `GENERATE_VERIFY_MAC`.
    pub fn new(kms: Client, key_id: String) -> Self {
        Self { kms, key_id }
    }

    /// The MAC of `message` (a record's SHA-256), as hex.
    pub async fn sign(&self, message: &[u8]) -> Result<String, StoreError> {
        let output = self
            .kms
            .generate_mac()
            .key_id(&self.key_id)
            .mac_algorithm(ALGORITHM)
            .message(Blob::new(message))
            .send()
            .await
            .map_err(|error| StoreError::Unavailable {
                operation: "KMS GenerateMac",
                detail: error_detail(&error),
            })?;
        let mac = output.mac.ok_or(StoreError::Unavailable {
            operation: "KMS GenerateMac",
            detail: "no MAC in the answer".into(),
        })?;
        Ok(hex(mac.as_ref()))
    }

    /// Whether `mac` (hex) is this key's MAC of `message`.
    pub async fn verify(&self, message: &[u8], mac: &str) -> Result<bool, StoreError> {
        let Some(mac) = unhex(mac) else {
            return Ok(false);
        };
        let result = self
            .kms
            .verify_mac()
            .key_id(&self.key_id)
            .mac_algorithm(ALGORITHM)
            .message(Blob::new(message))
            .mac(Blob::new(mac))
            .send()
            .await;
        match result {
            Ok(output) => Ok(output.mac_valid),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(VerifyMacError::KmsInvalidMacException(_))
                ) =>
            {
                Ok(false)
            }
            Err(error) => Err(StoreError::Unavailable {
                operation: "KMS VerifyMac",
                detail: error_detail(&error),
            }),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
