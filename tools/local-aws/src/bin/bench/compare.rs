//! `bench --compare A.json B.json`: two runs' figures side by side (loopback next to deployed),
//! with what the second adds.

use serde_json::Value;

/// The figures compared: (section, field, what the row calls it). Sections absent from a run
/// (the Node.js peer when it was not measured) print as "-".
const FIGURES: [(&str, &str, &str); 8] = [
    ("cold", "readyMedianMs", "ready"),
    ("cold", "firstRequestMedianMs", "first request"),
    ("cold", "rawNewClientsMedianMs", "raw SDK, new clients"),
    ("connection", "costMs", "a new connection"),
    ("warm", "handlerP50Ms", "handler p50"),
    ("warm", "rawP50Ms", "raw SDK p50"),
    ("node", "medianMs", "Node.js 20, SDK v3"),
    ("warm", "overheadP50", "overhead p50 (ratio)"),
];

pub fn print(a: &Value, b: &Value) {
    let title = |run: &Value| match run["roundTripMs"].as_f64() {
        Some(ms) => format!("{} (TLS, {ms:.2} ms round trip)", text(&run["network"])),
        None => text(&run["network"]).to_owned(),
    };
    println!(
        "commits {} and {}, profile {}\n",
        text(&a["commit"]),
        text(&b["commit"]),
        text(&a["profile"])
    );
    println!(
        "| figure (medians) | {} | {} | the second adds |",
        title(a),
        title(b)
    );
    println!("|---|---|---|---|");
    for (section, field, label) in FIGURES {
        let Some(rows) = a[section].as_object() else {
            continue;
        };
        for (row, figures) in rows {
            let first = figures[field].as_f64();
            let second = b[section][row][field].as_f64();
            let Some(first) = first else { continue };
            let unit = if field.ends_with("Ms") { " ms" } else { "" };
            let shown = |v: Option<f64>| {
                v.map(|v| format!("{v:.2}{unit}"))
                    .unwrap_or_else(|| "-".into())
            };
            println!(
                "| {row}: {label} | {} | {} | {} |",
                shown(Some(first)),
                shown(second),
                shown(second.map(|s| s - first))
            );
        }
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("?")
}
