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
    // It never learns where the webhook secret is (nor from `Globals`), and may read it nowhere.
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    for variables in [&properties["Environment"]["Variables"], globals] {
        assert!(variables.get("WEBHOOK_SECRET_ARN").is_none());
    }
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
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
                "adds audit records, chained to the share's head"
            );
        } else if resource.contains("AuditKey") {
            assert_eq!(actions, ["kms:GenerateMac"], "signs them, never checks");
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
        // The account's one use of the key: letting an identity policy of a named operator seal
        // (an_operator_seals_a_share_only_while_the_break_glass_reseal_policy_is_attached).
        let reseal =
            statement["Sid"].as_str() == Some("OperatorsSealOnlyWithBreakGlassResealPolicy");
        if principal.contains(":root") && !reseal {
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
    // Named operators open shares for custody export; they seal them again for custody reseal
    // only through the account (an identity policy, BreakGlassResealPolicy, attached for it).
    let expected: [(&str, Option<&str>, &[&str]); 5] = [
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
            &["kms:Decrypt"],
        ),
        (
            ":root",
            Some("HasShareKeyOperators"),
            &["kms:GenerateDataKey"],
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
    // The webhooks, and only they, learn where the secret is.
    for (function, told) in [
        ("BackupFunction", true),
        ("FetchFunction", true),
        ("EjectFunction", false),
        ("ReconcileFunction", false),
        ("ClientBackupSharesFunction", false),
        ("BackendClientBackupSharesFunction", false),
    ] {
        let variables = &template["Resources"][function]["Properties"]["Environment"]["Variables"];
        assert_eq!(
            variables.get("WEBHOOK_SECRET_ARN").is_some(),
            told,
            "{function}"
        );
    }
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(globals.get("WEBHOOK_SECRET_ARN").is_none() && globals.get("SHARE_KEY_ID").is_some());
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
        let (condition, value) = template::conditional(&globals[local_only]);
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
                    } else if resource.contains("AuditKey.Arn") {
                        "audit key"
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
            pair("dynamodb:GetItem", "audit"),
            pair("dynamodb:PutItem", "audit"),
            pair("dynamodb:Query", "audit"),
            pair("kms:GenerateMac", "audit key"),
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
    for function in [
        "BackupFunction",
        "FetchFunction",
        "EjectFunction",
        "ReconcileFunction",
    ] {
        let env = &template["Resources"][function]["Properties"]["Environment"]["Variables"];
        assert_eq!(
            reference(&env["ACCEPTED_SHARE_KEY_ARNS"]),
            Some("AcceptedShareKeyArns"),
            "{function}"
        );
    }
}

/// One statement of an identity policy of the template (a function's, a role's or a managed
/// policy), with the resource it belongs to and the conditions it is under: the resource's own
/// and each `!If` around the policy or the statement.
struct Grant {
    owner: String,
    conditions: Vec<String>,
    statement: Yaml,
}

/// `value` with its `!If [Condition, value, !Ref AWS::NoValue]` wrappers opened, each condition
/// added to `conditions`; `None` for `!Ref AWS::NoValue`.
fn under_conditions<'a>(mut value: &'a Yaml, conditions: &mut Vec<String>) -> Option<&'a Yaml> {
    loop {
        match value {
            Yaml::Tagged(tagged) if tagged.tag == "If" => {
                let parts = tagged.value.as_sequence().expect("!If takes a list");
                assert_eq!(
                    reference(&parts[2]),
                    Some("AWS::NoValue"),
                    "a policy or statement is either there or not: {value:?}"
                );
                conditions.push(parts[0].as_str().expect("a condition name").to_owned());
                value = &parts[1];
            }
            _ => return (reference(value) != Some("AWS::NoValue")).then_some(value),
        }
    }
}

/// Every statement of every identity policy in the source template.
fn grants(template: &Yaml) -> Vec<Grant> {
    let mut grants = Vec::new();
    let resources = template["Resources"].as_mapping().expect("resources");
    for (owner, resource) in resources.iter() {
        let owner = owner.as_str().expect("a logical id");
        let properties = &resource["Properties"];
        let documents: Vec<&Yaml> = match resource["Type"].as_str() {
            Some("AWS::Serverless::Function") => properties["Policies"]
                .as_sequence()
                .map(|policies| policies.iter().collect())
                .unwrap_or_default(),
            Some("AWS::IAM::Role") => properties["Policies"]
                .as_sequence()
                .map(|policies| {
                    policies
                        .iter()
                        .map(|policy| &policy["PolicyDocument"])
                        .collect()
                })
                .unwrap_or_default(),
            Some("AWS::IAM::ManagedPolicy" | "AWS::IAM::Policy") => {
                vec![&properties["PolicyDocument"]]
            }
            _ => continue,
        };
        let owned_when: Vec<String> = resource["Condition"]
            .as_str()
            .map(str::to_owned)
            .into_iter()
            .collect();
        for document in documents {
            let mut conditions = owned_when.clone();
            let Some(document) = under_conditions(document, &mut conditions) else {
                continue;
            };
            let statements = document["Statement"]
                .as_sequence()
                .unwrap_or_else(|| panic!("{owner}: inline policy documents only"));
            for statement in statements {
                let mut conditions = conditions.clone();
                if let Some(statement) = under_conditions(statement, &mut conditions) {
                    grants.push(Grant {
                        owner: owner.to_owned(),
                        conditions,
                        statement: statement.clone(),
                    });
                }
            }
        }
    }
    grants
}

