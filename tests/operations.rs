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
        assert_eq!(alarm["TreatMissingData"], "notBreaching", "{id}");
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
