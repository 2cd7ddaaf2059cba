//! `POST {base}/backup/fetch`: Portal reads back every stored share of a client, right after each
//! `/backup` to validate it, and at recovery.

use super::admit::admit;
use super::error::{json, within_budget};
use super::log::RequestLog;
use super::metrics::{Outcome, Route};
use crate::domain::{ClientShares, CurrentShare, Fetch};
use crate::secret::Authenticator;
use crate::store::ShareReader;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use std::convert::Infallible;

/// `POST {base}/backup/fetch`: every current share of the client, exactly as received, in
/// `backupShares`; the legacy `UNKNOWN` share also in `backupShare` for pre-multi-backup Portal.
pub async fn fetch(
    store: &impl ShareReader,
    authenticator: &Authenticator,
    request: Request,
) -> Result<Response<Body>, Infallible> {
    let mut log = RequestLog::start(Route::Fetch);
    let result = async {
        let body = admit(authenticator, &request, &mut log).await?;
        let fetch = Fetch::from_json(body)?;
        log.client_id = Some(fetch.client_id.to_string());
        // Every share unreadable or unopened is an error from the store (`ClientShares::served`).
        within_budget(store.current_shares(&fetch.client_id)).await
    }
    .await;
    Ok(log.finish(result.map(|found| {
        let ClientShares {
            shares,
            unreadable,
            unopened,
        } = found;
        let legacy = shares
            .iter()
            .find(|current| current.backup_method.is_unknown());
        let legacy_bytes = legacy.map_or(0, |legacy| answer_bytes(legacy.share.expose_secret()));
        let (fits, answer_bytes) = fitting(&shares, legacy_bytes);
        let left_out = shares.len() - fits;
        if left_out > 0 {
            tracing::error!(
                left_out,
                answer_bytes,
                "a client's shares exceed one answer: the oldest were left out (docs/operations.md)"
            );
        }
        // Borrowed, not copied: the shares are in memory once more only as the body's text.
        let body = Answer {
            backup_shares: shares[..fits]
                .iter()
                .map(|current| current.share.expose_secret())
                .collect(),
            backup_share: legacy.map(|legacy| legacy.share.expose_secret()),
        };
        let fetched = Outcome::Fetched {
            shares: fits,
            unreadable,
            unopened,
            left_out,
            answer_bytes,
        };
        (fetched, json(StatusCode::OK, &body))
    })))
}

/// Lambda's limit on a response (6 MB), less room for the proxy response's status and headers.
pub const MAX_ANSWER_BYTES: usize = 6 * 1024 * 1024 - 16 * 1024;

/// How many of `shares` (newest first) fit one answer beside the legacy field's `legacy_bytes`,
/// and the answer's size: a client with more is answered with its newest, never with a 5xx.
fn fitting(shares: &[CurrentShare], legacy_bytes: usize) -> (usize, usize) {
    let mut total = legacy_bytes + 64;
    for (index, current) in shares.iter().enumerate() {
        let bytes = answer_bytes(current.share.expose_secret()) + 8;
        if total + bytes > MAX_ANSWER_BYTES {
            return (index, total);
        }
        total += bytes;
    }
    (shares.len(), total)
}

/// A share's size in Lambda's response, without copying it: escaped as a JSON string in the body,
/// and the body escaped again as the proxy response's `body` string.
fn answer_bytes(share: &str) -> usize {
    share
        .chars()
        .map(|c| match c {
            // `\"` then `\\\"`
            '"' | '\\' => 4,
            // `\n` then `\\n`
            '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 3,
            // `\u0001` then `\\u0001`
            c if (c as u32) < 0x20 => 7,
            c => c.len_utf8(),
        })
        .sum()
}

/// `/backup/fetch`'s 200 body.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_share: Option<&'a str>,
    backup_shares: Vec<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shares_size_in_the_answer_is_its_text_escaped_twice() {
        for share in [
            "plain",
            "é ☃ 😀",
            "\"quoted\" back\\slash",
            "\t\n\r\u{8}\u{c}",
            "\u{0}\u{1f}\u{7f}",
        ] {
            let once = serde_json::to_string(share).unwrap();
            let twice = serde_json::to_string(&once).unwrap();
            assert_eq!(answer_bytes(share), twice.len() - 6, "{share:?}");
        }
    }

    #[test]
    fn the_newest_shares_that_fit_are_answered() {
        let share = |text: String| CurrentShare {
            backup_method: crate::domain::BackupMethod::parse("M").unwrap(),
            share: text.into(),
        };
        let megabyte = || share("s".repeat(1024 * 1024));
        let shares: Vec<_> = (0..7).map(|_| megabyte()).collect();
        let (fits, bytes) = fitting(&shares, 0);
        assert_eq!(fits, 5);
        assert!(bytes <= MAX_ANSWER_BYTES);
        assert_eq!(fitting(&shares[..3], 0).0, 3);
        assert_eq!(fitting(&shares[..3], MAX_ANSWER_BYTES).0, 0);
    }
}
