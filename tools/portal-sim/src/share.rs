//! Realistic custodian backup shares: JSON text shaped like Portal's MPC shares (big numbers,
//! nested objects), about 8 KB, with unicode and escapes that must survive byte for byte.

use serde_json::json;

/// A new share for `client_id` and `curve`, different on every call.
pub fn realistic(client_id: &str, curve: &str) -> String {
    let number = |digits: usize| -> String { (0..digits).map(|_| fastrand::digit(10)).collect() };
    let hex = |chars: usize| -> String { (0..chars).map(|_| fastrand::digit(16)).collect() };
    json!({
        "clientId": client_id,
        "backupSharePairId": format!("bsp_{}", hex(24)),
        "signingSharePairId": format!("ssp_{}", hex(24)),
        "curve": curve,
        "share": number(78),
        "ssid": hex(64),
        "p": number(309),
        "q": number(309),
        "bks": {
            "client": { "X": number(78), "Rank": 0 },
            "custodian": { "X": number(78), "Rank": 0 },
        },
        "pubkey": { "X": number(78), "Y": number(78) },
        "partialPubkey": {
            "client": { "X": number(78), "Y": number(78) },
            "custodian": { "X": number(78), "Y": number(78) },
        },
        "pederson": {
            "client": { "n": number(617), "s": number(617), "t": number(617) },
            "custodian": { "n": number(617), "s": number(617), "t": number(617) },
        },
        "allY": { "client": number(78), "custodian": number(78) },
        "note": "portal-sim: é ☃ 😀 \"quoted\" back\\slash\ttab\nnewline \u{0}nul",
    })
    .to_string()
}