/// IAM's wildcard match (actions, resource ARNs): `*` any run of characters, `/` included, `?`
/// any one character.
fn iam_like(pattern: &str, text: &str) -> bool {
    fn from(pattern: &[u8], text: &[u8]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some((b'*', rest)) => (0..=text.len()).any(|skip| from(rest, &text[skip..])),
            Some((b'?', rest)) => !text.is_empty() && from(rest, &text[1..]),
            Some((byte, rest)) => text.first() == Some(byte) && from(rest, &text[1..]),
        }
    }
    from(pattern.as_bytes(), text.as_bytes())
}

/// Whether a statement allows `action` (an action name in any case, or a wildcard covering it).
fn allows(statement: &Yaml, action: &str) -> bool {
    template::actions(statement)
        .iter()
        .any(|granted| iam_like(&granted.to_lowercase(), &action.to_lowercase()))
}

#[test]
fn no_one_may_set_an_expiry_on_history_unless_pruning_is_opted_into() {
    let template = template::template();
    let mut setters = BTreeSet::new();
    for grant in grants(&template) {
        let resource = format!("{:?}", grant.statement["Resource"]);
        if !allows(&grant.statement, "dynamodb:UpdateItem") || !resource.contains("HistoryTable") {
            continue;
        }
        // An expiry purges history only where TTL is on, which is with pruning alone: otherwise
        // whoever holds the grant (a stolen role, an operator) could let TTL delete kept shares.
        assert!(
            grant
                .conditions
                .iter()
                .any(|condition| condition == "PruningOn"),
            "{} may set an expiry on history with pruning off: {:?}",
            grant.owner,
            grant.statement
        );
        setters.insert(grant.owner);
    }
    // Whoever archives a replaced share: the backup function, the operators (a restore) and
    // the reconcile function that retires shares.
    assert_eq!(
        setters,
        BTreeSet::from([
            "BackupFunction".to_owned(),
            "CustodyOperatorPolicy".to_owned(),
            "ReconcileFunction".to_owned(),
        ])
    );
    let ttl = &template["Resources"]["HistoryTable"]["Properties"]["TimeToLiveSpecification"];
    assert_eq!(template::conditional(&ttl["Enabled"]).0, Some("PruningOn"));
}

#[test]
fn an_operator_seals_a_share_only_while_the_break_glass_reseal_policy_is_attached() {
    let template = template::template();
    let resources = &template["Resources"];
    // Sealing and the operators' PutItem together could forge a share that fetch would serve:
    // each share key lets its named operators open shares, and lets the account grant them
    // sealing through an identity policy only, so that it takes the reseal policy attached.
    for (key, operators, named, delegation) in [
        (
            "ShareKey",
            "ShareKeyOperatorArns",
            "HasShareKeyOperators",
            "OperatorsSealOnlyWithBreakGlassResealPolicy",
        ),
        (
            "ClientShareKey",
            "ClientShareKeyOperatorArns",
            "HasClientShareKeyOperators",
            "OperatorsSealClientSharesOnlyWithBreakGlassResealPolicy",
        ),
    ] {
        let statements = resources[key]["Properties"]["KeyPolicy"]["Statement"]
            .as_sequence()
            .expect("key policy statements");
        let mut delegations = 0;
        for statement in statements {
            let (only_when, statement) = template::conditional(statement);
            let principal = format!("{:?}", statement["Principal"]["AWS"]);
            if principal.contains(operators) {
                assert_eq!(
                    template::actions(statement),
                    ["kms:Decrypt"],
                    "{key}: the named operators open shares, and never seal one on their own"
                );
            }
            if !allows(statement, "kms:GenerateDataKey") {
                continue;
            }
            if !principal.contains(":root") {
                assert!(
                    principal.contains("FunctionRole"),
                    "{key}: only a function's role seals on its own: {principal}"
                );
                continue;
            }
            assert_eq!(statement["Sid"].as_str(), Some(delegation), "{key}");
            assert_eq!(only_when, Some(named), "{key}");
            assert_eq!(
                template::actions(statement),
                ["kms:GenerateDataKey"],
                "{key}"
            );
            let condition = &statement["Condition"];
            let who = format!("{:?}", condition["ArnEquals"]["aws:PrincipalArn"]);
            assert!(
                who.contains(operators),
                "{key}: the account grants to {who}"
            );
            assert!(
                format!("{condition:?}").contains("kms:EncryptionContextKeys"),
                "{key}: only with the share's context"
            );
            delegations += 1;
        }
        assert_eq!(delegations, 1, "{key}");
    }
    // The identity policies that grant sealing with a share key: the reseal policies alone (the
    // tables' at-rest grants work only through DynamoDB).
    let sealing: BTreeSet<String> = grants(&template)
        .into_iter()
        .filter(|grant| {
            let resource = format!("{:?}", grant.statement["Resource"]);
            allows(&grant.statement, "kms:GenerateDataKey")
                && !at_rest_only(&grant.statement)
                && (resource.contains("ShareKey")
                    || resource.contains("ShareReplicaKey")
                    || grant.statement["Resource"].as_str() == Some("*"))
        })
        .map(|grant| grant.owner)
        .collect();
    assert_eq!(
        sealing,
        BTreeSet::from([
            "BreakGlassResealPolicy".to_owned(),
            "ClientShareBreakGlassResealPolicy".to_owned(),
        ])
    );
    // Each is an output to attach, as the export policies are, beside what it seals with.
    for (output, policy, only_when) in [
        ("BreakGlassResealPolicyArn", "BreakGlassResealPolicy", None),
        (
            "ClientShareBreakGlassResealPolicyArn",
            "ClientShareBreakGlassResealPolicy",
            Some("ClientShareStoreOn"),
        ),
    ] {
        let value = &template["Outputs"][output];
        assert_eq!(reference(&value["Value"]), Some(policy), "{output}");
        assert_eq!(value["Condition"].as_str(), only_when, "{output}");
        assert_eq!(
            resources[policy]["Condition"].as_str(),
            only_when,
            "{policy}"
        );
        assert_eq!(
            resources[policy]["Type"].as_str(),
            Some("AWS::IAM::ManagedPolicy")
        );
    }
    // The runbook attaches it for the reseal and detaches it after.
    let custody = std::fs::read_to_string(local_aws::repo_root().join("docs/custody.md")).unwrap();
    for step in [
        "BreakGlassResealPolicyArn",
        "attach-role-policy",
        "detach-role-policy",
    ] {
        assert!(custody.contains(step), "docs/custody.md: {step}");
    }
}

