//! What an operator relies on: the metrics the real binaries print (Embedded Metric Format), and
//! the template's alarms watching exactly those metrics of exactly this stack.

use custodian_backup::http::metrics::{DIMENSION, NAMESPACE, name};
use local_aws::events::{DEV_SECRET, rest_event, set_header};
use local_aws::runtime_api::{Function, binary};
use local_aws::{Fixture, unique};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Every EMF document a function printed, summed by metric name.
fn metrics_in(logs: &str, stack: &str) -> BTreeMap<String, f64> {
    let mut totals = BTreeMap::new();
    for line in logs.lines() {
        let Ok(document) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(directives) = document["_aws"]["CloudWatchMetrics"].as_array() else {
            continue;
        };
        for directive in directives {
            assert_eq!(directive["Namespace"], NAMESPACE, "{line}");
            assert_eq!(directive["Dimensions"], json!([[DIMENSION]]), "{line}");
            assert_eq!(document[DIMENSION], stack, "{line}");
            for metric in directive["Metrics"].as_array().expect("metrics") {
                let metric = metric["Name"].as_str().expect("a name");
                let values = match &document[metric] {
                    Value::Array(values) => values.iter().filter_map(Value::as_f64).sum(),
                    value => value.as_f64().expect("a number"),
                };
                *totals.entry(metric.to_owned()).or_default() += if metric.ends_with("Latency") {
                    1.0
                } else {
                    values
                };
            }
        }
    }
    totals
}

#[tokio::test]
async fn the_binaries_print_the_metrics_the_alarms_watch() {
    let f = Fixture::new().await;
    let stack = unique("stack");
    let mut env = f.function_env(DEV_SECRET);
    env.push(("STACK_NAME", &stack));
    let backup = Function::start(&binary("backup"), &env).await;
    let fetch = Function::start(&binary("backup-fetch"), &env).await;
    let client = unique("cli");
    let body = json!({ "clientId": client, "backupMethod": "GDRIVE-SECP256K1", "share": "s1" });
    let stored = rest_event("/backup", &body.to_string());
    let mut wrong_secret = stored.clone();
    set_header(&mut wrong_secret, "X-Webhook-Secret", &["wrong"]);
    let malformed = rest_event("/backup", "{");
    for (event, expected) in [
        (&stored, 200),
        (&stored, 200),
        (&wrong_secret, 401),
        (&malformed, 400),
    ] {
        let response = backup.invoke(&event.to_string()).await.unwrap();
        assert_eq!(response["statusCode"], expected);
    }
    let response = fetch
        .invoke(
            &rest_event("/backup/fetch", &json!({ "clientId": client }).to_string()).to_string(),
        )
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 200);

    let backup_metrics = metrics_in(
        &backup
            .output_when(|logs| logs.matches("BackupLatency").count() >= 4)
            .await,
        &stack,
    );
    let expected: BTreeMap<String, f64> = [
        (name::COLD_STARTS, 1.0),
        (name::BACKUPS, 3.0),
        (name::SHARES_CREATED, 1.0),
        (name::SHARES_UNCHANGED, 1.0),
        (name::AUTH_FAILURES, 1.0),
        (name::BAD_REQUESTS, 1.0),
        (name::BACKUP_LATENCY, 4.0),
    ]
    .into_iter()
    .map(|(metric, value)| (metric.to_owned(), value))
    .collect();
    assert_eq!(backup_metrics, expected);

    let mut fetch_metrics = metrics_in(
        &fetch
            .output_when(|logs| logs.contains("FetchLatency"))
            .await,
        &stack,
    );
    let expected: BTreeMap<String, f64> = [
        (name::COLD_STARTS, 1.0),
        (name::FETCHES, 1.0),
        (name::SHARES_RETURNED, 1.0),
        (name::FETCH_LATENCY, 1.0),
    ]
    .into_iter()
    .map(|(metric, value)| (metric.to_owned(), value))
    .collect();
    // The answer's size, which the early-warning alarm watches: the share and its JSON around it.
    let answer_bytes = fetch_metrics.remove(name::FETCH_ANSWER_BYTES);
    assert!(
        answer_bytes.is_some_and(|bytes| bytes > 64.0),
        "{answer_bytes:?}"
    );
    assert_eq!(fetch_metrics, expected);
}

#[test]
fn no_text_promises_what_portal_or_a_503_does_not_do() {
    // Portal deletes its copy once /backup completes, whatever the answer; and a 503 after a
    // timeout may have stored the share. No document, alarm or error message may say otherwise.
    let root = local_aws::repo_root();
    let mut texts: Vec<(String, String)> = ["README.md", "SECURITY.md", "template.yaml"]
        .iter()
        .map(|file| {
            (
                file.to_string(),
                std::fs::read_to_string(root.join(file)).unwrap(),
            )
        })
        .collect();
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "md") {
            texts.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    // Every error message any route answers with.
    for entry in std::fs::read_dir(root.join("shared/src/http")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            texts.push((path.display().to_string(), text));
        }
    }
    assert!(texts.len() > 12, "read only {} texts", texts.len());
    for (file, text) in &texts {
        let flat = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        for claim in [
            "keeps its share until",
            "keeps its copy until",
            "keeps the share until",
            "nothing was changed",
            "nothing changed)",
            "503, nothing changed",
        ] {
            assert!(!flat.contains(claim), "{file} says \"{claim}\"");
        }
    }
}

#[test]
fn every_test_security_md_names_exists() {
    let root = local_aws::repo_root();
    let security = std::fs::read_to_string(root.join("SECURITY.md")).unwrap();
    let mut sources = String::new();
    for dir in ["tests", "shared/src", "fuzz/fuzz_targets"] {
        let mut stack = vec![root.join(dir)];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(
                    std::fs::read_dir(&path)
                        .unwrap()
                        .map(|entry| entry.unwrap().path()),
                );
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                sources.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    // Every `…::name` in backticks is a test function somewhere in the repository, and one named
    // with its file (`tests/it/storage.rs::name`) is in that file, as is a bare `::name` after it
    // on the same line (which reads as the same file).
    let mut named: Vec<(Option<&str>, &str)> = Vec::new();
    for line in security.lines() {
        let mut file = None;
        for quoted in line.split('`').skip(1).step_by(2) {
            let Some((path, name)) = quoted.rsplit_once("::") else {
                continue;
            };
            let is_name = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !is_name {
                continue;
            }
            if path.ends_with(".rs") {
                file = Some(path);
            }
            named.push((
                if path.is_empty() {
                    file
                } else {
                    path.ends_with(".rs").then_some(path)
                },
                name,
            ));
        }
    }
    assert!(named.len() >= 25, "only {} tests named", named.len());
    for (path, name) in named {
        let defines = |text: &str| text.contains(&format!("fn {name}("));
        match path {
            Some(path) => assert!(
                std::fs::read_to_string(root.join(path)).is_ok_and(|text| defines(&text)),
                "SECURITY.md names `{path}::{name}`, which that file does not define"
            ),
            None => assert!(
                defines(&sources),
                "SECURITY.md names `{name}`, which no test defines"
            ),
        }
    }
}
