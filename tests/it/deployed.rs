//! What CloudFormation will create from `template.yaml`: the SAM transform's output
//! (aws-sam-translator, the library behind CloudFormation's `AWS::Serverless-2016-10-31`
//! transform) under each config-env's parameters, with every condition decided. The source
//! template is checked in `tests/it/template.rs`; a deploy makes this.

use local_aws::template::deployed;
use serde_json::Value;
use std::collections::BTreeMap;

/// The resources one deploy creates.
fn created(config_env: &str, overrides: &[&str]) -> BTreeMap<String, Value> {
    let out = deployed(Some(config_env), overrides);
    serde_json::from_value(out["template"]["Resources"].clone()).unwrap()
}

fn of_type<'a>(resources: &'a BTreeMap<String, Value>, kind: &str) -> Vec<(&'a str, &'a Value)> {
    resources
        .iter()
        .filter(|(_, resource)| resource["Type"] == kind)
        .map(|(name, resource)| (name.as_str(), resource))
        .collect()
}

/// An intrinsic as short text: `GetAtt X.Arn` and `Ref X` as `X`, a `Sub` as its string.
fn short(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(short).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => match map.iter().next() {
            Some((key, inner)) if map.len() == 1 && key == "Ref" => short(inner),
            Some((key, inner)) if map.len() == 1 && key == "Fn::GetAtt" => {
                let parts = inner.as_array().unwrap();
                if parts[1] == "Arn" {
                    short(&parts[0])
                } else {
                    format!("{}.{}", short(&parts[0]), short(&parts[1]))
                }
            }
            Some((key, inner)) if map.len() == 1 && key == "Fn::Sub" => match inner {
                Value::Array(parts) => short(&parts[0]),
                other => short(other),
            },
            _ => format!(
                "{{{}}}",
                map.iter()
                    .map(|(k, v)| format!("{k}: {}", short(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        other => other.to_string(),
    }
}

fn list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => vec![],
        single => vec![single.clone()],
    }
}

/// Every statement of a policy document as `Effect action on resource [if condition]`, one line
/// per action.
fn statements(document: &Value) -> Vec<String> {
    let mut lines = vec![];
    for statement in list(&document["Statement"]) {
        let condition = match &statement["Condition"] {
            Value::Null => String::new(),
            condition => format!(" if {}", short(condition)),
        };
        for action in list(&statement["Action"]) {
            lines.push(format!(
                "{} {} on {}{condition}",
                short(&statement["Effect"]),
                short(&action),
                short(&statement["Resource"])
            ));
        }
    }
    lines
}

/// The principals a KMS key's policy grants use of the key to (not its administrators).
fn key_principals(resources: &BTreeMap<String, Value>, key: &str) -> Vec<String> {
    list(&resources[key]["Properties"]["KeyPolicy"]["Statement"])
        .iter()
        .filter(|statement| statement["Sid"] != "KeyAdministration")
        .map(|statement| short(&statement["Principal"]["AWS"]))
        .collect()
}

/// Every permission of an IAM role: its managed policies, then its inline statements.
fn role_permissions(role: &Value) -> Vec<String> {
    let properties = &role["Properties"];
    let mut lines: Vec<String> = list(&properties["ManagedPolicyArns"])
        .iter()
        .map(|arn| format!("managed {}", short(arn)))
        .collect();
    for policy in list(&properties["Policies"]) {
        lines.extend(statements(&policy["PolicyDocument"]));
    }
    lines
}

#[test]
fn each_api_has_exactly_one_stage_and_it_throttles_logs_and_traces() {
    for (env, overrides) in [
        ("dev", &[][..]),
        (
            "prod",
            &["AlarmEmail=oncall@example.com", "EnableEjectEndpoint=true"][..],
        ),
    ] {
        let resources = created(env, overrides);
        let apis = of_type(&resources, "AWS::ApiGateway::RestApi");
        let stages = of_type(&resources, "AWS::ApiGateway::Stage");
        assert_eq!(apis.len(), 1, "{env}");
        assert_eq!(
            stages.len(),
            1,
            "{env}: one stage per API, none named Stage beside it"
        );
        for (name, deployment) in of_type(&resources, "AWS::ApiGateway::Deployment") {
            assert!(
                deployment["Properties"].get("StageName").is_none(),
                "{env}: {name} makes a stage of its own"
            );
        }
        let stage = &stages[0].1["Properties"];
        assert_eq!(stage["StageName"], if env == "dev" { "dev" } else { "v1" });
        assert_eq!(stage["TracingEnabled"], true);
        assert_eq!(
            short(&stage["AccessLogSetting"]["DestinationArn"]),
            "ApiAccessLogs"
        );
        let format = stage["AccessLogSetting"]["Format"].as_str().unwrap();
        assert!(
            !format.contains("requestBody") && !format.contains("header"),
            "{format}"
        );
        let throttling = &stage["MethodSettings"][0];
        assert_eq!(throttling["ResourcePath"], "/*");
        assert_eq!(throttling["HttpMethod"], "*");
        assert_eq!(throttling["ThrottlingRateLimit"], 100);
        assert_eq!(throttling["ThrottlingBurstLimit"], 200);
    }
}

#[test]
fn the_webhooks_are_open_only_to_portals_addresses_and_eject_only_to_signed_named_callers() {
    let resources = created(
        "prod",
        &[
            "EnableEjectEndpoint=true",
            "EjectCallerArns=arn:aws:iam::123456789012:role/backend",
        ],
    );
    let body = &resources["WebhookApi"]["Properties"]["Body"];
    let mut routes = vec![];
    for (path, methods) in body["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            let auth = match operation.get("security") {
                None => "the resource policy".to_owned(),
                Some(security) => short(security),
            };
            let target = short(&operation["x-amazon-apigateway-integration"]["uri"]);
            let function = target
                .split("/functions/${")
                .nth(1)
                .unwrap()
                .split('}')
                .next()
                .unwrap()
                .to_owned();
            routes.push(format!("{method} {path}: {auth} -> {function}"));
        }
    }
    assert_eq!(
        routes,
        [
            "post /backup: the resource policy -> BackupFunctionAliaslive",
            "post /backup/fetch: the resource policy -> FetchFunctionAliaslive",
            "get /clients/{clientId}/custodian-shares: [{AWS_IAM: []}] -> EjectFunctionAliaslive",
            "get /clients/{clientId}/custodian-shares/{backupMethod}: [{AWS_IAM: []}] -> EjectFunctionAliaslive",
        ]
    );
    assert_eq!(
        body["components"]["securitySchemes"]["AWS_IAM"]["x-amazon-apigateway-authtype"],
        "awsSigv4"
    );
    assert_eq!(
        statements(&body["x-amazon-apigateway-policy"]),
        [
            "Allow execute-api:Invoke on [execute-api:/*/POST/backup, execute-api:/*/POST/backup/fetch]",
            "Deny execute-api:Invoke on [execute-api:/*/POST/backup, execute-api:/*/POST/backup/fetch] if {NotIpAddress: {aws:SourceIp: {Fn::Split: [,, 35.203.150.117/32,104.155.171.139/32,35.185.20.23/32]}}}",
            "Deny execute-api:Invoke on [execute-api:/*/GET/clients/*/custodian-shares, execute-api:/*/GET/clients/*/custodian-shares/*] if {StringNotEquals: {aws:PrincipalArn: {Fn::Split: [,, arn:aws:iam::123456789012:role/backend]}}}",
        ]
    );
    // Off by default: the two webhooks and nothing else.
    let paths = resources_paths(&created("prod", &[]));
    assert_eq!(paths, ["/backup", "/backup/fetch"]);
}