/// A string of the template as CloudFormation passes it for one deploy: `!If` decided by
/// `conditions`, `!Ref` and `!Sub` filled from `values` (parameters and pseudo parameters).
fn resolve(
    value: &Yaml,
    conditions: &BTreeMap<&str, bool>,
    values: &BTreeMap<&str, &str>,
) -> String {
    match value {
        Yaml::String(text) => text.clone(),
        Yaml::Tagged(tagged) if tagged.tag == "If" => {
            let parts = tagged.value.as_sequence().expect("!If takes a list");
            let name = parts[0].as_str().expect("a condition name");
            let decided = *conditions
                .get(name)
                .unwrap_or_else(|| panic!("condition {name} is not decided"));
            resolve(&parts[if decided { 1 } else { 2 }], conditions, values)
        }
        Yaml::Tagged(tagged) if tagged.tag == "Ref" => {
            let name = tagged.value.as_str().expect("!Ref takes a name");
            let given = values.get(name);
            given
                .unwrap_or_else(|| panic!("no value for {name}"))
                .to_string()
        }
        Yaml::Tagged(tagged) if tagged.tag == "Sub" => {
            let (text, variables): (&str, BTreeMap<String, String>) = match &tagged.value {
                Yaml::String(text) => (text.as_str(), BTreeMap::new()),
                Yaml::Sequence(parts) => (
                    parts[0].as_str().expect("the text of !Sub"),
                    parts[1]
                        .as_mapping()
                        .expect("the variables of !Sub")
                        .iter()
                        .map(|(name, value)| {
                            let name = name.as_str().expect("a variable name").to_owned();
                            (name, resolve(value, conditions, values))
                        })
                        .collect(),
                ),
                other => panic!("!Sub of {other:?}"),
            };
            let mut out = String::new();
            let mut rest = text;
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let end = start + rest[start..].find('}').expect("a closing brace");
                let name = &rest[start + 2..end];
                let value = match variables.get(name) {
                    Some(value) => value.clone(),
                    None => values
                        .get(name)
                        .unwrap_or_else(|| panic!("no value for ${{{name}}}"))
                        .to_string(),
                };
                out.push_str(&value);
                rest = &rest[end + 1..];
            }
            out.push_str(rest);
            out
        }
        other => panic!("cannot resolve {other:?}"),
    }
}

/// The API routes of a function of the source template, as (method, path) with a Portal
/// clientId and backup methods (a current and the legacy one) for the path's parameters.
fn api_routes(template: &Yaml, function: &str) -> Vec<(String, String)> {
    let events = template["Resources"][function]["Properties"]["Events"]
        .as_mapping()
        .unwrap_or_else(|| panic!("{function} has events"));
    let mut routes = Vec::new();
    for (_, event) in events.iter() {
        let properties = &event["Properties"];
        let method = properties["Method"].as_str().expect("a method");
        let path = properties["Path"].as_str().expect("a path");
        let path = path.replace("{clientId}", "cm4ya1b2c3d4e5f6g7h8i9j0k");
        for backup_method in ["GDRIVE-SECP256K1", "UNKNOWN"] {
            let route = (
                method.to_uppercase(),
                path.replace("{backupMethod}", backup_method),
            );
            if !routes.contains(&route) {
                routes.push(route);
            }
        }
    }
    routes
}

