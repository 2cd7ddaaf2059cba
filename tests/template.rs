//! `template.yaml` read as CloudFormation will: tables, keys, permissions, routes and alarms.
//! Every static check of the template is here; what the template makes is exercised against
//! DynamoDB Local and the real binaries in the other tests.

use custodian_backup::budget;
use custodian_backup::http::metrics::{DIMENSION, NAMESPACE, name};
use custodian_backup::store::dynamodb::schema;
use local_aws::template;
use serde_norway::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};

/// `!Ref X` as `X`.
fn reference(value: &Yaml) -> Option<&str> {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        _ => None,
    }
}

/// A KMS statement usable only as DynamoDB or Secrets Manager encrypts at rest (`kms:ViaService`):
/// never a direct call, so never a share's key.
fn at_rest_only(statement: &Yaml) -> bool {
    let service = format!(
        "{:?}",
        statement["Condition"]["StringEquals"]["kms:ViaService"]
    );
    template::actions(statement)
        .iter()
        .all(|action| action.starts_with("kms:"))
        && statement["Resource"].as_str() == Some("*")
        && (service.contains("dynamodb.${AWS::Region}")
            || service.contains("secretsmanager.${AWS::Region}"))
}

#[test]
fn every_function_times_out_as_the_budgets_assume() {
    let template = template::template();
    let timeout = template["Globals"]["Function"]["Timeout"].as_u64();
    assert_eq!(timeout, Some(budget::LAMBDA_TIMEOUT.as_secs()));
}

#[test]
fn the_eject_route_is_off_by_default_iam_only_and_may_write_only_audit_records() {
    let template = template::template();
    assert_eq!(
        template["Parameters"]["EnableEjectEndpoint"]["Default"].as_str(),
        Some("false")
    );
    let eject = &template["Resources"]["EjectFunction"];
    assert_eq!(eject["Condition"].as_str(), Some("EjectEndpointEnabled"));
    let properties = &eject["Properties"];
    let event = &properties["Events"]["Eject"]["Properties"];
    assert_eq!(event["Method"].as_str(), Some("GET"));
    assert_eq!(
        event["Path"].as_str(),
        Some("/clients/{clientId}/custodian-shares/{backupMethod}")
    );
    assert_eq!(event["Auth"]["Authorizer"].as_str(), Some("AWS_IAM"));
    assert_eq!(event["Auth"]["InvokeRole"].as_str(), Some("NONE"));
    // It never learns where the webhook secret is, and may read it nowhere.
    assert_eq!(
        properties["Environment"]["Variables"]["WEBHOOK_SECRET_ARN"].as_str(),
        Some("")
    );
    let statements = properties["Policies"][0]["Statement"]
        .as_sequence()
        .unwrap();
    let policy = format!("{statements:?}");
    assert!(
        !policy.contains("secretsmanager")
            && !policy.contains("Scan")
            && !policy.contains("Delete")
    );
    for statement in statements {
        let actions = template::actions(statement);
        let resource = format!("{:?}", statement["Resource"]);
        if at_rest_only(statement) {
            continue;
        }
        assert!(!resource.contains("HistoryTable"), "{resource}");
        if resource.contains("AuditTable") {
            assert_eq!(
                actions,
                ["dynamodb:PutItem", "dynamodb:Query"],
                "adds audit records, chained to the newest"
            );
        } else {
            assert!(resource.contains("SharesTable"), "{resource}");
            assert_eq!(actions, ["dynamodb:GetItem", "dynamodb:Query"]);
        }
    }
    // The open Allow of the webhooks does not reach the eject route: only IAM policies do.
    let policy = &template["Resources"]["WebhookApi"]["Properties"]["Auth"]["ResourcePolicy"];
    for statement in policy["CustomStatements"].as_sequence().unwrap() {
        let (_, statement) = template::conditional(statement);
        if statement["Effect"].as_str() == Some("Allow") {
            let resources = format!("{:?}", statement["Resource"]);
            assert!(
                !resources.contains("/*\"") && !resources.contains("clients"),
                "{resources}"
            );
        }
    }
}