fn resources_paths(resources: &BTreeMap<String, Value>) -> Vec<String> {
    resources["WebhookApi"]["Properties"]["Body"]["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn every_role_may_do_exactly_what_its_function_or_service_calls() {
    let resources = created("prod", &["EnableEjectEndpoint=true"]);
    let roles: BTreeMap<&str, Vec<String>> = of_type(&resources, "AWS::IAM::Role")
        .into_iter()
        .map(|(name, role)| (name, role_permissions(role)))
        .collect();
    let basic = "managed arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
    let tables_at_rest_write = [
        "Allow kms:Decrypt on * if {StringEquals: {kms:ViaService: dynamodb.${AWS::Region}.amazonaws.com}}",
        "Allow kms:DescribeKey on * if {StringEquals: {kms:ViaService: dynamodb.${AWS::Region}.amazonaws.com}}",
        "Allow kms:Encrypt on * if {StringEquals: {kms:ViaService: dynamodb.${AWS::Region}.amazonaws.com}}",
        "Allow kms:GenerateDataKey* on * if {StringEquals: {kms:ViaService: dynamodb.${AWS::Region}.amazonaws.com}}",
        "Allow kms:ReEncrypt* on * if {StringEquals: {kms:ViaService: dynamodb.${AWS::Region}.amazonaws.com}}",
    ];
    let secret = [
        "Allow secretsmanager:GetSecretValue on WebhookSecret",
        "Allow kms:Decrypt on * if {StringEquals: {kms:ViaService: secretsmanager.${AWS::Region}.amazonaws.com}, StringLike: {kms:EncryptionContext:SecretARN: ${WebhookSecret}*}}",
    ];
    let expected: BTreeMap<&str, Vec<String>> = [
        (
            "BackupFunctionRole",
            [basic, "Allow dynamodb:GetItem on SharesTable", "Allow dynamodb:PutItem on SharesTable"]
                .into_iter()
                .chain([
                    "Allow dynamodb:PutItem on HistoryTable",
                    "Allow dynamodb:Query on HistoryTable",
                ])
                .chain(tables_at_rest_write)
                .chain(secret)
                .map(String::from)
                .collect(),
        ),
        (
            "FetchFunctionRole",
            [basic, "Allow dynamodb:GetItem on SharesTable", "Allow dynamodb:Query on SharesTable"]
                .into_iter()
                .chain(tables_at_rest_write[..2].iter().copied())
                .chain(secret)
                .map(String::from)
                .collect(),
        ),
        (
            "EjectFunctionRole",
            [basic, "Allow dynamodb:GetItem on SharesTable", "Allow dynamodb:Query on SharesTable", "Allow dynamodb:GetItem on AuditTable", "Allow dynamodb:PutItem on AuditTable", "Allow dynamodb:Query on AuditTable", "Allow kms:GenerateMac on AuditKey"]
                .into_iter()
                .chain(tables_at_rest_write)
                .map(String::from)
                .collect(),
        ),
        (
            "BackupRole",
            [
                "managed arn:${AWS::Partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
                "managed arn:${AWS::Partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
                "Allow kms:Decrypt on AtRestKey",
                "Allow kms:DescribeKey on AtRestKey",
                "Allow kms:Encrypt on AtRestKey",
                "Allow kms:GenerateDataKey* on AtRestKey",
                "Allow kms:ReEncrypt* on AtRestKey",
                "Allow kms:CreateGrant on AtRestKey",
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "CodeDeployServiceRole",
            vec!["managed arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda".to_owned()],
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(roles, expected);
    // With pruning opted into, and only then, the backup function may set an expiry, and TTL
    // on history is on: otherwise a stolen role could set one and let TTL purge history.
    let history_ttl = |resources: &BTreeMap<String, Value>| {
        resources["HistoryTable"]["Properties"]["TimeToLiveSpecification"]["Enabled"].clone()
    };
    assert_eq!(history_ttl(&resources), false);
    let pruning = created("prod", &["HistoryRetentionDays=30"]);
    assert_eq!(history_ttl(&pruning), true);
    let backup = role_permissions(&pruning["BackupFunctionRole"]);
    let expected_backup = &expected["BackupFunctionRole"];
    let added: Vec<&String> = backup
        .iter()
        .filter(|line| !expected_backup.contains(line))
        .collect();
    assert_eq!(added, ["Allow dynamodb:UpdateItem on HistoryTable"]);
    // With an escrow key, and only then, the backup role may Encrypt with it (a key in another
    // account needs an identity policy as well as its key policy), with the share's context.
    let escrow = "arn:aws:kms:eu-west-1:210987654321:key/5e5e5e5e-0000-4000-8000-000000000000";
    let escrowing = created("prod", &[&format!("EscrowKeyArn={escrow}")]);
    for (name, role) in of_type(&escrowing, "AWS::IAM::Role") {
        let added: Vec<String> = role_permissions(role)
            .into_iter()
            .filter(|line| !expected[name].contains(line))
            .collect();
        let wraps = format!(
            "Allow kms:Encrypt on {escrow} if {{ForAllValues:StringEquals: {{kms:EncryptionContextKeys: [clientId, backupMethod]}}, Null: {{kms:EncryptionContext:backupMethod: false, kms:EncryptionContext:clientId: false}}}}"
        );
        let expected_added = match name {
            "BackupFunctionRole" => vec![wraps],
            _ => vec![],
        };
        assert_eq!(added, expected_added, "{name}");
    }
    assert!(escrowing.contains_key("EscrowWrapMissedAlarm"));
    assert!(!resources.contains_key("EscrowWrapMissedAlarm"));
    // No function may use ShareKey through IAM: its key policy alone grants that (tests/it/template.rs).
    for lines in roles.values() {
        assert!(
            lines.iter().all(|line| !line.contains("ShareKey")),
            "{lines:?}"
        );
    }
}

#[test]
fn the_operators_permissions_are_managed_policies_and_only_break_glass_opens_or_seals_a_share() {
    let resources = created("prod", &[]);
    let custody = statements(&resources["CustodyOperatorPolicy"]["Properties"]["PolicyDocument"]);
    let export = statements(&resources["BreakGlassExportPolicy"]["Properties"]["PolicyDocument"]);
    assert!(
        custody.iter().all(|line| !line.contains("ShareKey")),
        "{custody:?}"
    );
    for needed in [
        "Allow dynamodb:Scan on [SharesTable, HistoryTable]",
        "Allow dynamodb:PutItem on [SharesTable, HistoryTable]",
        "Allow dynamodb:Query on AuditTable",
        "Allow dynamodb:Scan on AuditTable",
    ] {
        assert!(
            custody.iter().any(|line| line == needed),
            "custody lacks {needed}: {custody:?}"
        );
    }
    // Only `reconcile --retire` deletes, and only a current row whose copy is already in history
    // (a conditional delete); nothing kept in history or the audit trail can be deleted.
    let deletes: Vec<&String> = custody
        .iter()
        .filter(|line| line.contains("Delete"))
        .collect();
    assert_eq!(
        deletes,
        ["Allow dynamodb:DeleteItem on SharesTable"],
        "{custody:?}"
    );
    assert!(custody.contains(&"Allow dynamodb:UpdateItem on SharesTable".to_owned()));
    // An expiry on history only with pruning opted into (TTL on history is off otherwise).
    let history_expiry = "Allow dynamodb:UpdateItem on HistoryTable".to_owned();
    assert!(!custody.contains(&history_expiry), "{custody:?}");
    let pruning = created("prod", &["HistoryRetentionDays=30"]);
    let custody_pruning =
        statements(&pruning["CustodyOperatorPolicy"]["Properties"]["PolicyDocument"]);
    assert!(
        custody_pruning.contains(&history_expiry),
        "{custody_pruning:?}"
    );
    // Open (export; pair-ids, reseal and restore-pair too), and seal again (reseal,
    // restore-pair) only with the reseal policy, attached for the run: each with the context.
    let with_context = |action: &str, key: &str| {
        format!(
            "Allow {action} on {key} if {{ForAllValues:StringEquals: {{kms:EncryptionContextKeys: [clientId, backupMethod]}}, Null: {{kms:EncryptionContext:backupMethod: false, kms:EncryptionContext:clientId: false}}}}"
        )
    };
    let reseal = statements(&resources["BreakGlassResealPolicy"]["Properties"]["PolicyDocument"]);
    let kms_lines = |lines: &[String]| -> Vec<String> {
        let on_keys = |line: &&String| line.contains("kms:") && !line.contains("kms:ViaService");
        lines.iter().filter(on_keys).cloned().collect()
    };
    assert_eq!(
        kms_lines(&export),
        [
            "Allow kms:GenerateMac on AuditKey".to_owned(),
            with_context("kms:Decrypt", "ShareKey")
        ]
    );
    assert_eq!(reseal, [with_context("kms:GenerateDataKey", "ShareKey")]);
    let escrow = "arn:aws:kms:eu-west-1:210987654321:key/5e5e5e5e-0000-4000-8000-000000000000";
    let escrowing = created("prod", &[&format!("EscrowKeyArn={escrow}")]);
    let reseal_escrowing =
        statements(&escrowing["BreakGlassResealPolicy"]["Properties"]["PolicyDocument"]);
    assert_eq!(
        reseal_escrowing,
        [
            with_context("kms:GenerateDataKey", "ShareKey"),
            with_context("kms:Encrypt", escrow),
        ]
    );
    assert!(
        export
            .iter()
            .all(|line| !line.contains("Put") || line.contains("AuditTable")),
        "{export:?}"
    );
    let outputs = deployed(Some("prod"), &[])["template"]["Outputs"].clone();
    assert_eq!(
        short(&outputs["CustodyOperatorPolicyArn"]["Value"]),
        "CustodyOperatorPolicy"
    );
    assert_eq!(
        short(&outputs["BreakGlassExportPolicyArn"]["Value"]),
        "BreakGlassExportPolicy"
    );
    assert_eq!(
        short(&outputs["BreakGlassResealPolicyArn"]["Value"]),
        "BreakGlassResealPolicy"
    );
}

#[test]
fn portals_functions_have_reserved_concurrency_in_production_and_dev_may_go_without() {
    let prod = created("prod", &["EnableEjectEndpoint=true"]);
    let reserved = |resources: &BTreeMap<String, Value>, name: &str| {
        resources[name]["Properties"]["ReservedConcurrentExecutions"].clone()
    };
    assert_eq!(reserved(&prod, "BackupFunction"), 20);
    assert_eq!(reserved(&prod, "FetchFunction"), 20);
    assert_eq!(reserved(&prod, "EjectFunction"), 5);
    let dev = created("dev", &["EnableEjectEndpoint=true"]);
    assert_eq!(reserved(&dev, "EjectFunction"), Value::Null);
    assert_eq!(
        reserved(&dev, "BackupFunction"),
        Value::Null,
        "0 reserves nothing (0 would stop the function)"
    );
    assert_eq!(reserved(&dev, "FetchFunction"), Value::Null);
    let tuned = created("prod", &["BackupReservedConcurrency=50"]);
    assert_eq!(reserved(&tuned, "BackupFunction"), 50);
}

#[test]
fn every_function_runs_with_the_malloc_setting_its_memory_was_measured_with() {
    let on = created(
        "prod",
        &[
            "EnableEjectEndpoint=true",
            "ClientSharesJwtIssuer=https://users.example.com/",
            "ClientSharesJwtAudience=wallet-app",
            "ClientShareCallerArns=arn:aws:iam::123456789012:role/enclave-backend",
        ],
    );
    let functions = of_type(&on, "AWS::Lambda::Function");
    assert_eq!(functions.len(), 5, "{functions:?}");
    for (name, function) in functions {
        let tunables = &function["Properties"]["Environment"]["Variables"]["GLIBC_TUNABLES"];
        assert_eq!(tunables, local_aws::GLIBC_TUNABLES, "{name}");
    }
}

#[test]
fn a_new_build_reaches_portal_through_the_live_alias_gradually_in_prod_and_rolls_back_on_alarm() {
    for (env, config) in [("prod", "Canary10Percent5Minutes"), ("dev", "AllAtOnce")] {
        let resources = created(env, &[]);
        for function in ["BackupFunction", "FetchFunction"] {
            let alias = &resources[&format!("{function}Aliaslive")];
            assert_eq!(alias["Type"], "AWS::Lambda::Alias");
            assert_eq!(alias["Properties"]["Name"], "live");
            let group = &resources[&format!("{function}DeploymentGroup")]["Properties"];
            assert_eq!(
                group["DeploymentConfigName"]["Fn::Sub"][1]["ConfigName"], config,
                "{env}"
            );
            assert_eq!(
                short(&group["AlarmConfiguration"]["Alarms"]),
                "[{Name: Webhook5xxAlarm}, {Name: WebhookLatencyAlarm}]"
            );
            assert_eq!(group["AlarmConfiguration"]["Enabled"], true);
            assert!(
                list(&group["AutoRollbackConfiguration"]["Events"])
                    .contains(&Value::from("DEPLOYMENT_STOP_ON_ALARM"))
            );
        }
        for (name, permission) in of_type(&resources, "AWS::Lambda::Permission") {
            assert!(
                short(&permission["Properties"]["FunctionName"]).ends_with("Aliaslive"),
                "{env}: {name} invokes $LATEST"
            );
        }
    }
}

#[test]
fn no_retained_resource_has_a_name_a_recreated_stack_would_collide_with() {
    // The property that names a resource of each type that can be retained.
    let name_property = |kind: &Value| match kind.as_str().unwrap() {
        "AWS::DynamoDB::Table" => "TableName",
        "AWS::Logs::LogGroup" => "LogGroupName",
        "AWS::Backup::BackupVault" => "BackupVaultName",
        "AWS::SecretsManager::Secret" => "Name",
        "AWS::Lambda::Function" => "FunctionName",
        "AWS::IAM::Role" => "RoleName",
        "AWS::S3::Bucket" => "BucketName",
        _ => "",
    };
    for (env, overrides) in [
        ("prod", &["EnableEjectEndpoint=true"][..]),
        ("dev", &[][..]),
    ] {
        let resources = created(env, overrides);
        let mut retained = 0;
        for (name, resource) in &resources {
            if resource["DeletionPolicy"] != "Retain" {
                continue;
            }
            retained += 1;
            let property = name_property(&resource["Type"]);
            if let Some(value) = resource["Properties"].get(property) {
                // Named after this stack's creation (its id), or after a resource whose name
                // CloudFormation generates anew (a function's log group).
                let text = value.to_string();
                let generated = text.split("${").skip(1).any(|part| {
                    let target = part.split('}').next().unwrap();
                    resources.get(target).is_some_and(|other| {
                        other["Properties"]
                            .get(name_property(&other["Type"]))
                            .is_none()
                    })
                });
                assert!(
                    text.contains("AWS::StackId") || generated,
                    "{env}: retained {name} has a fixed {property}: {text}"
                );
            }
        }
        assert!(
            retained >= 8,
            "{env}: tables, keys, secret, vault and logs are retained"
        );
        // AWS Backup allows 2 to 50 of [A-Za-z0-9_-] in a vault's name, whatever the stack's.
        let vault = &resources["BackupVault"]["Properties"]["BackupVaultName"]["Fn::Sub"];
        let stack_id = deployed(Some(env), &[])["pseudo"]["AWS::StackId"]
            .as_str()
            .unwrap()
            .to_owned();
        let creation = stack_id
            .rsplit('/')
            .next()
            .unwrap()
            .split('-')
            .next()
            .unwrap();
        let name = vault[0].as_str().unwrap().replace("${Creation}", creation);
        assert!(!name.contains("${"), "{name}: only the creation may vary");
        assert!(
            (2..=50).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{env}: vault name {name}"
        );
    }
}

#[test]
fn a_rebuilt_stack_adopts_existing_tables_and_key_instead_of_creating_new_ones() {
    let resources = created(
        "prod",
        &[
            "ExistingSharesTableName=old-shares",
            "ExistingHistoryTableName=old-history",
            "ExistingAuditTableName=old-audit",
            "ExistingShareKeyArn=arn:aws:kms:us-east-1:123456789012:key/mrk-0123",
            "EnableEjectEndpoint=true",
        ],
    );
    assert!(of_type(&resources, "AWS::DynamoDB::Table").is_empty());
    assert!(!resources.contains_key("ShareKey") && !resources.contains_key("ShareReplicaKey"));
    let variables = &resources["BackupFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(variables["SHARES_TABLE"], "old-shares");
    assert_eq!(variables["HISTORY_TABLE"], "old-history");
    assert_eq!(variables["AUDIT_TABLE"], "old-audit");
    assert_eq!(
        variables["SHARE_KEY_ID"],
        "arn:aws:kms:us-east-1:123456789012:key/mrk-0123"
    );
    let table = |name: &str| {
        format!(
            "arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/${{Existing{name}TableName}}"
        )
    };
    let backup = role_permissions(&resources["BackupFunctionRole"]);
    assert!(
        backup.contains(&format!("Allow dynamodb:PutItem on {}", table("Shares"))),
        "{backup:?}"
    );
    let selection =
        short(&resources["BackupSelection"]["Properties"]["BackupSelection"]["Resources"]);
    assert_eq!(
        selection,
        format!(
            "[{}, {}, {}]",
            table("Shares"),
            table("History"),
            table("Audit")
        )
    );
    assert_eq!(
        short(&resources["ShareKeyAlias"]["Properties"]["TargetKeyId"]),
        "arn:aws:kms:us-east-1:123456789012:key/mrk-0123"
    );
    let outputs =
        deployed(Some("prod"), &["ExistingSharesTableName=old-shares"])["template"]["Outputs"]
            .clone();
    assert_eq!(outputs["SharesTableName"]["Value"], "old-shares");
    assert_eq!(
        short(&outputs["FunctionRoleArns"]["Value"]["Fn::Join"][1]),
        "[BackupFunctionRole, FetchFunctionRole]"
    );
}

#[test]
fn every_alarm_and_every_failed_backup_job_notifies_a_topic_with_a_subscriber() {
    let resources = created(
        "prod",
        &[
            "AlarmEmail=oncall@example.com",
            "EnableEjectEndpoint=true",
            "NoSuccessfulBackupHours=6",
        ],
    );
    let alarms = of_type(&resources, "AWS::CloudWatch::Alarm");
    assert_eq!(
        alarms.len(),
        16,
        "every alarm, eject and NoSuccessfulBackup on"
    );
    for (name, alarm) in alarms {
        assert_eq!(
            short(&alarm["Properties"]["AlarmActions"]),
            "[AlarmTopic]",
            "{name}"
        );
        assert_eq!(
            short(&alarm["Properties"]["OKActions"]),
            "[AlarmTopic]",
            "{name}"
        );
    }
    let subscription = &resources["AlarmSubscription"]["Properties"];
    assert_eq!(subscription["Protocol"], "email");
    assert_eq!(subscription["Endpoint"], "oncall@example.com");
    assert_eq!(short(&subscription["TopicArn"]), "AlarmTopic");
    let rule = &resources["BackupFailedRule"]["Properties"];
    assert_eq!(short(&rule["EventPattern"]["source"]), "[aws.backup]");
    assert_eq!(
        short(&rule["EventPattern"]["detail"]["state"]),
        "[FAILED, ABORTED, EXPIRED]"
    );
    assert!(short(&rule["EventPattern"]["detail-type"]).contains("Copy Job State Change"));
    assert_eq!(short(&rule["Targets"][0]["Arn"]), "AlarmTopic");
    let keys = &resources["KeyEndangeredRule"]["Properties"];
    assert_eq!(
        short(&keys["EventPattern"]["detail"]["eventName"]),
        "[DisableKey, ScheduleKeyDeletion, CancelKeyDeletion, PutKeyPolicy, DisableKeyRotation, ReplicateKey, UpdatePrimaryRegion, DeleteImportedKeyMaterial]"
    );
    assert_eq!(short(&keys["Targets"][0]["Arn"]), "AlarmTopic");
    let topic_policy = statements(&resources["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]);
    assert_eq!(
        topic_policy,
        [
            "Allow sns:Publish on AlarmTopic if {ArnLike: {aws:SourceArn: arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*}, StringEquals: {aws:SourceAccount: AWS::AccountId}}",
            "Allow sns:Publish on AlarmTopic if {ArnEquals: {aws:SourceArn: [BackupFailedRule, KeyEndangeredRule]}}",
        ],
        "a topic policy replaces the default one: the alarms need their own statement"
    );

    // An existing topic instead: every alarm notifies it, and no topic is made.
    let existing = "arn:aws:sns:us-east-1:123456789012:oncall";
    let resources = created("prod", &[&format!("AlarmTopicArn={existing}")]);
    assert!(!resources.contains_key("AlarmTopic"));
    for (name, alarm) in of_type(&resources, "AWS::CloudWatch::Alarm") {
        assert_eq!(
            short(&alarm["Properties"]["AlarmActions"]),
            format!("[{existing}]"),
            "{name}"
        );
    }
}

#[test]
fn prod_refuses_to_deploy_until_someone_receives_its_alarms() {
    let prod = deployed(Some("prod"), &[]);
    assert_eq!(prod["parameters"]["RequireAlarmSubscriber"], "true");
    let rule = &prod["template"]["Rules"]["AlarmsReachSomeone"];
    assert_eq!(
        short(&rule["RuleCondition"]),
        "{Fn::Equals: [RequireAlarmSubscriber, true]}"
    );
    assert_eq!(
        short(&rule["Assertions"][0]["Assert"]),
        "{Fn::Or: [{Fn::Not: [{Fn::Equals: [AlarmEmail, ]}]}, {Fn::Not: [{Fn::Equals: [AlarmTopicArn, ]}]}]}"
    );
    assert_eq!(
        deployed(Some("dev"), &[])["parameters"]["RequireAlarmSubscriber"],
        "false"
    );
}

#[test]
fn the_web_acl_admits_only_portals_addresses_before_throttling_and_never_samples_a_secret() {
    let resources = created("prod", &["EnableWebAcl=true", "EnableEjectEndpoint=true"]);
    let addresses = &resources["WebAclAllowList"]["Properties"]["Addresses"];
    assert_eq!(
        short(addresses),
        "{Fn::Split: [,, 35.203.150.117/32,104.155.171.139/32,35.185.20.23/32]}"
    );
    let acl = &resources["WebAcl"]["Properties"];
    assert_eq!(short(&acl["DefaultAction"]), "{Block: {}}");
    assert_eq!(acl["VisibilityConfig"]["SampledRequestsEnabled"], false);
    let rules = acl["Rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    for rule in rules {
        assert_eq!(rule["VisibilityConfig"]["SampledRequestsEnabled"], false);
        assert_eq!(short(&rule["Action"]), "{Allow: {}}");
    }
    assert_eq!(
        short(&rules[0]["Statement"]),
        "{IPSetReferenceStatement: {Arn: WebAclAllowList}}"
    );
    // The IAM routes that exist (eject alone here), exactly, on the decoded, normalised path.
    let routes = &rules[1]["Statement"]["RegexMatchStatement"];
    assert_eq!(
        short(&routes["RegexString"]),
        "^(?:/${StageName})?/clients/[A-Za-z0-9_~-][A-Za-z0-9._~-]*/(?:${Routes})(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)?$"
    );
    assert_eq!(
        routes["RegexString"]["Fn::Sub"][1]["Routes"],
        "custodian-shares"
    );
    assert_eq!(
        short(&routes["TextTransformations"]),
        "[{Priority: 0, Type: URL_DECODE}, {Priority: 1, Type: COMPRESS_WHITE_SPACE}, {Priority: 2, Type: NORMALIZE_PATH}]"
    );
    let association = &resources["WebAclAssociation"]["Properties"];
    assert_eq!(
        short(&association["ResourceArn"]),
        "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${WebhookApi}/stages/${WebhookApiStage}"
    );
    // Eject off: only Portal's addresses.
    let rules = created("prod", &["EnableWebAcl=true"])["WebAcl"]["Properties"]["Rules"].clone();
    assert_eq!(rules.as_array().unwrap().len(), 1);
    // Off by default, and with the allow-list off (an IP set cannot hold 0.0.0.0/0).
    assert!(!created("prod", &[]).contains_key("WebAcl"));
    assert!(
        !created(
            "prod",
            &["EnableWebAcl=true", "AllowedSourceCidrs=0.0.0.0/0"]
        )
        .contains_key("WebAcl")
    );
}

#[test]
fn the_tables_secret_and_vault_are_encrypted_under_a_customer_key_used_only_through_those_services()
{
    let resources = created("prod", &[]);
    for table in ["SharesTable", "HistoryTable", "AuditTable"] {
        let sse = &resources[table]["Properties"]["SSESpecification"];
        assert_eq!(
            short(sse),
            "{KMSMasterKeyId: AtRestKey, SSEEnabled: true, SSEType: KMS}",
            "{table}"
        );
    }
    assert_eq!(
        short(&resources["WebhookSecret"]["Properties"]["KmsKeyId"]),
        "AtRestKey"
    );
    assert_eq!(
        short(&resources["BackupVault"]["Properties"]["EncryptionKeyArn"]),
        "AtRestKey"
    );
    let key = &resources["AtRestKey"];
    assert_eq!(key["DeletionPolicy"], "Retain");
    assert_eq!(key["Properties"]["EnableKeyRotation"], true);
    let policy = statements(&key["Properties"]["KeyPolicy"]);
    for line in policy
        .iter()
        .filter(|line| line.contains("Decrypt") || line.contains("GenerateDataKey"))
    {
        assert!(
            line.contains("kms:ViaService: [dynamodb.${AWS::Region}.amazonaws.com, secretsmanager.${AWS::Region}.amazonaws.com, backup.${AWS::Region}.amazonaws.com]"),
            "{line}"
        );
    }
    assert!(
        policy.iter().all(|line| !line.contains("ReplicateKey")),
        "a single-region key"
    );
}

#[test]
fn no_webhook_stack_owns_the_accounts_api_gateway_logging_role() {
    for env in ["dev", "prod"] {
        let resources = created(env, &[]);
        assert!(
            of_type(&resources, "AWS::ApiGateway::Account").is_empty(),
            "{env}"
        );
    }
    let setup =
        std::fs::read_to_string(local_aws::repo_root().join("tools/account-setup/template.yaml"))
            .unwrap();
    let setup: serde_norway::Value = serde_norway::from_str(&setup).unwrap();
    for name in ["ApiGatewayLoggingRole", "ApiGatewayAccount"] {
        assert_eq!(
            setup["Resources"][name]["DeletionPolicy"].as_str(),
            Some("Retain"),
            "{name}"
        );
    }
}

#[test]
fn the_template_version_is_the_workspaces_and_the_changelogs_newest() {
    let root = local_aws::repo_root();
    let out = deployed(Some("prod"), &[]);
    let version = out["template"]["Mappings"]["Release"]["Template"]["Version"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        short(&out["template"]["Outputs"]["TemplateVersion"]["Value"]),
        "{Fn::FindInMap: [Release, Template, Version]}"
    );
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(
        cargo.contains(&format!("version = \"{version}\"")),
        "Cargo.toml's workspace version is not {version}"
    );
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).unwrap();
    let newest = changelog
        .lines()
        .find(|line| line.starts_with("## "))
        .unwrap();
    assert!(
        newest.starts_with(&format!("## {version} ")),
        "CHANGELOG.md's newest entry is {newest:?}, not {version}"
    );
}

/// The client-share API (docs/client-shares.md): created only with an issuer; every route it has
/// needs a token API Gateway's JWT authorizer verified for the issuer and audiences given; the
/// stage throttles and logs; the function can touch only the client tables, and only its role
/// (and named client-share operators) may use ClientShareKey, which no custodian role may.
#[test]
fn the_client_share_api_exists_only_with_an_issuer_and_every_route_needs_a_verified_token() {
    let off = created("prod", &[]);
    // SAM gives a conditional function's CodeDeploy group no condition (the eject function's
    // too): an empty deployment group, which nothing uses and which costs nothing.
    let made: Vec<&String> = off
        .iter()
        .filter(|(id, resource)| {
            id.starts_with("Client") && resource["Type"] != "AWS::CodeDeploy::DeploymentGroup"
        })
        .map(|(id, _)| id)
        .collect();
    assert!(
        made.is_empty(),
        "no client-share resource by default: {made:?}"
    );
    let issuer = "https://users.example.com/";
    let on = created(
        "prod",
        &[
            &format!("ClientSharesJwtIssuer={issuer}"),
            "ClientSharesJwtAudience=wallet-app,web",
        ],
    );
    let apis = of_type(&on, "AWS::ApiGatewayV2::Api");
    let [(_, api)] = apis[..] else {
        panic!("one HTTP API: {apis:?}")
    };
    let body = &api["Properties"]["Body"];
    let scheme =
        &body["components"]["securitySchemes"]["AppUsers"]["x-amazon-apigateway-authorizer"];
    assert_eq!(scheme["type"], "jwt");
    assert_eq!(scheme["jwtConfiguration"]["issuer"], issuer);
    assert_eq!(
        short(&scheme["jwtConfiguration"]["audience"]),
        "{Fn::Split: [,, wallet-app,web]}"
    );
    assert_eq!(scheme["identitySource"], "$request.header.Authorization");
    let mut routes = Vec::new();
    for (path, methods) in body["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            assert_eq!(
                operation["security"],
                serde_json::json!([{ "AppUsers": [] }]),
                "{method} {path} without the JWT authorizer"
            );
            routes.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    routes.sort();
    assert_eq!(
        routes,
        [
            "GET /client-backup-shares",
            "GET /client-backup-shares/{backupMethod}",
            "PUT /client-backup-shares/{backupMethod}",
        ]
    );
    let stages = of_type(&on, "AWS::ApiGatewayV2::Stage");
    let [(_, stage)] = stages[..] else {
        panic!("one stage: {stages:?}")
    };
    let stage = &stage["Properties"];
    assert_eq!(stage["DefaultRouteSettings"]["ThrottlingRateLimit"], 200);
    assert_eq!(stage["DefaultRouteSettings"]["ThrottlingBurstLimit"], 400);
    let log_format = stage["AccessLogSettings"]["Format"].as_str().unwrap();
    assert!(!log_format.contains("body") && !log_format.contains("header"));

    let role = role_permissions(&on["ClientBackupSharesFunctionRole"]);
    let at_rest = "if {StringEquals: {kms:ViaService: dynamodb.${AWS::Region}.amazonaws.com}}";
    let mut expected: Vec<String> = vec![
        "managed arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole".into(),
        "Allow dynamodb:GetItem on ClientBackupSharesTable".into(),
        "Allow dynamodb:PutItem on ClientBackupSharesTable".into(),
        "Allow dynamodb:Query on ClientBackupSharesTable".into(),
        "Allow dynamodb:PutItem on ClientBackupShareHistoryTable".into(),
        "Allow dynamodb:Query on ClientBackupShareHistoryTable".into(),
    ];
    for action in [
        "Decrypt",
        "DescribeKey",
        "Encrypt",
        "GenerateDataKey*",
        "ReEncrypt*",
    ] {
        expected.push(format!("Allow kms:{action} on * {at_rest}"));
    }
    assert_eq!(role, expected);
    let env = &on["ClientBackupSharesFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(env["SHARE_KIND"], "client");
    assert_eq!(short(&env["SHARES_TABLE"]), "ClientBackupSharesTable");
    assert_eq!(short(&env["SHARE_KEY_ID"]), "ClientShareKey");
    assert_eq!(env["HISTORY_RETENTION_DAYS"], "0");

    // No single key policy opens both halves of a wallet.
    let principals = |key: &str| key_principals(&on, key);
    assert_eq!(
        principals("ClientShareKey"),
        ["ClientBackupSharesFunctionRole"]
    );
    assert!(
        principals("ShareKey")
            .iter()
            .all(|principal| !principal.contains("ClientBackupShares")),
        "{:?}",
        principals("ShareKey")
    );
    for table in [
        "ClientBackupSharesTable",
        "ClientBackupShareHistoryTable",
        "ClientBackupShareAuditTable",
    ] {
        let properties = &on[table]["Properties"];
        assert_eq!(on[table]["DeletionPolicy"], "Retain", "{table}");
        assert_eq!(properties["DeletionProtectionEnabled"], true, "{table}");
        assert_eq!(
            properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true,
            "{table}"
        );
        assert!(
            properties["TimeToLiveSpecification"].is_null(),
            "{table}: no TTL"
        );
    }
    for alarm in ["ClientBackupSharesErrorsAlarm", "ClientShareReadsAlarm"] {
        assert!(on.contains_key(alarm), "{alarm}");
    }
}

/// The Enclave MPC API's variant (docs/client-shares.md): with ClientShareCallerArns, and without
/// any JWT issuer, the webhook API gains the client-share routes under /clients/{clientId}, each
/// needing SigV4 and denied to every principal not named; its own function and role on the
/// client half's tables and key, which only that role (of the functions) may use; the WAF lets
/// the signed routes through; the custody CLI's client-share policies exist with the tables.
#[test]
fn the_backend_client_share_routes_exist_only_with_caller_arns_and_admit_only_signed_named_callers()
{
    let off = created("prod", &["EnableWebAcl=true"]);
    let made: Vec<&String> = off
        .iter()
        .filter(|(id, resource)| {
            (id.starts_with("Client") || id.starts_with("BackendClient"))
                && resource["Type"] != "AWS::CodeDeploy::DeploymentGroup"
        })
        .map(|(id, _)| id)
        .collect();
    assert!(
        made.is_empty(),
        "nothing of the client half by default: {made:?}"
    );
    assert_eq!(list(&off["WebAcl"]["Properties"]["Rules"]).len(), 1);

    let backend = "arn:aws:iam::123456789012:role/enclave-backend";
    let on = created(
        "prod",
        &[
            &format!("ClientShareCallerArns={backend}"),
            "EnableWebAcl=true",
        ],
    );
    assert!(
        of_type(&on, "AWS::ApiGatewayV2::Api").is_empty(),
        "no app API"
    );
    let body = &on["WebhookApi"]["Properties"]["Body"];
    let mut routes = vec![];
    for (path, methods) in body["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            if path.contains("client-backup-shares") {
                let target = short(&operation["x-amazon-apigateway-integration"]["uri"]);
                assert!(
                    target.contains("BackendClientBackupSharesFunctionAliaslive"),
                    "{target}"
                );
                routes.push(format!(
                    "{method} {path}: {}",
                    short(&operation["security"])
                ));
            }
        }
    }
    assert_eq!(
        routes,
        [
            "get /clients/{clientId}/client-backup-shares: [{AWS_IAM: []}]",
            "get /clients/{clientId}/client-backup-shares/{backupMethod}: [{AWS_IAM: []}]",
            "put /clients/{clientId}/client-backup-shares/{backupMethod}: [{AWS_IAM: []}]",
        ]
    );
    let policy = statements(&body["x-amazon-apigateway-policy"]);
    assert!(
        policy.contains(&format!("Deny execute-api:Invoke on [execute-api:/*/*/clients/*/client-backup-shares, execute-api:/*/*/clients/*/client-backup-shares/*] if {{StringNotEquals: {{aws:PrincipalArn: {{Fn::Split: [,, {backend}]}}}}}}")),
        "{policy:#?}"
    );
    assert!(
        !policy
            .iter()
            .any(|s| s.starts_with("Allow") && s.contains("clients")),
        "no open allow on the signed routes: {policy:#?}"
    );
    let rules = list(&on["WebAcl"]["Properties"]["Rules"]);
    assert_eq!(rules[1]["Name"], "iam-authorised-routes");

    let function = &on["BackendClientBackupSharesFunction"]["Properties"];
    let env = &function["Environment"]["Variables"];
    assert_eq!(env["SHARE_KIND"], "client");
    assert_eq!(env["CLIENT_SHARE_CALLERS"], "backend");
    assert_eq!(short(&env["SHARES_TABLE"]), "ClientBackupSharesTable");
    assert_eq!(short(&env["SHARE_KEY_ID"]), "ClientShareKey");
    let role = role_permissions(&on["BackendClientBackupSharesFunctionRole"]);
    assert!(
        role.iter()
            .filter(|grant| grant.contains("dynamodb:"))
            .all(|grant| grant.contains(" on ClientBackupShare")),
        "{role:#?}"
    );
    let principals = key_principals(&on, "ClientShareKey");
    assert_eq!(principals, ["BackendClientBackupSharesFunctionRole"]);
    for id in [
        "ClientBackupSharesTable",
        "ClientBackupShareHistoryTable",
        "ClientBackupShareAuditTable",
        "BackendClientBackupSharesFunctionLogs",
        "ClientShareCustodyOperatorPolicy",
        "ClientShareBreakGlassExportPolicy",
        "ClientBackupSharesErrorsAlarm",
    ] {
        assert!(on.contains_key(id), "{id}");
    }
    let export =
        statements(&on["ClientShareBreakGlassExportPolicy"]["Properties"]["PolicyDocument"]);
    assert!(
        export
            .iter()
            .any(|s| s.starts_with("Allow kms:Decrypt on ClientShareKey")),
        "{export:#?}"
    );
    assert!(
        !export.iter().any(|s| s.contains("on ShareKey")),
        "{export:#?}"
    );

    // Both APIs on: each function's role, and no other, in ClientShareKey's policy.
    let both = created(
        "prod",
        &[
            &format!("ClientShareCallerArns={backend}"),
            "ClientSharesJwtIssuer=https://users.example.com/",
            "ClientSharesJwtAudience=wallet-app",
        ],
    );
    let principals = key_principals(&both, "ClientShareKey");
    assert_eq!(
        principals,
        [
            "ClientBackupSharesFunctionRole",
            "BackendClientBackupSharesFunctionRole"
        ]
    );
}

#[test]
fn the_scheduled_reconcile_reads_portals_key_and_the_shares_and_can_never_open_one() {
    let off = created("prod", &["AlarmEmail=oncall@example.com"]);
    assert!(
        !off.contains_key("ReconcileFunction"),
        "off unless a key is given"
    );
    let key = "arn:aws:secretsmanager:us-east-1:123456789012:secret:portal-api-key-AbCdEf";
    let on = created(
        "prod",
        &[
            "AlarmEmail=oncall@example.com",
            &format!("PortalApiKeySecretArn={key}"),
        ],
    );
    let function = &on["ReconcileFunction"]["Properties"];
    assert_eq!(function["Timeout"], 900);
    assert_eq!(function["ReservedConcurrentExecutions"], 1);
    let variables = &function["Environment"]["Variables"];
    assert_eq!(variables["PORTAL_API_KEY_SECRET_ARN"], key);
    assert_eq!(variables["RECONCILE_RETIRE"], "false");
    let rules: Vec<String> = of_type(&on, "AWS::Events::Rule")
        .iter()
        .map(|(_, rule)| short(&rule["Properties"]["ScheduleExpression"]))
        .collect();
    assert!(rules.contains(&"rate(1 hour)".to_owned()), "{rules:?}");
    let role = role_permissions(&on["ReconcileFunctionRole"]);
    for granted in [
        format!("Allow secretsmanager:GetSecretValue on {key}"),
        "Allow dynamodb:Query on SharesTable".to_owned(),
        "Allow dynamodb:PutItem on ReconcileStateTable".to_owned(),
    ] {
        assert!(role.contains(&granted), "{granted} missing from {role:#?}");
    }
    // Only through DynamoDB's at-rest encryption: no KMS call of its own, so no share opens.
    assert!(
        role.iter()
            .filter(|line| line.contains(" kms:"))
            .all(|line| line.contains("kms:ViaService: dynamodb.")),
        "{role:#?}"
    );
    assert!(
        !role.iter().any(|line| line.contains("DeleteItem")),
        "no retiring unless asked"
    );
    assert!(
        !key_principals(&on, "ShareKey")
            .iter()
            .any(|p| p.contains("Reconcile"))
    );
    for alarm in ["UnrecoverablePairsAlarm", "ReconcileErrorsAlarm"] {
        assert!(on.contains_key(alarm), "{alarm}");
    }
    let retiring = created(
        "prod",
        &[
            "AlarmEmail=oncall@example.com",
            &format!("PortalApiKeySecretArn={key}"),
            "ReconcileRetires=true",
        ],
    );
    let role = role_permissions(&retiring["ReconcileFunctionRole"]);
    assert!(
        role.contains(&"Allow dynamodb:DeleteItem on SharesTable".to_owned()),
        "{role:#?}"
    );
    assert!(role.contains(&"Allow dynamodb:PutItem on HistoryTable".to_owned()));
}