#[test]
fn the_eject_route_arn_grants_the_eject_routes_and_not_the_client_share_routes() {
    let template = template::template();
    let values = BTreeMap::from([
        ("AWS::Partition", "aws"),
        ("AWS::Region", "us-east-1"),
        ("AWS::AccountId", "123456789012"),
        ("WebhookApi", "a1b2c3d4e5"),
        ("StageName", "v1"),
    ]);
    let decided = BTreeMap::new();
    let granted = |output: &str| resolve(&template["Outputs"][output]["Value"], &decided, &values);
    // The resource a signed request is authorised against: execute-api's ARN of its route.
    let requests = |function: &str| -> Vec<String> {
        api_routes(&template, function)
            .iter()
            .map(|(method, path)| {
                format!("arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/{method}{path}")
            })
            .collect()
    };
    let eject = granted("EjectRouteArn");
    let backend = granted("BackendClientSharesRouteArn");
    for request in requests("EjectFunction") {
        assert!(iam_like(&eject, &request), "{eject} must grant {request}");
        assert!(!iam_like(&backend, &request), "{backend} grants {request}");
    }
    for request in requests("BackendClientBackupSharesFunction") {
        assert!(
            iam_like(&backend, &request),
            "{backend} must grant {request}"
        );
        assert!(!iam_like(&eject, &request), "{eject} grants {request}");
    }
    for webhook in ["POST/backup", "POST/backup/fetch"] {
        let request = format!("arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1/{webhook}");
        assert!(!iam_like(&eject, &request), "{eject} grants {request}");
        assert!(!iam_like(&backend, &request), "{backend} grants {request}");
    }
}

/// A JSON value as a list: a list as itself, one value as a list of it, nothing as none.
fn json_list(value: &serde_json::Value) -> Vec<&serde_json::Value> {
    match value {
        serde_json::Value::Array(items) => items.iter().collect(),
        serde_json::Value::Null => Vec::new(),
        single => vec![single],
    }
}

#[test]
fn only_api_gateway_may_invoke_the_functions_that_return_shares() {
    // A direct invoke skips what API Gateway checks (the caller's signature, the user's token)
    // and the event can claim any caller or user: it reads any share those functions return.
    let returning_shares = [
        "EjectFunction",
        "ClientBackupSharesFunction",
        "BackendClientBackupSharesFunction",
    ];
    let source = template::template();
    let deployed = template::deployed(
        Some("prod"),
        &[
            "EnableEjectEndpoint=true",
            "ClientSharesJwtIssuer=https://users.example.com/",
            "ClientSharesJwtAudience=wallet-app",
            "ClientShareCallerArns=arn:aws:iam::123456789012:role/enclave-backend",
            "ShareKeyOperatorArns=arn:aws:iam::123456789012:role/custody-operator",
            "ClientShareKeyOperatorArns=arn:aws:iam::123456789012:role/client-custody-operator",
            "PortalApiKeySecretArn=arn:aws:secretsmanager:us-east-1:123456789012:secret:portal-api-key-AbCdEf",
            "ReconcileRetires=true",
            "HistoryRetentionDays=30",
            "EscrowKeyArn=arn:aws:kms:us-east-1:210987654321:key/5e5e5e5e-0000-4000-8000-000000000000",
        ],
    );
    let resources = deployed["template"]["Resources"]
        .as_object()
        .expect("the resources a deploy creates");
    for function in returning_shares {
        let alias = format!("{function}Aliaslive");
        let mut invoked_for = BTreeSet::new();
        for (name, permission) in resources {
            let properties = &permission["Properties"];
            let target = &properties["FunctionName"]["Ref"];
            let of_this_function = target == function || *target == alias;
            if permission["Type"] != "AWS::Lambda::Permission" || !of_this_function {
                continue;
            }
            assert_eq!(properties["Action"], "lambda:InvokeFunction", "{name}");
            assert_eq!(
                properties["Principal"], "apigateway.amazonaws.com",
                "{name}: API Gateway alone"
            );
            // From this stack's own API, in this account, and for the function's own routes.
            let arn = &properties["SourceArn"]["Fn::Sub"];
            let text = arn[0].as_str().unwrap_or_else(|| {
                panic!("{name}: no source ARN of this stack's API: {properties}")
            });
            let api = arn[1]["__ApiId__"]["Ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: the API is none of this stack's: {arn}"));
            assert!(
                ["AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"]
                    .contains(&resources[api]["Type"].as_str().unwrap_or_default()),
                "{name}: {api} is not an API of this stack"
            );
            let scope = ":execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/";
            let (partition, route) = text
                .split_once(scope)
                .unwrap_or_else(|| panic!("{name}: {text} is wider than this stack's API"));
            assert!(partition.starts_with("arn:"), "{name}: {text}");
            invoked_for.insert(route.to_owned());
        }
        // One permission per route the function serves, and none for anything else.
        let routes: BTreeSet<String> = source["Resources"][function]["Properties"]["Events"]
            .as_mapping()
            .expect("events")
            .iter()
            .map(|(_, event)| {
                let properties = &event["Properties"];
                let method = properties["Method"].as_str().expect("a method");
                let path = properties["Path"].as_str().expect("a path");
                // SAM's source ARN has `*` for each path parameter.
                let mut wild = String::new();
                let mut parameter = false;
                for character in path.chars() {
                    match character {
                        '{' => {
                            parameter = true;
                            wild.push('*');
                        }
                        '}' => parameter = false,
                        _ if parameter => {}
                        other => wild.push(other),
                    }
                }
                format!("{}{wild}", method.to_uppercase())
            })
            .collect();
        assert_eq!(invoked_for, routes, "{function}");
    }
    // And no identity policy the stack creates lets anyone invoke a function directly; the AWS
    // managed policies its roles take allow no invoke of these functions: the Lambda basic
    // execution role writes logs, CodeDeploy's invokes only functions named CodeDeployHook_*, and
    // AWS Backup's are for the role AWS Backup alone assumes.
    let aws_managed = [
        "AWSLambdaBasicExecutionRole",
        "AWSCodeDeployRoleForLambda",
        "AWSBackupServiceRolePolicyForBackup",
        "AWSBackupServiceRolePolicyForRestores",
    ];
    for (name, resource) in resources {
        let properties = &resource["Properties"];
        let documents: Vec<&serde_json::Value> = match resource["Type"].as_str() {
            Some("AWS::IAM::Role") => {
                for arn in json_list(&properties["ManagedPolicyArns"]) {
                    let text = arn
                        .as_str()
                        .or_else(|| arn["Fn::Sub"].as_str())
                        .unwrap_or_else(|| panic!("{name}: a managed policy {arn}"));
                    let (_, policy) = text
                        .rsplit_once('/')
                        .unwrap_or_else(|| panic!("{name}: {text}"));
                    assert!(
                        text.contains(":iam::aws:policy/") && aws_managed.contains(&policy),
                        "{name} takes {text}: check it allows no lambda:InvokeFunction"
                    );
                }
                json_list(&properties["Policies"])
                    .into_iter()
                    .map(|policy| &policy["PolicyDocument"])
                    .collect()
            }
            Some("AWS::IAM::ManagedPolicy" | "AWS::IAM::Policy") => {
                vec![&properties["PolicyDocument"]]
            }
            _ => continue,
        };
        for document in documents {
            for statement in json_list(&document["Statement"]) {
                assert!(
                    statement.get("NotAction").is_none(),
                    "{name}: an Allow with NotAction may allow lambda:InvokeFunction"
                );
                for action in json_list(&statement["Action"]) {
                    let action = action.as_str().expect("an action name").to_lowercase();
                    assert!(
                        !iam_like(&action, "lambda:invokefunction"),
                        "{name} allows {action}"
                    );
                }
            }
        }
    }
    let security = std::fs::read_to_string(local_aws::repo_root().join("SECURITY.md")).unwrap();
    let warning = security
        .lines()
        .find(|line| {
            line.contains("lambda:InvokeFunction")
                && line.contains("only_api_gateway_may_invoke_the_functions_that_return_shares")
        })
        .expect("SECURITY.md says what a direct invoke reads, and names this test");
    for function in returning_shares {
        assert!(warning.contains(function), "SECURITY.md names {function}");
    }
}

