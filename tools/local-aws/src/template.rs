//! Reads the DynamoDB tables out of `template.yaml` and creates them in DynamoDB Local.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use serde_norway::Value;

/// A list entry that may be conditional: `!If [Condition, entry, !Ref AWS::NoValue]` gives
/// `(Some(Condition), entry)`, anything else `(None, itself)`.
pub fn conditional(entry: &Value) -> (Option<&str>, &Value) {
    match entry {
        Value::Tagged(tagged) if tagged.tag == "If" => {
            let parts = tagged.value.as_sequence().expect("!If takes a list");
            (parts[0].as_str(), &parts[1])
        }
        _ => (None, entry),
    }
}

/// One `AWS::DynamoDB::Table` of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub logical_id: String,
    /// (attribute name, `HASH` or `RANGE`), partition key first.
    pub key_schema: Vec<(String, String)>,
    /// (attribute name, `S`, `N` or `B`).
    pub attributes: Vec<(String, String)>,
    pub ttl_attribute: Option<String>,
}

pub fn template() -> Value {
    let path = crate::repo_root().join("template.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_norway::from_str(&text).expect("template.yaml is valid YAML")
}

/// A policy statement's `Action`, one action or a list, as a list.
pub fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(action) => vec![action.clone()],
        list => list
            .as_sequence()
            .expect("Action is a string or a list")
            .iter()
            .map(|action| action.as_str().expect("an action name").to_owned())
            .collect(),
    }
}

pub fn table(logical_id: &str) -> TableSpec {
    let template = template();
    let resource = &template["Resources"][logical_id];
    assert_eq!(
        resource["Type"].as_str(),
        Some("AWS::DynamoDB::Table"),
        "{logical_id} in template.yaml"
    );
    let properties = &resource["Properties"];
    let pairs = |list: &Value, first: &str, second: &str| -> Vec<(String, String)> {
        list.as_sequence()
            .expect("a list")
            .iter()
            .map(|entry| (text(&entry[first]), text(&entry[second])))
            .collect()
    };
    let ttl = &properties["TimeToLiveSpecification"];
    TableSpec {
        logical_id: logical_id.to_owned(),
        key_schema: pairs(&properties["KeySchema"], "AttributeName", "KeyType"),
        attributes: pairs(
            &properties["AttributeDefinitions"],
            "AttributeName",
            "AttributeType",
        ),
        // `!If [PruningOn, true, false]`: on, as the tests exercise pruning too.
        ttl_attribute: (ttl["Enabled"].as_bool() == Some(true)
            || conditional(&ttl["Enabled"]).0.is_some())
        .then(|| text(&ttl["AttributeName"])),
    }
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a plain string, got {value:?}"))
        .to_owned()
}

/// Creates `spec` as `name` and waits until it is usable.
pub async fn create_table(client: &Client, spec: &TableSpec, name: &str) {
    let mut create = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for (attribute, key_type) in &spec.key_schema {
        create = create.key_schema(
            KeySchemaElement::builder()
                .attribute_name(attribute)
                .key_type(KeyType::from(key_type.as_str()))
                .build()
                .expect("complete key schema element"),
        );
    }
    for (attribute, kind) in &spec.attributes {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .expect("complete attribute definition"),
        );
    }
    match create.send().await {
        Ok(_) => {}
        // The SDK's retry of a create whose first answer was too slow for it: the table (its
        // name is this test's alone) was made by that first attempt.
        Err(error)
            if matches!(
                error.as_service_error(),
                Some(aws_sdk_dynamodb::operation::create_table::CreateTableError::ResourceInUseException(_))
            ) => {}
        Err(error) => panic!("creating {name}: {error:?}"),
    }
    if let Some(attribute) = &spec.ttl_attribute {
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(true)
            .build()
            .expect("ttl");
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(ttl)
            .send()
            .await
            .unwrap_or_else(|e| panic!("enabling TTL on {name}: {e:?}"));
    }
}

/// `template.yaml` as CloudFormation will create it, for one set of parameters: the SAM
/// transform (aws-sam-translator, in `.tools/venv` from `scripts/tools.sh sam`), then every
/// condition decided (`tools/deployed/transform.py`). Parameters: the template's defaults, the
/// config-env's `parameter_overrides` in samconfig.toml, then `overrides` (`Name=Value`).
/// Returns `{"parameters", "pseudo", "template"}`.
pub fn deployed(config_env: Option<&str>, overrides: &[&str]) -> serde_json::Value {
    let root = crate::repo_root();
    let python = root.join(".tools/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/tools.sh sam (make test does)",
        python.display()
    );
    let mut command = std::process::Command::new(python);
    command.arg(root.join("tools/deployed/transform.py"));
    if let Some(env) = config_env {
        command.args(["--config-env", env]);
    }
    let output = command
        .args(overrides)
        .output()
        .expect("running transform.py");
    assert!(
        output.status.success(),
        "transform.py {config_env:?} {overrides:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("transform.py prints JSON")
}
