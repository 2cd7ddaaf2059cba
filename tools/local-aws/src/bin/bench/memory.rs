//! Memory and size: each warm function's peak RSS after the warm run and after the largest
//! requests it accepts (eight backups of a body at the size limit, their fetch, the largest
//! answer, and a cipherText at its limit).

use crate::METHODS;
use crate::requests::{body, client_event, status, webhook};
use custodian_backup::domain::client_share::MAX_CIPHER_TEXT_BYTES;
use custodian_backup::http::error::MAX_BODY_BYTES;
use local_aws::runtime_api::Function;
use local_aws::unique;

/// Each function's name, its peak RSS after the warm run and after its largest request, in KiB.
pub type Rss = Vec<(&'static str, u64, u64)>;

/// The peak RSS of `backup`, `fetch` and `client_shares` now, then after their largest requests.
pub async fn measure(backup: &Function, fetch: &Function, client_shares: &Function) -> Rss {
    let functions = [backup, fetch, client_shares];
    let after_warm = functions.map(|function| function.peak_rss_kib()[0]);
    let largest = unique("largest");
    for method in METHODS {
        let filler = "7".repeat(MAX_BODY_BYTES - 200);
        let event = webhook("/backup", &body(&largest, method, &filler));
        assert_eq!(status(&backup.invoke(&event).await), 200);
    }
    let event = webhook("/backup/fetch", &body(&largest, "", ""));
    assert_eq!(status(&fetch.invoke(&event).await), 200);
    let cipher_text = "Q".repeat(MAX_CIPHER_TEXT_BYTES);
    let put = client_event("PUT", &unique("largest"), &cipher_text);
    assert_eq!(status(&client_shares.invoke(&put).await), 200);
    let after_largest = functions.map(|function| function.peak_rss_kib()[0]);
    ["backup", "backup-fetch", "client-backup-shares"]
        .into_iter()
        .zip(after_warm.into_iter().zip(after_largest))
        .map(|(name, (warm, largest))| (name, warm, largest))
        .collect()
}