/// One of AWS WAF's text transformations, as the WAF developer guide describes it ("Text
/// transformation options"), and as ModSecurity's transformation of the same name does where
/// the guide says less. Any other one fails the test: none is assumed.
fn waf_transform(kind: &str, text: &[u8]) -> Vec<u8> {
    match kind {
        // Each %XX decoded once (a malformed one left as it is), and + as a space.
        "URL_DECODE" => {
            let hex = |byte: u8| (byte as char).to_digit(16);
            let mut out = Vec::with_capacity(text.len());
            let mut at = 0;
            while at < text.len() {
                let high = text.get(at + 1).copied().and_then(hex);
                let low = text.get(at + 2).copied().and_then(hex);
                match (text[at], high, low) {
                    (b'%', Some(high), Some(low)) => {
                        out.push((high * 16 + low) as u8);
                        at += 3;
                    }
                    (b'+', _, _) => {
                        out.push(b' ');
                        at += 1;
                    }
                    (byte, _, _) => {
                        out.push(byte);
                        at += 1;
                    }
                }
            }
            out
        }
        // Tab, newline, vertical tab, form feed, carriage return and the non-breaking space (160)
        // as spaces, then each run of spaces as one.
        "COMPRESS_WHITE_SPACE" => {
            let mut out: Vec<u8> = Vec::with_capacity(text.len());
            for &byte in text {
                let byte = match byte {
                    // \t, \n, \v, \f, \r; the non-breaking space.
                    0x09..=0x0d | 0xa0 => b' ',
                    other => other,
                };
                if byte != b' ' || out.last() != Some(&b' ') {
                    out.push(byte);
                }
            }
            out
        }
        // Doubled slashes, `.` segments and `..` segments with something before them to go back
        // to removed; a trailing slash (or a trailing dot segment's) kept.
        "NORMALIZE_PATH" => {
            let mut segments: Vec<&[u8]> = Vec::new();
            let mut trailing = false;
            for segment in text.split(|byte| *byte == b'/') {
                trailing = matches!(segment, b"" | b"." | b"..");
                match segment {
                    b"" | b"." => {}
                    b".." if segments.last().is_some_and(|last| *last != b"..") => {
                        segments.pop();
                    }
                    _ => segments.push(segment),
                }
            }
            let mut out = Vec::with_capacity(text.len());
            if text.first() == Some(&b'/') {
                out.push(b'/');
            }
            out.extend(segments.join(&b'/'));
            if trailing && !segments.is_empty() {
                out.push(b'/');
            }
            out
        }
        other => panic!("AWS WAF's {other} transformation is not modelled here"),
    }
}