#[test]
fn the_eject_route_admits_only_the_named_callers_and_its_volume_is_alarmed() {
    let template = template::template();
    assert_eq!(
        template["Parameters"]["EjectCallerArns"]["Default"].as_str(),
        Some(""),
        "no one unless named"
    );
    let policy = &template["Resources"]["WebhookApi"]["Properties"]["Auth"]["ResourcePolicy"];
    let deny = policy["CustomStatements"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(template::conditional)
        .find(|(condition, _)| *condition == Some("EjectEndpointEnabled"))
        .map(|(_, statement)| statement)
        .expect("a statement for the eject routes");
    assert_eq!(deny["Effect"].as_str(), Some("Deny"));
    assert_eq!(deny["Principal"].as_str(), Some("*"));
    let resources = format!("{:?}", deny["Resource"]);
    assert!(
        resources.contains("GET/clients/*/custodian-shares\""),
        "{resources}"
    );
    assert!(
        resources.contains("GET/clients/*/custodian-shares/*"),
        "{resources}"
    );
    let named = format!(
        "{:?}",
        deny["Condition"]["StringNotEquals"]["aws:PrincipalArn"]
    );
    assert!(named.contains("EjectCallerArns"), "{named}");
    let events = &template["Resources"]["EjectFunction"]["Properties"]["Events"];
    assert_eq!(
        events["EjectAll"]["Properties"]["Path"].as_str(),
        Some("/clients/{clientId}/custodian-shares")
    );
    assert_eq!(
        events["EjectAll"]["Properties"]["Auth"]["Authorizer"].as_str(),
        Some("AWS_IAM")
    );
    let alarm = &template["Resources"]["EjectVolumeAlarm"];
    assert_eq!(alarm["Condition"].as_str(), Some("EjectEndpointEnabled"));
    assert_eq!(
        alarm["Properties"]["MetricName"].as_str(),
        Some("Invocations")
    );
    let readme = std::fs::read_to_string(local_aws::repo_root().join("SECURITY.md")).unwrap();
    assert!(
        readme.contains("lambda:InvokeFunction"),
        "SECURITY.md says a direct invoke of the eject function reads shares"
    );
}

#[test]
fn every_alarm_watches_a_metric_the_functions_emit_of_this_stack_and_notifies_the_topic() {
    let template = template::template();
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
        "WebhookLatencyAlarm",
        "StoredShareUnopenedAlarm",
        "SharesLeftOutAlarm",
        "FetchAnswerNearLimitAlarm",
    ] {
        assert!(alarms.contains_key(required), "{required} is missing");
    }
    for (id, alarm) in &alarms {
        for actions in ["AlarmActions", "OKActions"] {
            let wired = format!("{:?}", alarm[actions]);
            assert!(
                wired.contains("CreateAlarmTopic")
                    && wired.contains("\"AlarmTopic\"")
                    && wired.contains("AlarmTopicArn"),
                "{id}: {actions} must notify the stack's topic, or AlarmTopicArn when given"
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
    let template = template::template();
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
fn the_share_key_lets_each_function_do_one_thing_and_only_for_a_bound_context() {
    let template = template::template();
    let key = &template["Resources"]["ShareKey"];
    assert_eq!(key["DeletionPolicy"].as_str(), Some("Retain"));
    assert_eq!(key["UpdateReplacePolicy"].as_str(), Some("Retain"));
    assert_eq!(key["Properties"]["EnableKeyRotation"].as_bool(), Some(true));
    assert_eq!(key["Properties"]["PendingWindowInDays"].as_u64(), Some(30));
    let statements = key["Properties"]["KeyPolicy"]["Statement"]
        .as_sequence()
        .expect("key policy statements");
    let mut uses = Vec::new();
    for statement in statements {
        let (only_when, statement) = template::conditional(statement);
        assert_eq!(statement["Effect"].as_str(), Some("Allow"));
        let principal = format!("{:?}", statement["Principal"]["AWS"]);
        let actions = template::actions(statement);
        if principal.contains(":root") {
            // Administration only: nothing that uses the key or hands out a grant to use it.
            for action in &actions {
                assert!(
                    !action.contains('*'),
                    "no wildcard for the account root: {action}"
                );
                // ReplicateKey copies the key under a policy of the caller's choosing.
                for usage in [
                    "Decrypt",
                    "Encrypt",
                    "GenerateDataKey",
                    "ReEncrypt",
                    "CreateGrant",
                    "ReplicateKey",
                    "UpdatePrimaryRegion",
                ] {
                    assert_ne!(
                        action.as_str(),
                        format!("kms:{usage}"),
                        "root may not {usage}"
                    );
                }
            }
            continue;
        }
        if statement["Sid"].as_str() == Some("BreakGlassReplication") {
            // Only the named break-glass principals, and only when named (nobody by default).
            assert_eq!(only_when, Some("HasShareKeyReplicators"));
            assert!(principal.contains("ShareKeyReplicatorArns"), "{principal}");
            assert_eq!(actions, ["kms:ReplicateKey", "kms:UpdatePrimaryRegion"]);
            continue;
        }
        if statement["Sid"].as_str() == Some("WebhooksDescribeKeyDuringInit") {
            // Metadata only, for the two webhooks' init (it opens their KMS connection).
            assert_eq!(only_when, None);
            let roles = statement["Principal"]["AWS"].as_sequence().unwrap();
            assert_eq!(roles.len(), 2, "{principal}");
            assert!(
                principal.contains("BackupFunctionRole") && principal.contains("FetchFunctionRole"),
                "{principal}"
            );
            assert_eq!(actions, ["kms:DescribeKey"]);
            continue;
        }
        let condition = &statement["Condition"];
        let keys = &condition["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"];
        assert_eq!(
            format!("{keys:?}"),
            format!(
                "{:?}",
                serde_norway::Value::from(vec!["clientId", "backupMethod"])
            )
        );
        for context in [
            "kms:EncryptionContext:clientId",
            "kms:EncryptionContext:backupMethod",
        ] {
            assert_eq!(
                condition["Null"][context].as_str(),
                Some("false"),
                "{context}"
            );
        }
        uses.push((principal, only_when, actions));
    }
    // The two webhooks always; the eject function and named operators only when deployed so.
    // Named operators open shares for custody export, and seal them again for custody reseal.
    let expected: [(&str, Option<&str>, &[&str]); 4] = [
        ("BackupFunctionRole", None, &["kms:GenerateDataKey"]),
        ("FetchFunctionRole", None, &["kms:Decrypt"]),
        (
            "EjectFunctionRole",
            Some("EjectEndpointEnabled"),
            &["kms:Decrypt"],
        ),
        (
            "ShareKeyOperatorArns",
            Some("HasShareKeyOperators"),
            &["kms:Decrypt", "kms:GenerateDataKey"],
        ),
    ];
    assert_eq!(uses.len(), expected.len(), "nobody else may use the key");
    for ((principal, only_when, actions), (who, only_if, allowed)) in uses.iter().zip(expected) {
        assert!(principal.contains(who), "{principal}");
        assert_eq!(*only_when, only_if, "{principal}");
        assert_eq!(actions, allowed, "{principal}");
    }
}

#[test]
fn the_api_admits_only_portals_addresses_by_default_and_the_secret_is_not_a_parameter() {
    let template = template::template();
    let cidrs = template["Parameters"]["AllowedSourceCidrs"]["Default"]
        .as_str()
        .expect("a default allow-list");
    assert_eq!(
        cidrs,
        "35.203.150.117/32,104.155.171.139/32,35.185.20.23/32"
    );
    let policy = format!(
        "{:?}",
        template["Resources"]["WebhookApi"]["Properties"]["Auth"]["ResourcePolicy"]
    );
    assert!(
        policy.contains("NotIpAddress") && policy.contains("AllowedSourceCidrs"),
        "{policy}"
    );
    let variables = &template["Globals"]["Function"]["Environment"]["Variables"];
    let globals = format!("{variables:?}");
    assert!(globals.contains("WEBHOOK_SECRET_ARN") && globals.contains("SHARE_KEY_ID"));
    // The variables only `sam local` sets exist deployed only if SamLocal is "true" (default
    // "false"), and even then hold nothing: no secret in the plain environment, no endpoint.
    assert_eq!(
        template["Parameters"]["SamLocal"]["Default"].as_str(),
        Some("false")
    );
    for local_only in [
        "WEBHOOK_SECRET",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    ] {
        let (condition, value) = template::conditional(&variables[local_only]);
        assert_eq!(condition, Some("IsSamLocal"), "{local_only}");
        assert_eq!(value.as_str(), Some(""), "{local_only}");
    }
    for name in template["Parameters"].as_mapping().unwrap().keys() {
        let name = name.as_str().unwrap();
        assert!(
            !name.contains("Secret") || name.ends_with("Arn"),
            "{name}: the secret is never a template parameter"
        );
    }
}

#[test]
fn tables_in_the_template_use_the_attribute_names_the_store_writes() {
    let shares = template::table("SharesTable");
    assert_eq!(
        shares.key_schema,
        [
            (schema::CLIENT_ID.into(), "HASH".into()),
            (schema::BACKUP_METHOD.into(), "RANGE".into())
        ]
    );
    assert_eq!(
        shares.attributes,
        [
            (schema::CLIENT_ID.into(), "S".into()),
            (schema::BACKUP_METHOD.into(), "S".into())
        ]
    );
    assert_eq!(shares.ttl_attribute, None, "current shares never expire");
    let history = template::table("HistoryTable");
    assert_eq!(
        history.key_schema,
        [
            (schema::OWNER.into(), "HASH".into()),
            (schema::VERSION.into(), "RANGE".into())
        ]
    );
    assert_eq!(
        history.attributes,
        [
            (schema::OWNER.into(), "S".into()),
            (schema::VERSION.into(), "N".into())
        ]
    );
    assert_eq!(history.ttl_attribute.as_deref(), Some(schema::EXPIRES_AT));
    let audit = template::table("AuditTable");
    assert_eq!(
        audit.key_schema,
        [
            (schema::OWNER.into(), "HASH".into()),
            (schema::RECORDED_AT.into(), "RANGE".into())
        ]
    );
}

#[test]
fn the_template_grants_each_function_only_the_actions_it_uses() {
    let template = template::template();
    // (action, target), where a history grant limited to history rows is "history rows".
    let grants = |function: &str| -> BTreeSet<(String, String)> {
        let policies = &template["Resources"][function]["Properties"]["Policies"];
        let mut grants = BTreeSet::new();
        for policy in policies
            .as_sequence()
            .expect("inline policies only, no SAM policy templates")
        {
            for statement in policy["Statement"].as_sequence().expect("statements") {
                let (only_when, statement) = template::conditional(statement);
                assert_eq!(statement["Effect"].as_str(), Some("Allow"));
                let resource = format!("{:?}", statement["Resource"]);
                let service = format!(
                    "{:?}",
                    statement["Condition"]["StringEquals"]["kms:ViaService"]
                );
                for action in template::actions(statement) {
                    if at_rest_only(statement) {
                        let what = if service.contains("dynamodb") {
                            "tables at rest"
                        } else {
                            "secret at rest"
                        };
                        grants.insert((action, what.to_owned()));
                        continue;
                    }
                    let target = if resource.contains("HistoryTable.Arn") {
                        // An expiry only with pruning opted into (HistoryRetentionDays).
                        if action == "dynamodb:UpdateItem" {
                            assert_eq!(only_when, Some("PruningOn"), "{function}");
                            "history, pruning on"
                        } else {
                            "history"
                        }
                    } else if resource.contains("SharesTable.Arn") {
                        "shares"
                    } else if resource.contains("AuditTable.Arn") {
                        "audit"
                    } else if resource.contains("WebhookSecret") {
                        "secret"
                    } else if resource.contains("EscrowKeyArn") {
                        // A second wrap of each data key, only with an escrow key.
                        assert_eq!(only_when, Some("EscrowOn"), "{function}");
                        "escrow key, if set"
                    } else {
                        panic!("{resource} is not one table's or the secret's ARN")
                    };
                    grants.insert((action, target.to_owned()));
                }
            }
        }
        grants
    };
    let pair = |action: &str, table: &str| (action.to_owned(), table.to_owned());
    assert_eq!(
        grants("BackupFunction"),
        BTreeSet::from([
            pair("dynamodb:GetItem", "shares"),
            pair("dynamodb:PutItem", "shares"),
            pair("dynamodb:PutItem", "history"),
            pair("dynamodb:Query", "history"),
            pair("dynamodb:UpdateItem", "history, pruning on"),
            pair("kms:Encrypt", "escrow key, if set"),
            pair("secretsmanager:GetSecretValue", "secret"),
            pair("kms:Decrypt", "secret at rest"),
            pair("kms:Decrypt", "tables at rest"),
            pair("kms:DescribeKey", "tables at rest"),
            pair("kms:Encrypt", "tables at rest"),
            pair("kms:GenerateDataKey*", "tables at rest"),
            pair("kms:ReEncrypt*", "tables at rest"),
        ]),
        "the internet-facing backup function cannot write audit records"
    );
    assert_eq!(
        grants("FetchFunction"),
        BTreeSet::from([
            pair("dynamodb:GetItem", "shares"),
            pair("dynamodb:Query", "shares"),
            pair("secretsmanager:GetSecretValue", "secret"),
            pair("kms:Decrypt", "secret at rest"),
            pair("kms:Decrypt", "tables at rest"),
            pair("kms:DescribeKey", "tables at rest"),
        ])
    );
    assert_eq!(
        grants("EjectFunction"),
        BTreeSet::from([
            pair("dynamodb:GetItem", "shares"),
            pair("dynamodb:Query", "shares"),
            pair("dynamodb:PutItem", "audit"),
            pair("dynamodb:Query", "audit"),
            pair("kms:Decrypt", "tables at rest"),
            pair("kms:DescribeKey", "tables at rest"),
            pair("kms:Encrypt", "tables at rest"),
            pair("kms:GenerateDataKey*", "tables at rest"),
            pair("kms:ReEncrypt*", "tables at rest"),
        ])
    );
}

#[test]
fn the_tables_survive_stack_deletion_and_keep_point_in_time_recovery() {
    let template = template::template();
    assert_eq!(
        template::table("AuditTable").ttl_attribute,
        None,
        "audit records never expire"
    );
    assert_eq!(
        template["Parameters"]["HistoryRetentionDays"]["Default"].as_u64(),
        Some(0),
        "history kept forever by default"
    );
    for table in ["SharesTable", "HistoryTable", "AuditTable"] {
        let resource = &template["Resources"][table];
        assert_eq!(
            resource["DeletionPolicy"].as_str(),
            Some("Retain"),
            "{table}"
        );
        assert_eq!(
            resource["UpdateReplacePolicy"].as_str(),
            Some("Retain"),
            "{table}"
        );
        let properties = &resource["Properties"];
        assert_eq!(
            properties["DeletionProtectionEnabled"].as_bool(),
            Some(true),
            "{table}"
        );
        assert_eq!(
            properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
            Some(true)
        );
        assert_eq!(properties["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    }
}

/// `!GetAtt X.Arn` as `X`.
fn arn_of(value: &Yaml) -> Option<&str> {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "GetAtt" => {
            tagged.value.as_str()?.strip_suffix(".Arn")
        }
        // `!If [CreateX, !GetAtt X.Arn, <an adopted table's ARN>]`
        Yaml::Tagged(tagged) if tagged.tag == "If" => arn_of(&tagged.value.as_sequence()?[1]),
        _ => None,
    }
}

#[test]
fn every_table_is_backed_up_daily_into_a_retained_vault_for_a_year_by_default() {
    let template = template::template();
    let resources = &template["Resources"];
    let parameters = &template["Parameters"];
    assert_eq!(
        parameters["BackupRetentionDays"]["Default"].as_u64(),
        Some(365)
    );
    assert_eq!(
        parameters["BackupCopyVaultArn"]["Default"].as_str(),
        Some("")
    );
    assert_eq!(
        parameters["BackupVaultLock"]["Default"].as_str(),
        Some("off")
    );

    let vault = &resources["BackupVault"];
    assert_eq!(vault["Type"].as_str(), Some("AWS::Backup::BackupVault"));
    assert_eq!(vault["DeletionPolicy"].as_str(), Some("Retain"));
    assert_eq!(vault["UpdateReplacePolicy"].as_str(), Some("Retain"));
    let (lock_only_when, lock) = template::conditional(&vault["Properties"]["LockConfiguration"]);
    assert_eq!(lock_only_when, Some("BackupVaultLocked"));
    assert_eq!(
        reference(&lock["MinRetentionDays"]),
        Some("BackupRetentionDays")
    );

    let rule = &resources["BackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"][0];
    assert_eq!(reference(&rule["TargetBackupVault"]), Some("BackupVault"));
    assert_eq!(
        rule["ScheduleExpression"].as_str(),
        Some("cron(0 5 * * ? *)")
    );
    assert_eq!(
        reference(&rule["Lifecycle"]["DeleteAfterDays"]),
        Some("BackupRetentionDays")
    );
    let (copy_only_when, copies) = template::conditional(&rule["CopyActions"]);
    assert_eq!(copy_only_when, Some("HasBackupCopy"));
    assert_eq!(
        reference(&copies[0]["DestinationBackupVaultArn"]),
        Some("BackupCopyVaultArn")
    );

    let selection = &resources["BackupSelection"]["Properties"]["BackupSelection"];
    assert_eq!(arn_of(&selection["IamRoleArn"]), Some("BackupRole"));
    let selected: BTreeSet<&str> = selection["Resources"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(arn_of)
        .collect();
    let tables: BTreeSet<&str> = resources
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::DynamoDB::Table"))
        // Where the hourly reconcile is in its walk: rebuilt by the next walk, no share in it.
        .filter(|(id, _)| id.as_str() != Some("ReconcileStateTable"))
        .filter_map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        selected, tables,
        "every table, and only tables, is backed up"
    );
    assert_eq!(
        tables.len(),
        6,
        "three of custodian shares, three of client shares"
    );
}

#[test]
fn a_custom_domain_keeps_portals_url_when_the_stack_is_rebuilt() {
    let template = template::template();
    let resources = &template["Resources"];
    assert_eq!(
        template["Parameters"]["DomainName"]["Default"].as_str(),
        Some("")
    );
    for id in ["WebhookDomain", "WebhookDomainMapping"] {
        assert_eq!(
            resources[id]["Condition"].as_str(),
            Some("HasDomainName"),
            "{id}"
        );
    }
    let domain = &resources["WebhookDomain"]["Properties"];
    assert_eq!(reference(&domain["DomainName"]), Some("DomainName"));
    assert_eq!(
        reference(&domain["RegionalCertificateArn"]),
        Some("CertificateArn")
    );
    assert_eq!(domain["SecurityPolicy"].as_str(), Some("TLS_1_2"));
    let mapping = &resources["WebhookDomainMapping"]["Properties"];
    assert_eq!(reference(&mapping["RestApiId"]), Some("WebhookApi"));
    assert!(
        mapping["BasePath"].is_null(),
        "the domain's root is the base URL"
    );
    // The URL to register is the domain's when there is one.
    let url = &template["Outputs"]["WebhookBaseUrl"]["Value"];
    let (only_when, with_domain) = template::conditional(url);
    assert_eq!(only_when, Some("HasDomainName"));
    assert!(
        format!("{with_domain:?}").contains("https://${DomainName}"),
        "{with_domain:?}"
    );
    // The execute-api URL is turned off only when a domain replaces it.
    let disable = &resources["WebhookApi"]["Properties"]["DisableExecuteApiEndpoint"];
    assert_eq!(
        template::conditional(disable).0,
        Some("ExecuteApiEndpointOff")
    );
    let condition = format!("{:?}", template["Conditions"]["ExecuteApiEndpointOff"]);
    assert!(condition.contains("HasDomainName"), "{condition}");
}

#[test]
fn the_share_key_is_multi_region_and_a_recovery_stack_replicates_it_with_the_same_policy() {
    let template = template::template();
    let resources = &template["Resources"];
    let parameters = &template["Parameters"];
    assert_eq!(
        parameters["ShareKeyMultiRegion"]["Default"].as_str(),
        Some("true")
    );
    assert_eq!(
        parameters["PrimaryShareKeyArn"]["Default"].as_str(),
        Some("")
    );
    let primary = &resources["ShareKey"];
    let replica = &resources["ShareReplicaKey"];
    assert_eq!(primary["Condition"].as_str(), Some("CreateShareKey"));
    assert_eq!(replica["Condition"].as_str(), Some("IsKeyReplica"));
    assert_eq!(replica["Type"].as_str(), Some("AWS::KMS::ReplicaKey"));
    let multi_region = &primary["Properties"]["MultiRegion"];
    assert_eq!(
        template::conditional(multi_region).0,
        Some("ShareKeyIsMultiRegion")
    );
    assert_eq!(
        reference(&replica["Properties"]["PrimaryKeyArn"]),
        Some("PrimaryShareKeyArn")
    );
    for key in [primary, replica] {
        assert_eq!(key["DeletionPolicy"].as_str(), Some("Retain"));
        assert_eq!(key["UpdateReplacePolicy"].as_str(), Some("Retain"));
        assert_eq!(key["Properties"]["PendingWindowInDays"].as_u64(), Some(30));
    }
    assert_eq!(
        primary["Properties"]["KeyPolicy"], replica["Properties"]["KeyPolicy"],
        "the replica must grant exactly what the primary grants"
    );
    // The functions use whichever this stack has, and still open shares of accepted earlier keys.
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    let (adopted, _) = template::conditional(&env["SHARE_KEY_ID"]);
    assert_eq!(adopted, Some("AdoptsShareKey"));
    let Yaml::Tagged(choice) = &env["SHARE_KEY_ID"] else {
        panic!("SHARE_KEY_ID is an !If")
    };
    let created = &choice.value.as_sequence().unwrap()[2];
    assert_eq!(template::conditional(created).0, Some("IsKeyReplica"));
    assert_eq!(
        reference(&env["ACCEPTED_SHARE_KEY_ARNS"]),
        Some("AcceptedShareKeyArns")
    );
}
