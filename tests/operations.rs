//! What an operator relies on: the metrics the real binaries print (Embedded Metric Format), and
//! the template's alarms watching exactly those metrics of exactly this stack.

use custodian_backup::telemetry::{DIMENSION, NAMESPACE, name};
use serde_json::{Value, json};
use serde_norway::Value as Yaml;
use std::collections::BTreeMap;
use webhook_tests::events::{DEV_SECRET, rest_event, set_header};
use webhook_tests::runtime_api::{Function, binary};
use webhook_tests::{Fixture, unique};

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

    let fetch_metrics = metrics_in(
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
    assert_eq!(fetch_metrics, expected);
}

/// `!Ref X` as `X`.
fn reference(value: &Yaml) -> Option<&str> {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        _ => None,
    }
}

#[test]
fn every_alarm_watches_a_metric_the_functions_emit_of_this_stack_and_notifies_the_topic() {
    let template = webhook_tests::template::template();
    let resources = template["Resources"].as_mapping().expect("resources");
    let alarms: BTreeMap<&str, &Yaml> = resources
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::CloudWatch::Alarm")
        .map(|(id, resource)| (id.as_str().expect("an id"), &resource["Properties"]))
        .collect();
    for required in [
        "Webhook5xxAlarm",
        "StorageErrorsAlarm",
        "StoredShareUnreadableAlarm",
        "AuthFailuresAlarm",
        "ThrottlingAlarm",
        "FetchVolumeAlarm",
        "Webhook4xxAlarm",
        "ReplacementsAlarm",
        "EjectVolumeAlarm",
        "NoSuccessfulBackupAlarm",
    ] {
        assert!(alarms.contains_key(required), "{required} is missing");
    }
    for (id, alarm) in &alarms {
        for actions in ["AlarmActions", "OKActions"] {
            let wired = format!("{:?}", alarm[actions]);
            assert!(
                wired.contains("HasAlarmTopic") && wired.contains("AlarmTopicArn"),
                "{id}: {actions} must notify AlarmTopicArn when given"
            );
        }
        // Silence is the one thing the no-backup alarm is for; every other alarm counts events.
        let silence = if *id == "NoSuccessfulBackupAlarm" {
            "breaching"
        } else {
            "notBreaching"
        };
        assert_eq!(alarm["TreatMissingData"], silence, "{id}");
        let metrics: Vec<&Yaml> = match alarm["Metrics"].as_sequence() {
            Some(queries) => queries
                .iter()
                .filter(|query| !query["MetricStat"].is_null())
                .map(|query| &query["MetricStat"]["Metric"])
                .collect(),
            None => vec![alarm],
        };
        assert!(!metrics.is_empty(), "{id} watches nothing");
        for metric in metrics {
            let metric_name = metric["MetricName"].as_str().expect("a metric name");
            if metric["Namespace"] == NAMESPACE {
                assert!(
                    name::ALL.contains(&metric_name),
                    "{id} watches {metric_name}, which the functions never emit"
                );
                let dimensions = metric["Dimensions"].as_sequence().expect("dimensions");
                assert_eq!(dimensions.len(), 1, "{id}");
                assert_eq!(dimensions[0]["Name"], DIMENSION, "{id}");
                assert_eq!(
                    reference(&dimensions[0]["Value"]),
                    Some("AWS::StackName"),
                    "{id}"
                );
            }
        }
    }
    // The stack name reaches the functions as the dimension value.
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(reference(&env["STACK_NAME"]), Some("AWS::StackName"));
    // Webhook5xxAlarm finds the API by the name the template gives it.
    let api_name = format!(
        "{:?}",
        template["Resources"]["WebhookApi"]["Properties"]["Name"]
    );
    let watched = format!("{:?}", alarms["Webhook5xxAlarm"]["Dimensions"][0]["Value"]);
    assert_eq!(api_name, watched);
}

#[test]
fn the_api_logs_every_request_without_a_body_throttles_and_alarms_on_refusals_and_silence() {
    let template = webhook_tests::template::template();
    let api = &template["Resources"]["WebhookApi"]["Properties"];
    // Access logs: JSON, one line per request, with who called and how it ended; never a body,
    // a header or the secret.
    let format = api["AccessLogSetting"]["Format"]
        .as_str()
        .expect("an access log format");
    let line: serde_json::Value = serde_json::from_str(format).expect("a JSON line");
    for field in ["sourceIp", "status", "latencyMs", "path", "requestId"] {
        assert!(
            line.get(field).is_some(),
            "access logs need {field}: {format}"
        );
    }
    for never in ["body", "requestBody", "header", "X-Webhook-Secret"] {
        assert!(
            !format.to_lowercase().contains(&never.to_lowercase()),
            "{never} in {format}"
        );
    }
    let destination = format!("{:?}", api["AccessLogSetting"]["DestinationArn"]);
    assert!(destination.contains("ApiAccessLogs"), "{destination}");
    let logs = &template["Resources"]["ApiAccessLogs"];
    assert!(format!("{:?}", logs["Properties"]["RetentionInDays"]).contains("LogRetentionDays"));
    // Stage throttling on every method.
    let settings = &api["MethodSettings"][0];
    assert_eq!(settings["ResourcePath"], "/*");
    assert_eq!(settings["HttpMethod"], "*");
    assert_eq!(
        reference(&settings["ThrottlingRateLimit"]),
        Some("ThrottlingRateLimit")
    );
    assert_eq!(
        reference(&settings["ThrottlingBurstLimit"]),
        Some("ThrottlingBurstLimit")
    );
    // A 403 from the allow-list never reaches Lambda: API Gateway's own 4XX metric is watched.
    let four = &template["Resources"]["Webhook4xxAlarm"]["Properties"];
    assert_eq!(
        (four["Namespace"].as_str(), four["MetricName"].as_str()),
        (Some("AWS/ApiGateway"), Some("4XXError"))
    );
    // No successful backup for N hours: off by default, on with the parameter.
    let hours = &template["Parameters"]["NoSuccessfulBackupHours"];
    assert_eq!(hours["Default"].as_u64(), Some(0));
    let silent = &template["Resources"]["NoSuccessfulBackupAlarm"];
    assert_eq!(silent["Condition"], "NoSuccessfulBackupAlarmOn");
    assert_eq!(
        reference(&silent["Properties"]["EvaluationPeriods"]),
        Some("NoSuccessfulBackupHours")
    );
    assert_eq!(
        silent["Properties"]["ComparisonOperator"],
        "LessThanThreshold"
    );
}

#[test]
fn no_text_promises_what_portal_or_a_503_does_not_do() {
    // Portal deletes its copy once /backup completes, whatever the answer; and a 503 after a
    // timeout may have stored the share. No document, alarm or error message may say otherwise.
    let root = webhook_tests::repo_root();
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
    for file in ["error.rs", "handler/mod.rs", "handler/eject.rs"] {
        let path = root.join("shared/src").join(file);
        texts.push((file.to_owned(), std::fs::read_to_string(path).unwrap()));
    }
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
    let root = webhook_tests::repo_root();
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
    // Every `…::name` in backticks is a test function somewhere in the repository.
    let names: Vec<&str> = security
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|quoted| quoted.rsplit_once("::").map(|(_, name)| name))
        .filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .collect();
    assert!(names.len() >= 25, "only {} tests named", names.len());
    for name in names {
        assert!(
            sources.contains(&format!("fn {name}(")),
            "SECURITY.md names `{name}`, which no test defines"
        );
    }
}