/// A regular expression of the part of PCRE (AWS WAF's regex syntax) the web ACL uses: bytes,
/// escaped punctuation, character classes with ranges, `(?:...)` groups with alternatives, the
/// greedy quantifiers `?`, `*` and `+`, and `^` and `$` as PCRE has them. A capturing group,
/// which AWS WAF refuses, and anything else (`.`, `\d`, `{n}`, lookarounds) fail the test
/// rather than guess.
#[derive(Debug)]
enum Node {
    Start,
    End,
    Byte(u8),
    Class {
        negated: bool,
        ranges: Vec<(u8, u8)>,
    },
    Group(Vec<Vec<Node>>),
    Repeat {
        inner: Box<Node>,
        min: usize,
        max: Option<usize>,
    },
}

struct PatternParser<'a> {
    text: &'a [u8],
    at: usize,
}

impl PatternParser<'_> {
    fn parse(text: &str) -> Node {
        let mut parser = PatternParser {
            text: text.as_bytes(),
            at: 0,
        };
        let alternatives = parser.alternatives();
        assert_eq!(parser.at, parser.text.len(), "an unopened `)` in {text}");
        Node::Group(alternatives)
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn advance(&mut self) -> u8 {
        let byte = self.peek().expect("the pattern ends too early");
        self.at += 1;
        byte
    }

    fn alternatives(&mut self) -> Vec<Vec<Node>> {
        let mut alternatives = vec![self.sequence()];
        while self.peek() == Some(b'|') {
            self.at += 1;
            alternatives.push(self.sequence());
        }
        alternatives
    }

    fn sequence(&mut self) -> Vec<Node> {
        let mut nodes = Vec::new();
        while let Some(byte) = self.peek() {
            if byte == b'|' || byte == b')' {
                break;
            }
            self.at += 1;
            let atom = match byte {
                b'^' => Node::Start,
                b'$' => Node::End,
                b'\\' => Node::Byte(self.escaped()),
                b'[' => self.class(),
                b'(' => {
                    assert_eq!(
                        (self.advance(), self.advance()),
                        (b'?', b':'),
                        "only (?:...) groups: AWS WAF refuses capturing ones"
                    );
                    let group = self.alternatives();
                    assert_eq!(self.advance(), b')', "an unclosed group");
                    Node::Group(group)
                }
                b'.' | b'{' | b'}' | b'*' | b'+' | b'?' | b']' => {
                    panic!("`{}` is not modelled here", byte as char)
                }
                literal => Node::Byte(literal),
            };
            let (min, max) = match self.peek() {
                Some(b'?') => (0, Some(1)),
                Some(b'*') => (0, None),
                Some(b'+') => (1, None),
                _ => {
                    nodes.push(atom);
                    continue;
                }
            };
            self.at += 1;
            assert!(
                !matches!(self.peek(), Some(b'?' | b'+')),
                "lazy and possessive quantifiers are not modelled here"
            );
            nodes.push(Node::Repeat {
                inner: Box::new(atom),
                min,
                max,
            });
        }
        nodes
    }

    fn escaped(&mut self) -> u8 {
        let byte = self.advance();
        assert!(
            !byte.is_ascii_alphanumeric(),
            "`\\{}` is not modelled here",
            byte as char
        );
        byte
    }

    fn class(&mut self) -> Node {
        let negated = self.peek() == Some(b'^');
        if negated {
            self.at += 1;
        }
        let mut ranges = Vec::new();
        loop {
            let first = match self.advance() {
                b']' => break,
                b'\\' => self.escaped(),
                b'[' => panic!("POSIX classes are not modelled here"),
                byte => byte,
            };
            // `a-z`; a `-` just before the `]` is itself.
            let last = if self.peek() == Some(b'-') && self.text.get(self.at + 1) != Some(&b']') {
                self.at += 1;
                match self.advance() {
                    b'\\' => self.escaped(),
                    byte => byte,
                }
            } else {
                first
            };
            assert!(first <= last, "a backward range");
            ranges.push((first, last));
        }
        Node::Class { negated, ranges }
    }
}

/// Whether `sequence` matches `subject` from `at` with `then` accepting where it ends; each
/// choice (an alternative, a repetition count) is tried in PCRE's order until one is accepted.
fn match_from(
    sequence: &[Node],
    subject: &[u8],
    at: usize,
    then: &mut dyn FnMut(usize) -> bool,
) -> bool {
    let Some((node, rest)) = sequence.split_first() else {
        return then(at);
    };
    match node {
        Node::Start => at == 0 && match_from(rest, subject, at, then),
        // PCRE's $: the end, or just before a newline that ends the subject.
        Node::End => {
            (at == subject.len() || (at + 1 == subject.len() && subject[at] == b'\n'))
                && match_from(rest, subject, at, then)
        }
        Node::Byte(byte) => {
            subject.get(at) == Some(byte) && match_from(rest, subject, at + 1, then)
        }
        Node::Class { negated, ranges } => {
            subject.get(at).is_some_and(|byte| {
                ranges
                    .iter()
                    .any(|&(first, last)| (first..=last).contains(byte))
                    != *negated
            }) && match_from(rest, subject, at + 1, then)
        }
        Node::Group(alternatives) => alternatives.iter().any(|alternative| {
            match_from(alternative, subject, at, &mut |end: usize| {
                match_from(rest, subject, end, then)
            })
        }),
        Node::Repeat { inner, min, max } => Repetition {
            inner,
            min: *min,
            max: *max,
            rest,
        }
        .repeat_from(0, subject, at, then),
    }
}

/// A quantified node and what follows it.
struct Repetition<'a> {
    inner: &'a Node,
    min: usize,
    max: Option<usize>,
    rest: &'a [Node],
}

impl Repetition<'_> {
    /// `inner` matched `count` times up to `at`: once more first (greedy), else what follows.
    fn repeat_from(
        &self,
        count: usize,
        subject: &[u8],
        at: usize,
        then: &mut dyn FnMut(usize) -> bool,
    ) -> bool {
        let again = self.max.is_none_or(|max| count < max)
            && match_from(
                std::slice::from_ref(self.inner),
                subject,
                at,
                &mut |end: usize| {
                    // An empty repetition would never end.
                    end > at && self.repeat_from(count + 1, subject, end, then)
                },
            );
        again || (count >= self.min && match_from(self.rest, subject, at, then))
    }
}

/// Whether `pattern` is found in `subject`, as a RegexMatchStatement looks for it.
fn regex_finds(pattern: &Node, subject: &[u8]) -> bool {
    (0..=subject.len()).any(|start| {
        match_from(
            std::slice::from_ref(pattern),
            subject,
            start,
            &mut |_: usize| true,
        )
    })
}

#[test]
fn the_web_acl_admits_the_iam_routes_that_exist_and_no_other_path_however_encoded() {
    let template = template::template();
    let rules = template["Resources"]["WebAcl"]["Properties"]["Rules"]
        .as_sequence()
        .expect("the web ACL's rules");
    let (only_when, rule) = rules
        .iter()
        .map(template::conditional)
        .find(|(_, rule)| rule["Name"].as_str() == Some("iam-authorised-routes"))
        .expect("the rule that lets the IAM-authorised routes through");
    assert_eq!(only_when, Some("IamRoutesOn"));
    assert!(!rule["Action"]["Allow"].is_null());
    // The whole path against a pattern, not a substring of it.
    let statement = &rule["Statement"]["RegexMatchStatement"];
    assert!(
        statement.is_mapping(),
        "a regular expression over the path: {:?}",
        rule["Statement"]
    );
    assert!(!statement["FieldToMatch"]["UriPath"].is_null());
    let mut transformations: Vec<(u64, &str)> = statement["TextTransformations"]
        .as_sequence()
        .expect("text transformations")
        .iter()
        .map(|step| {
            let priority = step["Priority"].as_u64().expect("a priority");
            (priority, step["Type"].as_str().expect("a transformation"))
        })
        .collect();
    transformations.sort();
    let eject = api_routes(&template, "EjectFunction");
    let backend = api_routes(&template, "BackendClientBackupSharesFunction");
    let default_stage = template["Parameters"]["StageName"]["Default"]
        .as_str()
        .expect("a default stage");
    for (eject_on, backend_on) in [(true, false), (false, true), (true, true)] {
        let conditions = BTreeMap::from([
            ("EjectEndpointEnabled", eject_on),
            ("ClientSharesForBackendOn", backend_on),
        ]);
        // The template's stage and the dev config-env's.
        for stage in [default_stage, "dev"] {
            let values = BTreeMap::from([("StageName", stage)]);
            let pattern = resolve(&statement["RegexString"], &conditions, &values);
            let regex = PatternParser::parse(&pattern);
            let admitted = |path: &str| {
                let seen = transformations
                    .iter()
                    .fold(path.as_bytes().to_vec(), |text, (_, kind)| {
                        waf_transform(kind, &text)
                    });
                regex_finds(&regex, &seen)
            };
            // Every route that exists, as the execute-api URL has it (after the stage) and as a
            // custom domain's root mapping has it; none of a function that is off.
            for (routes, on) in [(&eject, eject_on), (&backend, backend_on)] {
                for (_, path) in routes {
                    for seen in [format!("/{stage}{path}"), path.clone()] {
                        assert_eq!(admitted(&seen), on, "{seen} against {pattern}");
                    }
                }
            }
            let refused = [
                // The webhooks come through Portal's addresses only.
                format!("/{stage}/backup"),
                format!("/{stage}/backup/fetch"),
                // Back out of /clients/, plainly, encoded, and encoded twice.
                format!("/{stage}/clients/../backup"),
                format!("/{stage}/clients/x/../../backup"),
                format!("/{stage}/clients/%2e%2e/backup"),
                format!("/{stage}/clients/%2E%2E/backup"),
                format!("/{stage}/clients/x/custodian-shares/..%2f..%2f..%2fbackup"),
                format!("/{stage}/clients/x/custodian-shares/%2e%2e%2f%2e%2e%2f%2e%2e%2fbackup"),
                format!("/{stage}/clients/%252e%252e/backup"),
                format!("/{stage}/clients/x/custodian-shares/%252e%252e%252f%252e%252e%252fbackup"),
                format!("/{stage}/clients/x/client-backup-shares/%252E%252E%252Fbackup"),
                format!("/{stage}/clients/x/custodian-shares/.."),
                format!("/{stage}/clients/x/custodian-shares/%2E%2E"),
                // /clients/ elsewhere in the path.
                format!("/{stage}/backup/clients/x"),
                format!("/{stage}/backup/clients/x/custodian-shares"),
                format!("/{stage}/backup/fetch/clients/x/client-backup-shares"),
                "/other/clients/x/custodian-shares".to_owned(),
                // Trailing junk, a newline PCRE's $ would pass over included.
                format!("/{stage}/clients/x/custodian-shares/GDRIVE-SECP256K1/extra"),
                format!("/{stage}/clients/x/custodian-shares%0a"),
                format!("/{stage}/clients/x/custodian-shares/GDRIVE-SECP256K1%0A"),
                format!("/{stage}/clients/x/custodian-shares/%00"),
                format!("/{stage}/clients/x/custodian-shares/%20"),
                format!("/{stage}/clients/x/custodian-shares/"),
                format!("/{stage}/clients/x/custodian-sharesx"),
                format!("/{stage}/clients//custodian-shares"),
                format!("/{stage}/clients/x/y/custodian-shares"),
            ];
            for path in refused {
                assert!(
                    !admitted(&path),
                    "{path} gets through WAF with {pattern} after {transformations:?}"
                );
            }
        }
    }
}

#[test]
fn the_owner_claim_parameter_refuses_what_the_function_refuses() {
    use custodian_backup::domain::client_owner::{USER_EDITABLE_CLAIMS, claim_is_trusted};
    let template = template::template();
    let pattern = template["Parameters"]["ClientSharesOwnerClaim"]["AllowedPattern"]
        .as_str()
        .unwrap()
        .to_owned();
    // The negative lookahead names `custom:` and each editable claim, whole.
    let refused = pattern
        .strip_prefix("(?!(")
        .and_then(|rest| rest.split_once(")$)"))
        .map(|(names, _)| names.split('|').collect::<BTreeSet<_>>())
        .expect("a lookahead of refused claims");
    let mut expected: BTreeSet<&str> = USER_EDITABLE_CLAIMS.into_iter().collect();
    expected.insert("custom:.*");
    assert_eq!(refused, expected);
    for claim in USER_EDITABLE_CLAIMS {
        assert!(!claim_is_trusted(claim), "{claim}");
    }
    let default = template["Parameters"]["ClientSharesOwnerClaim"]["Default"]
        .as_str()
        .unwrap();
    assert!(claim_is_trusted(default));
}

#[test]
fn every_parameter_is_in_one_console_group_in_the_order_guided_deploy_asks_and_in_the_deploy_guide()
{
    let template = template::template();
    let parameters: BTreeSet<String> = template["Parameters"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|name| name.as_str().unwrap().to_owned())
        .collect();
    let groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        .as_sequence()
        .expect("parameter groups");
    let mut grouped = Vec::new();
    for group in groups {
        assert!(group["Label"]["default"].as_str().is_some(), "{group:?}");
        let names = group["Parameters"].as_sequence().unwrap();
        grouped.extend(names.iter().map(|name| name.as_str().unwrap().to_owned()));
    }
    let once: BTreeSet<String> = grouped.iter().cloned().collect();
    assert_eq!(once.len(), grouped.len(), "a parameter in two groups");
    assert_eq!(
        once, parameters,
        "every parameter in a group, and only parameters"
    );
    // `sam deploy --guided` asks in the order of `Parameters` (it does not read the groups): the
    // same order, so it asks in the order a first deploy needs them too.
    let declared: Vec<&str> = template["Parameters"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|name| name.as_str().unwrap())
        .collect();
    assert_eq!(declared, grouped, "Parameters in the groups' order");

    let guide =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/deploy.md")).unwrap();
    let table: Vec<&str> = guide
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| line.split(" | ").next().unwrap())
        .collect();
    let missing: Vec<&String> = parameters
        .iter()
        .filter(|name| !table.iter().any(|cell| cell.contains(&format!("`{name}`"))))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/deploy.md's parameter table: {missing:?}"
    );
    // And in the same order, so the guide reads as the console and `--guided` ask.
    let in_table: Vec<&str> = table
        .iter()
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .filter(|name| parameters.contains(*name))
        .collect();
    assert_eq!(
        in_table, declared,
        "docs/deploy.md's table in the groups' order"
    );
}
